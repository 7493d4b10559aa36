"""QuotaRepository on DynamoDB: the layout is in quota_items.py, the events' Query in quota_events.py.

The port's atomic rules hold through conditions and transactions: a tier counts the assignments that name it
(`assignmentCount`, changed by ADD in the same transaction as the assignment), so an assignment cannot name a
tier that is gone and a tier in use cannot be deleted; a claim item per user or app role makes their assignment
unique. Lists of tiers, assignments and overrides read their one partition (or a target's slice of it on lsi1),
strongly consistent. Nothing here scans.
"""

from __future__ import annotations

from functools import partial
from typing import Any, TypeVar

from apis.shared.clock import now_iso
from apis.shared.errors import StorageUnavailableError
from apis.shared.pagination import Page
from apis.shared.quota.exceptions import AssignmentExists, TierExists, TierInUse, UnknownTier
from apis.shared.quota.models import (
    AssignmentType,
    QuotaAssignment,
    QuotaEvent,
    QuotaEventType,
    QuotaOverride,
    QuotaTier,
)
from apis.shared.quota.repository import (
    UNIQUE_TARGET_TYPES,
    event_cursor,
    event_token,
    in_end_order,
    in_priority_order,
)
from apis.shared.quota.schemas import QuotaAssignmentUpdate, QuotaOverrideUpdate, QuotaTierUpdate
from apis.shared.storage.dynamo import quota_items as codec
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, Table, serialize, set_expression
from apis.shared.storage.dynamo.quota_events import events_request
from apis.shared.storage.records import read_or_raise, read_or_skip

M = TypeVar("M", QuotaTier, QuotaAssignment, QuotaOverride)
_EVERY = 1_000_000
_FAILED = "ConditionalCheckFailed"
_NEW = "attribute_not_exists(pk)"
# An assignment changed between our read and our write is read again; so many times at most.
_RACE_ATTEMPTS = 5


def _one(model: type[M], kind: str, name: str, item: Item | None) -> M | None:
    """The record in `item`, or None without one; CorruptRecord when it no longer validates."""
    return None if item is None else read_or_raise(kind, name, partial(codec.record_of, model, item))


def _all(model: type[M], kind: str, items: list[Item]) -> list[M]:
    """The records of `items`, leaving out (logged and counted) those that no longer validate."""
    readable = (read_or_skip(kind, str(item["sk"]["S"]), partial(codec.record_of, model, item)) for item in items)
    return [record for record in readable if record is not None]


def _sent(changes: QuotaTierUpdate | QuotaAssignmentUpdate | QuotaOverrideUpdate) -> dict[str, Any]:
    """Attribute name -> new value of each sent field (JSON-ready: a moment or an enum is its string)."""
    values = changes.model_dump(mode="json")
    return {type(changes).model_fields[name].alias or name: values[name] for name in changes.model_fields_set}


