"""Keys of the system's cost rollups (every user's totals) in the shared table.

    month totals  pk=SYSCOST#{month}#{shard}  sk=MONTH                       activeUsers
    month model   pk=SYSCOST#{month}#{shard}  sk=MONTH#MODEL#{modelId}       uniqueUsers
    day totals    pk=SYSCOST#{month}#{shard}  sk=DAY#{day}                   activeUsers
    day model     pk=SYSCOST#{month}#{shard}  sk=DAYMODEL#{day}#{modelId}

Every turn adds to these counters, so one item per counter would take every turn's write: DynamoDB cancels
transactions that touch an item another one is writing (TransactionConflict), and one partition takes about
1,000 writes a second. So each counter is split over SHARDS items in SHARDS partitions; a write adds to one
shard, picked at random, and a read adds all shards up. A month's partition holds its days, so a range of
days is one BETWEEN per shard and month, and a day's totals (`DAY#`) sort apart from its models
(`DAYMODEL#`), so that range reads totals only.
"""

from __future__ import annotations

from apis.shared.storage.dynamo.client import Item, serialize
from apis.shared.storage.dynamo.cost_items import SHARDS

__all__ = ["SHARDS", "day_model_sk", "day_sk", "key", "month_model_sk", "partition"]

MONTH_SK = "MONTH"


def partition(month: str, shard: int) -> str:
    return f"SYSCOST#{month}#{shard:02d}"


def month_model_sk(model_id: str) -> str:
    return f"{MONTH_SK}#MODEL#{model_id}"


def day_sk(day: str) -> str:
    return f"DAY#{day}"


def day_models_prefix(day: str) -> str:
    return f"DAYMODEL#{day}#"


def day_model_sk(day: str, model_id: str) -> str:
    return f"{day_models_prefix(day)}{model_id}"


def key(month: str, shard: int, sort_key: str) -> Item:
    return serialize({"pk": partition(month, shard), "sk": sort_key})
