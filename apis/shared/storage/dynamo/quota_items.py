"""Keys of quotas in the shared table, and how records become items and back.

    tier        pk=QUOTA_TIERS        sk=TIER#{tierId}            the record, and assignmentCount (ADD)
    assignment  pk=QUOTA_ASSIGNMENTS  sk=ASSIGNMENT#{id}          lsi1sk={type}#{target}#{id}
    claim       pk=QUOTA_ASSIGNMENTS  sk=CLAIM#{type}#{target}    assignmentId (a user's or an app role's one)
    override    pk=QUOTA_OVERRIDES    sk=OVERRIDE#{id}            lsi1sk=USER#{userId}#{id}
    event       pk=USER#{userId}      sk=QUOTA_EVENT#{timestamp}#{eventId}
                gsi1pk=QUOTA_EVENTS   gsi1sk={timestamp}#{eventId}                    every event
                gsi7pk=QUOTA_EVENTS_OF_TIER#{tierId}  gsi7sk={timestamp}#{eventId}    one tier's events
    once        pk=USER#{userId}      sk=QUOTA_ONCE#{eventId}     the claim of an event recorded once

Tiers, assignments and overrides are few and admin-made: each kind has one partition, read by a strongly
consistent Query, and lsi1 (the table's local index) orders a partition a second way, so an assignment's
target and a user's overrides are found by a `begins_with` on it without reading the others. Targets, user
ids and tier ids are escaped (`#`), so a prefix ending in `#` names exactly one of them. An event lives in its
user's partition, beside their sessions (it carries no lsi1sk, so the session list never sees it), and joins
gsi1 and gsi7 for the lists across users. An event recorded once (a warning per period and threshold) is
written in one transaction with its claim, whose condition (no such item yet) lets exactly one writer through.
Attributes are the records' camelCase fields; an event's free-form `metadata` is kept as a JSON string, so its
numbers come back as they went in.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel

from apis.shared.quota.models import QuotaAssignment, QuotaEvent, QuotaOverride, QuotaTier
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, deserialize, serialize

TIERS_PK = "QUOTA_TIERS"
TIER_SK_PREFIX = "TIER#"
ASSIGNMENTS_PK = "QUOTA_ASSIGNMENTS"
ASSIGNMENT_SK_PREFIX = "ASSIGNMENT#"
CLAIM_SK_PREFIX = "CLAIM#"
OVERRIDES_PK = "QUOTA_OVERRIDES"
OVERRIDE_SK_PREFIX = "OVERRIDE#"
EVENT_SK_PREFIX = "QUOTA_EVENT#"
ONCE_SK_PREFIX = "QUOTA_ONCE#"
ALL_EVENTS = "QUOTA_EVENTS"
ASSIGNMENT_COUNT = "assignmentCount"
METADATA = "metadata"
METADATA_JSON = "metadataJson"
LIST_SK = schema.QUOTA_LISTS.sort_key  # lsi1sk: each kind's second order, see the docstring

M = TypeVar("M", bound=BaseModel)


def _fields(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(field.alias or name for name, field in model.model_fields.items())


def record_of(model: type[M], item: Item) -> M:
    """The record in an item: its own attributes only (keys, index keys and counters are left out)."""
    values = deserialize(item)
    return model.model_validate({name: values[name] for name in _fields(model) if name in values})


def attributes(record: BaseModel) -> dict[str, Any]:
    """A record's attributes, by their camelCase names."""
    return record.model_dump(mode="json", by_alias=True)


def key(pk: str, sk: str) -> Item:
    return serialize({schema.PARTITION_KEY: pk, schema.SORT_KEY: sk})


def tier_key(tier_id: str) -> Item:
    return key(TIERS_PK, f"{TIER_SK_PREFIX}{schema.escape(tier_id)}")


def tier_item(tier: QuotaTier) -> Item:
    return {**tier_key(tier.tier_id), **serialize(attributes(tier))}


def assignment_key(assignment_id: str) -> Item:
    return key(ASSIGNMENTS_PK, f"{ASSIGNMENT_SK_PREFIX}{schema.escape(assignment_id)}")


def target_prefix(assignment_type: str, target: str | None = None) -> str:
    """lsi1sk's prefix of a type's assignments, or of one target's (then it ends in `#` after the target)."""
    return f"{assignment_type}#" if target is None else f"{assignment_type}#{schema.escape(target)}#"


def assignment_item(assignment: QuotaAssignment) -> Item:
    values = attributes(assignment)
    values[LIST_SK] = f"{target_prefix(assignment.assignment_type.value, assignment.target)}{assignment.assignment_id}"
    return {**assignment_key(assignment.assignment_id), **serialize(values)}


def claim_key(assignment: QuotaAssignment) -> Item:
    return key(ASSIGNMENTS_PK, f"{CLAIM_SK_PREFIX}{target_prefix(assignment.assignment_type.value, assignment.target)}")


def claim_item(assignment: QuotaAssignment) -> Item:
    return {**claim_key(assignment), **serialize({"assignmentId": assignment.assignment_id})}


def override_key(override_id: str) -> Item:
    return key(OVERRIDES_PK, f"{OVERRIDE_SK_PREFIX}{schema.escape(override_id)}")


def user_overrides_prefix(user_id: str) -> str:
    return f"USER#{schema.escape(user_id)}#"


def override_item(override: QuotaOverride) -> Item:
    values = attributes(override)
    values[LIST_SK] = f"{user_overrides_prefix(override.user_id)}{override.override_id}"
    return {**override_key(override.override_id), **serialize(values)}


def event_position(timestamp: str, event_id: str) -> str:
    """Timestamps are fixed-width UTC, so positions sort as (timestamp, event id)."""
    return f"{timestamp}#{event_id}"


def tier_events_pk(tier_id: str) -> str:
    return f"QUOTA_EVENTS_OF_TIER#{schema.escape(tier_id)}"


def once_key(event: QuotaEvent) -> Item:
    """The claim of an event recorded once; no index key, so no list ever reads it."""
    return key(schema.user_pk(event.user_id), f"{ONCE_SK_PREFIX}{schema.escape(event.event_id)}")


def event_item(event: QuotaEvent) -> Item:
    values = attributes(event)
    metadata = values.pop(METADATA)
    position = event_position(event.timestamp, event.event_id)
    values.update(
        {
            schema.PARTITION_KEY: schema.user_pk(event.user_id),
            schema.SORT_KEY: f"{EVENT_SK_PREFIX}{position}",
            schema.BY_KIND.partition_key: ALL_EVENTS,
            schema.BY_KIND.sort_key: position,
            schema.QUOTA_EVENTS_BY_TIER.partition_key: tier_events_pk(event.tier_id),
            schema.QUOTA_EVENTS_BY_TIER.sort_key: position,
        }
    )
    if metadata is not None:
        values[METADATA_JSON] = json.dumps(metadata, separators=(",", ":"))
    return serialize(values)


def event_of(item: Item) -> QuotaEvent:
    values = deserialize(item)
    if METADATA_JSON in values:
        values[METADATA] = json.loads(str(values[METADATA_JSON]))
    return QuotaEvent.model_validate({name: values[name] for name in _fields(QuotaEvent) if name in values})
