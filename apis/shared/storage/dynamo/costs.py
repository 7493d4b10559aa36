"""CostRepository on DynamoDB: a totals item per user and month and an item per model (layout in cost_items.py).

`add` sends one TransactWriteItems of two UpdateItem actions whose `ADD` clauses the server applies to the
stored numbers, so concurrent turns on any number of instances all count and the two items never disagree.
botocore gives the call a ClientRequestToken that its own retries reuse, so a retry after a lost response
is not counted twice; our retries follow a cancelled transaction only, which wrote nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apis.shared.clock import now_iso
from apis.shared.costs.models import CostEntry, CostSummary
from apis.shared.errors import StorageError
from apis.shared.storage.dynamo import cost_items as codec
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, Table
from apis.shared.storage.dynamo.errors import record

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

# A month holds its totals and one item per model used: far fewer than this many, which bounds the read.
_MAX_MONTH_ITEMS = 10_000


def _increment(
    table: Table, key: Item, counters: dict[str, Item], assigned: dict[str, str]
) -> TransactWriteItemTypeDef:
    expression, names, values = codec.add_expression(counters, assigned)
    return {
        "Update": {
            "TableName": table.name,
            "Key": key,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def cost_actions(table: Table, entry: CostEntry, at: str) -> list[TransactWriteItemTypeDef]:
    """The two unconditional increments that count `entry`: its month's totals and its model's share.

    The sessions repository sends them in the same transaction as the message they price.
    """
    return [
        _increment(
            table, codec.month_key(entry.user_id, entry.period), codec.month_counters(entry), {codec.UPDATED_AT: at}
        ),
        _increment(
            table,
            codec.model_key(entry.user_id, entry.period, entry.model_id),
            codec.model_counters(entry),
            {codec.MODEL_ID: entry.model_id, codec.PROVIDER: entry.provider, codec.UPDATED_AT: at},
        ),
    ]


class DynamoCostRepository:
    """Monthly cost totals in the shared table; see cost_items.py for the item layout."""

    def __init__(self, table: Table) -> None:
        self._table = table

    async def add(self, entry: CostEntry) -> None:
        if await self._table.transact(cost_actions(self._table, entry, now_iso())) is not None:
            # Neither action has a condition, so DynamoDB cannot report one as failed: a bug if it does.
            raise record(StorageError(f"{self._table.resource} refused a cost update; the service log has the details"))

    async def get_summary(self, user_id: str, period: str) -> CostSummary:
        # One strongly consistent Query reads the month. It is read-committed, not a snapshot: read while an
        # `add` lands, the totals may already include a turn that a model's share does not show yet.
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": schema.PARTITION_KEY, "#sk": schema.SORT_KEY},
            "ExpressionAttributeValues": {
                ":pk": {"S": schema.user_pk(user_id)},
                ":prefix": {"S": codec.month_sk(period)},
            },
            "ConsistentRead": True,
        }
        items = await self._table.query(request, want=_MAX_MONTH_ITEMS)
        return codec.summary_from_items(user_id, period, items)
