"""The table calls of the knowledge base: batched writes and reads that finish what DynamoDB leaves unprocessed,
whole partitions read or counted, single items.

BatchWriteItem takes 25 requests and BatchGetItem 100 keys a call; either may hand some back unprocessed when a
partition is busy. Those are sent again after a jittered backoff, BATCH_ATTEMPTS times at most, and then the
call fails with StorageUnavailableError: a write never half succeeds in silence. Everything else is translated
by `Table.run` (errors.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from apis.shared.storage.dynamo.client import BATCH_ATTEMPTS, BATCH_WRITE_LIMIT, Item, Table, backoff

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

BATCH_GET_LIMIT = 100
_EVERYTHING = 1_000_000
_PAGE = 1000


async def batch_write(table: Table, requests: Sequence[Any]) -> None:
    """PutRequests and DeleteRequests, 25 to a BatchWriteItem, each batch retried until DynamoDB took all of it."""
    for first in range(0, len(requests), BATCH_WRITE_LIMIT):
        pending: Sequence[Any] = requests[first : first + BATCH_WRITE_LIMIT]
        for attempt in range(BATCH_ATTEMPTS):
            response = await table.run(partial(table.client.batch_write_item, RequestItems={table.name: pending}))
            pending = response.get("UnprocessedItems", {}).get(table.name, [])
            if not pending:
                break
            await backoff(attempt)
        else:
            raise table.busy()


async def put_items(table: Table, items: Sequence[Item]) -> None:
    await batch_write(table, [{"PutRequest": {"Item": item}} for item in items])


async def delete_keys(table: Table, keys: Sequence[Item]) -> None:
    """Delete by key; a key with no item is no error."""
    await batch_write(table, [{"DeleteRequest": {"Key": key}} for key in keys])


async def batch_get(table: Table, keys: Sequence[Item], *, consistent: bool) -> list[Item]:
    """The items of `keys` that exist, in no particular order, 100 keys to a BatchGetItem."""
    found: list[Item] = []
    for first in range(0, len(keys), BATCH_GET_LIMIT):
        pending: Any = {table.name: {"Keys": list(keys[first : first + BATCH_GET_LIMIT]), "ConsistentRead": consistent}}
        for attempt in range(BATCH_ATTEMPTS):
            response = await table.run(partial(table.client.batch_get_item, RequestItems=pending))
            found.extend(response["Responses"].get(table.name, []))
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
            await backoff(attempt)
        else:
            raise table.busy()
    return found


async def get_item(table: Table, key: Item, *, consistent: bool = True) -> Item | None:
    call = partial(table.client.get_item, TableName=table.name, Key=key, ConsistentRead=consistent)
    found: Item | None = (await table.run(call)).get("Item")
    return found


def _key_condition(pk: str, prefix: str) -> tuple[str, Item]:
    if not prefix:
        return "pk = :pk", {":pk": {"S": pk}}
    return "pk = :pk AND begins_with(sk, :prefix)", {":pk": {"S": pk}, ":prefix": {"S": prefix}}


async def query_partition(table: Table, pk: str, prefix: str = "", *, consistent: bool = True) -> list[Item]:
    """Every item of the partition whose sort key starts with `prefix`, in sort key order, page after page."""
    condition, values = _key_condition(pk, prefix)
    request: QueryInputTypeDef = {
        "TableName": table.name,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ConsistentRead": consistent,
    }
    return await table.query(request, want=_EVERYTHING, page_size=_PAGE)


async def count_partition(table: Table, pk: str, prefix: str = "") -> int:
    """How many items of the partition have a sort key starting with `prefix`: Query with Select=COUNT, to the end.

    DynamoDB still reads (and charges for) the items it counts, 1 MB a page, but sends none of them.
    """
    total = 0
    start: Item | None = None
    while True:
        condition, values = _key_condition(pk, prefix)
        request: dict[str, Any] = {
            "TableName": table.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        if start is not None:
            request["ExclusiveStartKey"] = start
        response = await table.run(partial(table.client.query, **request))
        total += response["Count"]
        start = response.get("LastEvaluatedKey")
        if start is None:
            return total