class DynamoQuotaRepository:
    """Quota tiers, assignments, overrides and events in the shared table."""

    def __init__(self, table: Table) -> None:
        self._table = table

    async def _get(self, key: Item) -> Item | None:
        get_item = partial(self._table.client.get_item, TableName=self._table.name, Key=key, ConsistentRead=True)
        item: Item | None = (await self._table.run(get_item)).get("Item")
        return item

    async def _partition(self, pk: str, prefix: str, *, on_list_index: bool = False) -> list[Item]:
        """Every item of partition `pk` whose sort key (lsi1sk on the list index) begins with `prefix`."""
        request: Any = {
            "TableName": self._table.name,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {
                "#pk": schema.PARTITION_KEY,
                "#sk": codec.LIST_SK if on_list_index else schema.SORT_KEY,
            },
            "ExpressionAttributeValues": serialize({":pk": pk, ":prefix": prefix}),
            "ConsistentRead": True,
        }
        if on_list_index:
            request["IndexName"] = schema.QUOTA_LISTS.name
        return await self._table.query(request, want=_EVERY, page_size=1000)

    async def _transact(self, *actions: dict[str, Any]) -> list[str] | None:
        """Write `actions` atomically: None when written, else each action's reason code."""
        batch: list[Any] = list(actions)
        reasons = await self._table.transact(batch)
        return None if reasons is None else [reason.code for reason in reasons]

    def _put(self, item: Item) -> dict[str, Any]:
        return {"Put": {"TableName": self._table.name, "Item": item, "ConditionExpression": _NEW}}

    def _count(self, tier_id: str, step: int, *, must_exist: bool) -> dict[str, Any]:
        """Move a tier's assignment count by `step`. A decrement needs no condition: the count it lowers keeps
        the tier from being deleted."""
        update: dict[str, Any] = {
            "TableName": self._table.name,
            "Key": codec.tier_key(tier_id),
            "UpdateExpression": "ADD #count :step",
            "ExpressionAttributeNames": {"#count": codec.ASSIGNMENT_COUNT},
            "ExpressionAttributeValues": {":step": {"N": str(step)}},
        }
        if must_exist:
            update["ConditionExpression"] = "attribute_exists(pk)"
        return {"Update": update}

    async def _set(self, key: Item, attributes: dict[str, Any], *, tier_id: str | None = None) -> Item | None:
        """Set `attributes` on an existing item (one that still names `tier_id`, if given); None otherwise."""
        expression, names, values = set_expression(attributes)
        condition = "attribute_exists(pk)"
        if tier_id is not None:
            names["#tier"], values[":tier"] = "tierId", {"S": tier_id}
            condition = "#tier = :tier"
        return await self._table.update_existing(key, expression, names, values, condition=condition)

    async def get_tier(self, tier_id: str) -> QuotaTier | None:
        return _one(QuotaTier, "quota tier", tier_id, await self._get(codec.tier_key(tier_id)))

    async def list_tiers(self) -> list[QuotaTier]:
        tiers = _all(QuotaTier, "quota tier", await self._partition(codec.TIERS_PK, codec.TIER_SK_PREFIX))
        return sorted(tiers, key=lambda tier: tier.tier_id)

    async def create_tier(self, tier: QuotaTier) -> QuotaTier:
        if await self._transact(self._put(codec.tier_item(tier))) is not None:
            raise TierExists(f"tier {tier.tier_id} exists already")
        return tier

    async def update_tier(self, tier_id: str, changes: QuotaTierUpdate) -> QuotaTier | None:
        item = await self._set(codec.tier_key(tier_id), {**_sent(changes), "updatedAt": now_iso()})
        return _one(QuotaTier, "quota tier", tier_id, item)

    async def delete_tier(self, tier_id: str) -> bool:
        delete = {
            "TableName": self._table.name,
            "Key": codec.tier_key(tier_id),
            "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(#count) OR #count = :zero)",
            "ExpressionAttributeNames": {"#count": codec.ASSIGNMENT_COUNT},
            "ExpressionAttributeValues": {":zero": {"N": "0"}},
        }
        if await self._transact({"Delete": delete}) is None:
            return True
        if await self._get(codec.tier_key(tier_id)) is None:
            return False
        raise TierInUse(f"tier {tier_id} is assigned: delete or reassign its assignments first")

    async def get_assignment(self, assignment_id: str) -> QuotaAssignment | None:
        item = await self._get(codec.assignment_key(assignment_id))
        return _one(QuotaAssignment, "quota assignment", assignment_id, item)

    async def list_assignments(self, assignment_type: AssignmentType | None = None) -> list[QuotaAssignment]:
        if assignment_type is None:
            items = await self._partition(codec.ASSIGNMENTS_PK, codec.ASSIGNMENT_SK_PREFIX)
        else:
            prefix = codec.target_prefix(assignment_type.value)
            items = await self._partition(codec.ASSIGNMENTS_PK, prefix, on_list_index=True)
        return in_priority_order(_all(QuotaAssignment, "quota assignment", items))

    async def find_assignments(self, assignment_type: AssignmentType, target: str) -> list[QuotaAssignment]:
        prefix = codec.target_prefix(assignment_type.value, target)
        items = await self._partition(codec.ASSIGNMENTS_PK, prefix, on_list_index=True)
        return in_priority_order(_all(QuotaAssignment, "quota assignment", items))

    async def create_assignment(self, assignment: QuotaAssignment) -> QuotaAssignment:
        actions = [self._count(assignment.tier_id, 1, must_exist=True), self._put(codec.assignment_item(assignment))]
        if assignment.assignment_type in UNIQUE_TARGET_TYPES:
            actions.append(self._put(codec.claim_item(assignment)))
        reasons = await self._transact(*actions)
        if reasons is None:
            return assignment
        if reasons[0] == _FAILED:
            raise UnknownTier(f"tier {assignment.tier_id} does not exist")
        if reasons[-1] == _FAILED and len(reasons) == 3:
            raise AssignmentExists(f"{assignment.target} has a {assignment.assignment_type.value} assignment already")
        raise self._table.busy()  # the new id was taken: not a UUIDv7 of ours

    async def update_assignment(self, assignment_id: str, changes: QuotaAssignmentUpdate) -> QuotaAssignment | None:
        for _ in range(_RACE_ATTEMPTS):
            current = await self.get_assignment(assignment_id)
            if current is None:
                return None
            updated = changes.apply_to(current, updated_at=now_iso())
            attributes = {**_sent(changes), "updatedAt": updated.updated_at}
            key = codec.assignment_key(assignment_id)
            if updated.tier_id == current.tier_id:
                item = await self._set(key, attributes, tier_id=current.tier_id)
                if item is not None:
                    return _one(QuotaAssignment, "quota assignment", assignment_id, item)
            elif await self._move(current, updated, attributes):
                return updated
            # Deleted, or moved to another tier, since it was read: read it again.
        raise StorageUnavailableError("the assignment keeps changing under this update: try again shortly")

    async def _move(self, current: QuotaAssignment, updated: QuotaAssignment, attributes: dict[str, Any]) -> bool:
        """Write an assignment that names another tier and move the counts; False if it changed meanwhile."""
        expression, names, values = set_expression(attributes)
        names["#tier"], values[":old"] = "tierId", {"S": current.tier_id}
        update = {
            "TableName": self._table.name,
            "Key": codec.assignment_key(current.assignment_id),
            "UpdateExpression": expression,
            "ConditionExpression": "#tier = :old",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        reasons = await self._transact(
            {"Update": update},
            self._count(current.tier_id, -1, must_exist=False),
            self._count(updated.tier_id, 1, must_exist=True),
        )
        if reasons is not None and reasons[2] == _FAILED:
            raise UnknownTier(f"tier {updated.tier_id} does not exist")
        return reasons is None

    async def delete_assignment(self, assignment_id: str) -> bool:
        for _ in range(_RACE_ATTEMPTS):
            current = await self.get_assignment(assignment_id)
            if current is None:
                return False
            delete = {
                "TableName": self._table.name,
                "Key": codec.assignment_key(assignment_id),
                "ConditionExpression": "#tier = :tier",
                "ExpressionAttributeNames": {"#tier": "tierId"},
                "ExpressionAttributeValues": {":tier": {"S": current.tier_id}},
            }
            actions = [{"Delete": delete}, self._count(current.tier_id, -1, must_exist=False)]
            if current.assignment_type in UNIQUE_TARGET_TYPES:
                actions.append({"Delete": {"TableName": self._table.name, "Key": codec.claim_key(current)}})
            if await self._transact(*actions) is None:
                return True
        raise StorageUnavailableError("the assignment keeps changing under this delete: try again shortly")

    async def get_override(self, override_id: str) -> QuotaOverride | None:
        return _one(QuotaOverride, "quota override", override_id, await self._get(codec.override_key(override_id)))

    async def list_overrides(self, user_id: str | None = None) -> list[QuotaOverride]:
        if user_id is None:
            items = await self._partition(codec.OVERRIDES_PK, codec.OVERRIDE_SK_PREFIX)
        else:
            items = await self._partition(codec.OVERRIDES_PK, codec.user_overrides_prefix(user_id), on_list_index=True)
        return in_end_order(_all(QuotaOverride, "quota override", items))

    async def create_override(self, override: QuotaOverride) -> QuotaOverride:
        if await self._transact(self._put(codec.override_item(override))) is not None:
            raise self._table.busy()  # the new id was taken: not a UUIDv7 of ours
        return override

    async def update_override(self, override_id: str, changes: QuotaOverrideUpdate) -> QuotaOverride | None:
        item = await self._set(codec.override_key(override_id), _sent(changes))
        return _one(QuotaOverride, "quota override", override_id, item)

    async def delete_override(self, override_id: str) -> bool:
        delete_item = partial(
            self._table.client.delete_item,
            TableName=self._table.name,
            Key=codec.override_key(override_id),
            ReturnValues="ALL_OLD",
        )
        return "Attributes" in await self._table.run(delete_item)

    async def record_event(self, event: QuotaEvent) -> None:
        put_item = partial(self._table.client.put_item, TableName=self._table.name, Item=codec.event_item(event))
        await self._table.run(put_item)

    async def record_event_once(self, event: QuotaEvent) -> bool:
        """The claim and the event in one transaction: a claim taken already cancels both (see quota_items.py)."""
        claim = self._put(codec.once_key(event))
        put_event = {"Put": {"TableName": self._table.name, "Item": codec.event_item(event)}}
        return await self._transact(claim, put_event) is None

    async def list_events(
        self,
        *,
        user_id: str | None = None,
        tier_id: str | None = None,
        event_type: QuotaEventType | None = None,
        since: str | None = None,
        limit: int,
        page_token: str | None = None,
    ) -> Page[QuotaEvent]:
        below = event_cursor(page_token)
        query = events_request(
            self._table.name, user_id=user_id, tier_id=tier_id, event_type=event_type, since=since, below=below
        )
        if query is None:
            return Page(items=[], next_token=None)
        request, cursor = query
        items = await self._table.query(request, want=limit + 2, page_size=100)
        # The range's upper bound is inclusive: the event the token names may come back first, and is dropped.
        items = [item for item in items if cursor is None or item[cursor[0]]["S"] != cursor[1]]
        readable = (
            read_or_skip("quota event", str(item["sk"]["S"]), partial(codec.event_of, item)) for item in items[:limit]
        )
        events = [event for event in readable if event is not None]
        more = len(items) > limit and bool(events)
        return Page(items=events, next_token=event_token(events[-1]) if more else None)
