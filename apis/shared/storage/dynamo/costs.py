"""CostRepository on DynamoDB: a user's totals in their partition (cost_items.py), the system's rollups in sharded
partitions (cost_rollups.py), all counted by one transaction per entry (cost_writes.py).

The counters are `ADD`ed by the server to the stored numbers, so concurrent turns on any number of instances
all count and the items of one entry never disagree. botocore gives each call a ClientRequestToken that its own
retries reuse, so a retry after a lost response is not counted twice; our retries follow a cancelled
transaction only, which wrote nothing.

Reads go by key or index, never by scan: a user's month or day is one Query of their partition; a range of
days one BETWEEN; the system's figures one Query per shard (and month), added up; top users one Query of gsi6
per shard, merged; a month's users pages of gsi1, shard after shard. Each reads to its last page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from apis.shared.clock import now_iso
from apis.shared.costs.models import CostEntry, CostSummary, SystemCostSummary, UserPeriodCost, money_decimal
from apis.shared.costs.periods import month_days
from apis.shared.costs.tally import CostTally
from apis.shared.errors import InvalidPageToken, StorageError
from apis.shared.pagination import Page, decode_token, encode_token
from apis.shared.storage.dynamo import cost_items as items
from apis.shared.storage.dynamo import cost_rollups as rollups
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, Table, deserialize, serialize
from apis.shared.storage.dynamo.cost_writes import CostWrite
from apis.shared.storage.dynamo.errors import record

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

T = TypeVar("T")
_ADD_ATTEMPTS = 5
TOP_USERS = schema.USERS_BY_MONTH_COST


async def query_all(table: Table, request: QueryInputTypeDef) -> list[Item]:
    """Every item a Query matches, page after page to the last: no count caps it."""
    found: list[Item] = []
    page: dict[str, Any] = {**request, "TableName": table.name}
    while True:
        response = await table.run(partial(table.client.query, **page))
        found.extend(response["Items"])
        if "LastEvaluatedKey" not in response:
            return found
        page["ExclusiveStartKey"] = response["LastEvaluatedKey"]


async def concurrently(reads: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Await `reads` at the same time; their results in order. A failure is raised as itself, not in a group."""
    results: dict[int, T] = {}

    async def run(position: int, read: Callable[[], Awaitable[T]]) -> None:
        results[position] = await read()

    try:
        async with anyio.create_task_group() as group:
            for position, read in enumerate(reads):
                group.start_soon(run, position, read)
    except ExceptionGroup as failed:
        first: BaseException = failed
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first  # noqa: B904 -- the storage error as callers expect it, with its own cause
    return [results[position] for position in range(len(reads))]


def _partition_query(pk: str, condition: str, values: dict[str, str], *, consistent: bool = True) -> QueryInputTypeDef:
    return {
        "TableName": "",
        "KeyConditionExpression": f"#pk = :pk AND {condition}",
        "ExpressionAttributeNames": {"#pk": schema.PARTITION_KEY, "#sk": schema.SORT_KEY},
        "ExpressionAttributeValues": serialize({":pk": pk, **values}),
        "ConsistentRead": consistent,
    }


def _prefixed(pk: str, prefix: str) -> QueryInputTypeDef:
    return _partition_query(pk, "begins_with(#sk, :prefix)", {":prefix": prefix})


def _add_up(found: list[list[Item]]) -> tuple[CostTally, dict[str, CostTally], bool]:
    """The system's totals and models over every shard's items; whether any shard had totals."""
    totals, models, any_totals = CostTally(), dict[str, CostTally](), False
    for shard_items in found:
        for item in shard_items:
            values = deserialize(item)
            if items.MODEL_ID in values:
                models.setdefault(values[items.MODEL_ID], CostTally()).merge(items.tally_of(values))
            else:
                totals.merge(items.tally_of(values))
                any_totals = True
    return totals, models, any_totals


