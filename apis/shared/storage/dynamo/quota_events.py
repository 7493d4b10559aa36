"""The Query behind a page of quota events (layout in quota_items.py): one partition, newest first, a key range.

The range runs from `since` (or the start) to the page token's event (or the end); DynamoDB's BETWEEN includes
both bounds, so the token's own event may come back and the caller drops it. Filters the partition does not
key on (the event type, and the tier within a user's partition) are filter expressions, read on past.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apis.shared.quota.models import QuotaEventType
from apis.shared.storage.dynamo import quota_items as codec
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import serialize

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

# Stored timestamps begin with a digit: "0" sorts below every position, "~" above.
_START = "0"
_END = "~"


def events_request(
    table_name: str,
    *,
    user_id: str | None,
    tier_id: str | None,
    event_type: QuotaEventType | None,
    since: str | None,
    below: tuple[str, str] | None,
) -> tuple[QueryInputTypeDef, tuple[str, str] | None] | None:
    """The Query, and (attribute, value) naming the token's own event if it may come back; None for a range
    that is empty (`since` after the token's event)."""
    if user_id is not None:
        index, partition, prefix = None, schema.user_pk(user_id), codec.EVENT_SK_PREFIX
        pk_name, sk_name = schema.PARTITION_KEY, schema.SORT_KEY
    elif tier_id is not None:
        index, partition, prefix = schema.QUOTA_EVENTS_BY_TIER, codec.tier_events_pk(tier_id), ""
        pk_name, sk_name = index.partition_key, index.sort_key
    else:
        index, partition, prefix = schema.BY_KIND, codec.ALL_EVENTS, ""
        pk_name, sk_name = index.partition_key, index.sort_key
    lower = prefix + (since or _START)
    upper = prefix + (codec.event_position(*below) if below else _END)
    if lower > upper:
        return None
    names = {"#pk": pk_name, "#sk": sk_name}
    values: dict[str, Any] = {":pk": partition, ":lower": lower, ":upper": upper}
    filters = []
    if user_id is not None and tier_id is not None:
        names["#tier"], values[":tier"] = "tierId", tier_id
        filters.append("#tier = :tier")
    if event_type is not None:
        names["#type"], values[":type"] = "eventType", event_type.value
        filters.append("#type = :type")
    request: QueryInputTypeDef = {
        "TableName": table_name,
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :lower AND :upper",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": serialize(values),
        "ScanIndexForward": False,
    }
    if filters:
        request["FilterExpression"] = " AND ".join(filters)
    if index is None:
        request["ConsistentRead"] = True
    else:
        request["IndexName"] = index.name
    return request, (sk_name, upper) if below else None
