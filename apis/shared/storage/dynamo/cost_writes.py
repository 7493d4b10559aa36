"""The write that counts a cost entry on DynamoDB: eight UpdateItem actions in one TransactWriteItems, sent on its
own (`DynamoCostRepository.add`) or with the message it prices (the sessions repository).

    the user's month, month model, day and day model    (cost_items.py)
    the system's month, month model, day and day model  (cost_rollups.py, one shard picked at random)

Active users are counted once, atomically, without a marker item that could fail the turn. Before the write,
one consistent BatchGetItem asks whether the user already has totals of the entry's month, day and month
model. Each that is absent is written with the condition `attribute_not_exists(pk)` and, in the same
transaction, adds 1 to the system's active users (or the model's unique users). Two first writes racing: one
creates the item and counts the user; the other's condition fails, which cancels its whole transaction
(nothing of it is written) and `retried` reads again and rebuilds it without those conditions and without
the +1. Once an item exists it never goes away, so a write sent without a condition always follows the one
that counted. The turn's write stays one transaction; a lost race costs one more read and one more attempt.

Ten actions with the message and the session: far below DynamoDB's limit of 100 per transaction.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apis.shared.costs.models import CostEntry, money_decimal
from apis.shared.storage.dynamo import cost_items as items
from apis.shared.storage.dynamo import cost_rollups as rollups
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, Table, deserialize
from apis.shared.storage.dynamo.errors import CancellationReason
from apis.shared.storage.dynamo.knowledge_table import batch_get

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

CONDITION_FAILED = "ConditionalCheckFailed"


@dataclass(frozen=True, slots=True)
class _Firsts:
    """Which of the user's totals this entry creates: its month, its day, its model in the month."""

    month: bool
    day: bool
    model: bool


def _update(
    table: Table,
    key: Item,
    counters: dict[str, Item],
    assigned: dict[str, str],
    *,
    absent: bool = False,
    rank: Item | None = None,
) -> TransactWriteItemTypeDef:
    """An UpdateItem that adds `counters` and sets `assigned`; `absent`: only if the item does not exist yet;
    `rank`: also set gsi6sk to the month's new cost, `rank` (a number) being what this write adds to it."""
    # gsi6's sort key follows the month's cost: the stored total (0 before any) plus this entry, computed by the
    # server from the value it holds, so it stays equal to totalCost under any concurrency.
    extra = "#rank = if_not_exists(#cost, :zero) + :rank" if rank is not None else ""
    expression, names, values = items.add_expression(counters, assigned, extra_set=extra)
    if rank is not None:
        names.update({"#rank": "gsi6sk", "#cost": "totalCost"})
        values.update({":zero": {"N": "0"}, ":rank": rank})
    update: TransactWriteItemTypeDef = {
        "Update": {
            "TableName": table.name,
            "Key": key,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }
    if absent:
        update["Update"]["ConditionExpression"] = "attribute_not_exists(pk)"
    return update


def _user_actions(table: Table, entry: CostEntry, at: str, firsts: _Firsts) -> list[TransactWriteItemTypeDef]:
    user, month, day, model = entry.user_id, entry.period, entry.day, entry.model_id
    totals, shares = items.month_counters(entry), items.model_counters(entry)
    model_fields = {items.MODEL_ID: model, items.PROVIDER: entry.provider, items.UPDATED_AT: at}
    month_fields = {items.UPDATED_AT: at, **items.index_attributes(user, month)}
    rank = items.number(money_decimal(entry.cost))
    return [
        _update(table, items.month_key(user, month), totals, month_fields, absent=firsts.month, rank=rank),
        _update(table, items.model_key(user, month, model), shares, model_fields, absent=firsts.model),
        _update(table, items.day_key(user, day), totals, {items.UPDATED_AT: at}, absent=firsts.day),
        _update(table, items.day_model_key(user, day, model), shares, model_fields),
    ]


def _system_actions(
    table: Table, entry: CostEntry, at: str, firsts: _Firsts, shard: int
) -> list[TransactWriteItemTypeDef]:
    month, day, model = entry.period, entry.day, entry.model_id
    totals, shares = items.month_counters(entry), items.model_counters(entry)
    model_fields = {items.MODEL_ID: model, items.PROVIDER: entry.provider, items.UPDATED_AT: at}
    updated = {items.UPDATED_AT: at}

    def key(sort_key: str) -> Item:
        return rollups.key(month, shard, sort_key)

    def one_if(first: bool) -> Item:
        return items.number(int(first))

    month_totals = {**totals, "activeUsers": one_if(firsts.month)}
    month_shares = {**shares, "uniqueUsers": one_if(firsts.model)}
    day_totals = {**totals, "activeUsers": one_if(firsts.day)}
    return [
        _update(table, key(rollups.MONTH_SK), month_totals, updated),
        _update(table, key(rollups.month_model_sk(model)), month_shares, model_fields),
        _update(table, key(rollups.day_sk(day)), day_totals, updated),
        _update(table, key(rollups.day_model_sk(day, model)), shares, model_fields),
    ]


async def _read_firsts(table: Table, entry: CostEntry) -> _Firsts:
    """Which of the entry's user totals do not exist yet, read consistently."""
    user = entry.user_id
    keys = [
        items.month_key(user, entry.period),
        items.day_key(user, entry.day),
        items.model_key(user, entry.period, entry.model_id),
    ]
    found = {deserialize(item)[schema.SORT_KEY] for item in await batch_get(table, keys, consistent=True)}
    return _Firsts(
        month=items.month_sk(entry.period) not in found,
        day=items.day_sk(entry.day) not in found,
        model=items.model_sk(entry.period, entry.model_id) not in found,
    )


class CostWrite:
    """The actions that count one entry, built from a fresh read of which of its user's totals exist."""

    def __init__(self, table: Table, entry: CostEntry, at: str, firsts: _Firsts) -> None:
        self._table, self._entry, self._at = table, entry, at
        shard = random.randrange(rollups.SHARDS)
        self.actions = [*_user_actions(table, entry, at, firsts), *_system_actions(table, entry, at, firsts, shard)]

    @classmethod
    async def prepare(cls, table: Table, entry: CostEntry, at: str) -> CostWrite:
        """The write of `entry` at `at` (its `updatedAt`), after reading which of its user's totals exist."""
        return cls(table, entry, at, await _read_firsts(table, entry))

    def refused(self, reasons: Sequence[CancellationReason]) -> bool:
        """Whether a cancelled transaction failed on one of these actions (a first write another one won);
        `reasons` are this write's own, in the order of `actions`."""
        return any(reason.code == CONDITION_FAILED for reason in reasons)

    async def retried(self) -> CostWrite:
        """The same write rebuilt after a refusal, from a new read of which totals exist now."""
        return await self.prepare(self._table, self._entry, self._at)