class DynamoCostRepository:
    """Cost totals and rollups in the shared table; see the module docstring and the item modules."""

    def __init__(self, table: Table) -> None:
        self._table = table

    async def add(self, entry: CostEntry) -> None:
        write = await CostWrite.prepare(self._table, entry, now_iso())
        for _ in range(_ADD_ATTEMPTS):
            reasons = await self._table.transact(write.actions)
            if reasons is None:
                return
            if not write.refused(reasons):
                # Only a first write's condition can fail: a bug if anything else does.
                raise record(StorageError(f"{self._table.resource} refused a cost update; the service log has details"))
            write = await write.retried()
        raise self._table.busy()

    async def _user_items(self, user_id: str, prefix: str) -> list[Item]:
        return await query_all(self._table, _prefixed(schema.user_pk(user_id), prefix))

    async def get_summary(self, user_id: str, period: str) -> CostSummary:
        # One strongly consistent Query reads the month. It is read-committed, not a snapshot: read while an
        # `add` lands, the totals may already include a turn that a model's share does not show yet.
        found = await self._user_items(user_id, items.month_sk(period))
        return items.summary_from_items(user_id, period, found)

    async def get_day_summary(self, user_id: str, day: str) -> CostSummary:
        found = await self._user_items(user_id, items.day_sk(day))
        return items.summary_from_items(user_id, day, found)

    async def get_spend(self, user_id: str, period: str) -> float:
        # The totals item alone, by key and strongly consistent: no model items read (or paid for).
        key = items.day_key(user_id, period) if len(period) == len("YYYY-MM-DD") else items.month_key(user_id, period)
        get_item = partial(
            self._table.client.get_item,
            TableName=self._table.name,
            Key=key,
            ConsistentRead=True,
            ProjectionExpression="totalCost",
        )
        item: Item | None = (await self._table.run(get_item)).get("Item")
        return float(items.tally_of(deserialize(item)).cost) if item is not None else 0.0

    async def list_day_summaries(self, user_id: str, first_day: str, last_day: str) -> list[CostSummary]:
        low, high = items.days_between(first_day, last_day)
        request = _partition_query(schema.user_pk(user_id), "#sk BETWEEN :low AND :high", {":low": low, ":high": high})
        summaries = items.summaries_from_items(user_id, await query_all(self._table, request))
        return [summaries[day] for day in sorted(summaries)]

    async def _shards(self, month: str, make: Callable[[str], QueryInputTypeDef]) -> list[list[Item]]:
        """The items `make(partition)` queries in each shard of the month's rollups, read at once."""
        partitions = [rollups.partition(month, shard) for shard in range(rollups.SHARDS)]
        return await concurrently([partial(query_all, self._table, make(pk)) for pk in partitions])

    async def get_system_summary(self, period: str) -> SystemCostSummary:
        if len(period) == len("YYYY-MM"):
            found = await self._shards(period, lambda pk: _prefixed(pk, rollups.MONTH_SK))
        else:
            found = [
                *await self._shards(period[:7], lambda pk: _prefixed(pk, rollups.day_sk(period))),
                *await self._shards(period[:7], lambda pk: _prefixed(pk, rollups.day_models_prefix(period))),
            ]
        totals, models, any_totals = _add_up(found)
        return totals.system_summary(period, models) if any_totals else SystemCostSummary(period=period)

    async def list_system_days(self, first_day: str, last_day: str) -> list[SystemCostSummary]:
        days: dict[str, CostTally] = {}
        for month in _months_between(first_day, last_day):
            start, end = month_days(month)
            low, high = rollups.day_sk(max(first_day, start)), rollups.day_sk(min(last_day, end))

            def between(pk: str, low: str = low, high: str = high) -> QueryInputTypeDef:
                return _partition_query(pk, "#sk BETWEEN :low AND :high", {":low": low, ":high": high})

            for shard_items in await self._shards(month, between):
                for item in shard_items:
                    values = deserialize(item)
                    days.setdefault(values[schema.SORT_KEY][len("DAY#") :], CostTally()).merge(items.tally_of(values))
        return [days[day].system_summary(day, {}) for day in sorted(days)]

    async def list_top_users(self, period: str, *, limit: int, min_cost: float = 0.0) -> list[UserPeriodCost]:
        def ranked(shard: int) -> QueryInputTypeDef:
            return {
                "TableName": self._table.name,
                "IndexName": TOP_USERS.name,
                "KeyConditionExpression": "#pk = :pk AND #rank >= :min",
                "ExpressionAttributeNames": {"#pk": TOP_USERS.partition_key, "#rank": TOP_USERS.sort_key},
                "ExpressionAttributeValues": {
                    ":pk": {"S": items.rank_partition(period, shard)},
                    ":min": items.number(money_decimal(min_cost)),
                },
                "ScanIndexForward": False,
            }

        # Each shard's `limit` costliest hold the overall `limit` costliest; a shard orders its ties by key, so
        # the union is sorted again rather than merged.
        reads = [partial(self._table.query, ranked(shard), want=limit) for shard in range(items.SHARDS)]
        found = [items.user_period_from_item(period, item) for shard in await concurrently(reads) for item in shard]
        return sorted(found, key=lambda user: (-user.total_cost, user.user_id))[:limit]

    async def list_period_users(
        self, period: str, *, limit: int, page_token: str | None = None
    ) -> Page[UserPeriodCost]:
        shard, after = 0, None
        if page_token is not None:
            cursor = decode_token(page_token, fields=("shard", "userId"))
            shard, after = _shard_of(cursor["shard"]), cursor["userId"]
        users: list[UserPeriodCost] = []
        while shard < items.SHARDS and len(users) <= limit:
            found = await self._table.query(self._users_page(period, shard, after), want=limit + 1 - len(users))
            users.extend(items.user_period_from_item(period, item) for item in found)
            if len(users) <= limit:
                shard, after = shard + 1, None
        if len(users) <= limit:
            return Page(items=users, next_token=None)
        page = users[:limit]
        # The last user returned sits in the shard its id hashes to; the next page starts after it there.
        last = page[-1].user_id
        return Page(items=page, next_token=encode_token({"shard": str(items.user_shard(last)), "userId": last}))

    def _users_page(self, period: str, shard: int, after: str | None) -> QueryInputTypeDef:
        index = schema.BY_KIND
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "IndexName": index.name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": index.partition_key},
            "ExpressionAttributeValues": {":pk": {"S": items.users_partition(period, shard)}},
        }
        if after is not None:
            month = items.month_key(after, period)
            request["ExclusiveStartKey"] = {
                **month,
                index.partition_key: {"S": items.users_partition(period, shard)},
                index.sort_key: {"S": schema.user_pk(after)},
            }
        return request


def _shard_of(text: str) -> int:
    if not text.isdigit() or int(text) >= items.SHARDS:
        raise InvalidPageToken("nextToken is not a token this list issued")
    return int(text)


def _months_between(first_day: str, last_day: str) -> list[str]:
    """Every month from the one of `first_day` to the one of `last_day`."""
    year, month = int(first_day[:4]), int(first_day[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last_day[:7]:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
