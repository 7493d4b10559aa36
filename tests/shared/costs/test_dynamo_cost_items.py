"""The DynamoDB layout of cost summaries: where the items live, which the contract suite does not see."""

from __future__ import annotations

import pytest

from apis.shared.storage.dynamo.client import Table, deserialize
from apis.shared.storage.dynamo.costs import DynamoCostRepository
from tests.helpers import random_user_id
from tests.shared.costs.builders import PERIOD, entry

pytestmark = pytest.mark.dynamodb


async def test_an_add_writes_the_month_and_model_items_in_the_owners_partition(dynamo_cost_table: Table) -> None:
    user = f"{random_user_id()}#x"
    await DynamoCostRepository(dynamo_cost_table).add(entry(user, cost=0.25, model_id="gpt-4o"))

    response = dynamo_cost_table.client.query(
        TableName=dynamo_cost_table.name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"USER#{user.replace('#', '%23')}"}},
        ConsistentRead=True,
    )

    items = {item["sk"]: item for item in map(deserialize, response["Items"])}
    assert set(items) == {f"COST#{PERIOD}", f"COST#{PERIOD}#MODEL#gpt-4o"}
    assert items[f"COST#{PERIOD}"]["totalCost"] == items[f"COST#{PERIOD}#MODEL#gpt-4o"]["totalCost"]
    assert str(items[f"COST#{PERIOD}"]["totalCost"]) == "0.25"
    assert items[f"COST#{PERIOD}#MODEL#gpt-4o"]["modelId"] == "gpt-4o"
