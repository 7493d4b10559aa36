"""The DynamoDB layout of cost totals: where the items live, which the contract suite does not see, and the race
of two first writes that the conditions settle."""

from __future__ import annotations

from typing import Any

import pytest

from apis.shared.clock import now_iso
from apis.shared.storage.dynamo import cost_rollups
from apis.shared.storage.dynamo.client import Table, deserialize
from apis.shared.storage.dynamo.cost_items import SHARDS, user_shard
from apis.shared.storage.dynamo.cost_writes import CostWrite
from apis.shared.storage.dynamo.costs import DynamoCostRepository
from tests.helpers import random_user_id
from tests.shared.costs.builders import DAY, PERIOD, entry

pytestmark = pytest.mark.dynamodb


def _partition(table: Table, pk: str) -> dict[str, dict[str, Any]]:
    response = table.client.query(
        TableName=table.name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
        ConsistentRead=True,
    )
    return {item["sk"]: item for item in map(deserialize, response["Items"])}


def _system_items(table: Table, month: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for shard in range(SHARDS):
        for sort_key, item in _partition(table, cost_rollups.partition(month, shard)).items():
            found.setdefault(sort_key, []).append(item)
    return found


async def test_an_add_writes_the_users_items_in_the_owners_partition(dynamo_cost_table: Table) -> None:
    user = f"{random_user_id()}#x"
    await DynamoCostRepository(dynamo_cost_table).add(entry(user, cost=0.25, model_id="gpt-4o"))

    items = _partition(dynamo_cost_table, f"USER#{user.replace('#', '%23')}")

    month, day = f"COST#{PERIOD}", f"COSTDAY#{DAY}"
    assert set(items) == {month, f"{month}#MODEL#gpt-4o", day, f"{day}#MODEL#gpt-4o"}
    assert {str(item["totalCost"]) for item in items.values()} == {"0.25"}
    assert items[f"{day}#MODEL#gpt-4o"]["modelId"] == "gpt-4o"
    # The month's totals join the top-users index (gsi6, by cost) and the users' list (gsi1, by user).
    shard = user_shard(user)
    assert items[month]["gsi6pk"] == f"COST_RANK#{PERIOD}#{shard:02d}"
    assert str(items[month]["gsi6sk"]) == "0.25"
    assert (items[month]["gsi1pk"], items[month]["userId"]) == (f"COST_USERS#{PERIOD}#{shard:02d}", user)


async def test_the_system_rollups_live_in_one_shard_per_write_and_add_up(dynamo_cost_table: Table) -> None:
    repository = DynamoCostRepository(dynamo_cost_table)
    user = random_user_id()
    for _ in range(20):
        await repository.add(entry(user, cost=0.05, model_id="m"))

    found = _system_items(dynamo_cost_table, PERIOD)

    assert set(found) == {"MONTH", "MONTH#MODEL#m", f"DAY#{DAY}", f"DAYMODEL#{DAY}#m"}
    assert 1 < len(found["MONTH"]) <= SHARDS  # spread over shards (all 20 in one: about 1 in 10**19)
    assert sum(item["totalCost"] for item in found["MONTH"]) == 1
    assert sum(item["activeUsers"] for item in found["MONTH"]) == 1
    assert sum(item["uniqueUsers"] for item in found["MONTH#MODEL#m"]) == 1
    assert sum(item["totalRequests"] for item in found[f"DAYMODEL#{DAY}#m"]) == 20


async def test_the_later_of_two_first_writes_is_refused_then_counted_without_the_user(
    dynamo_cost_table: Table,
) -> None:
    repository = DynamoCostRepository(dynamo_cost_table)
    user = random_user_id()
    late = await CostWrite.prepare(dynamo_cost_table, entry(user, cost=0.2, model_id="m"), now_iso())
    await repository.add(entry(user, cost=0.1, model_id="m"))  # wins the race: it creates the user's totals

    reasons = await dynamo_cost_table.transact(late.actions)
    assert reasons is not None
    assert late.refused(reasons)
    assert await dynamo_cost_table.transact((await late.retried()).actions) is None

    summary = await repository.get_system_summary(PERIOD)
    assert (summary.total_cost, summary.total_requests, summary.active_users) == (0.3, 2, 1)
    assert (await repository.get_system_summary(DAY)).active_users == 1
    assert summary.models[0].unique_users == 1
