"""Keys of a user's cost totals in the shared table, the counters an entry adds, and how items become summaries.

    month totals  pk=USER#{userId}  sk=COST#{period}   gsi6pk=COST_RANK#{period}#{shard}   gsi6sk=<its cost>
                                                        gsi1pk=COST_USERS#{period}#{shard}  gsi1sk=USER#{userId}
    month model   pk=USER#{userId}  sk=COST#{period}#MODEL#{modelId}
    day totals    pk=USER#{userId}  sk=COSTDAY#{day}
    day model     pk=USER#{userId}  sk=COSTDAY#{day}#MODEL#{modelId}

All live in their user's partition (schema.py's `user_pk` escapes the id), so one Query on the prefix
`COST#{period}` reads a month, `COSTDAY#{day}` a day, and a BETWEEN on `COSTDAY#` a range of days. A model id
is the last part of its key and is read back from the `modelId` attribute, never parsed out of the key, so a
`#` inside it is harmless. Attribute names are the camelCase names of CostSummary and ModelCostBreakdown, and
money is a DynamoDB number (an exact Decimal).

A month's totals join two sparse indexes, each spread over SHARDS partitions by a stable hash of the user id
(so no index partition takes every turn's write): gsi6, sorted by the month's cost (a copy of `totalCost`),
for top users; gsi1, by user, for the export's pages, whose order does not move while they are read.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from apis.shared.costs.models import CostEntry, CostSummary, UserPeriodCost, money_decimal
from apis.shared.costs.tally import CostTally
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, deserialize, serialize

COST_SK_PREFIX = "COST#"
DAY_SK_PREFIX = "COSTDAY#"
UPDATED_AT = "updatedAt"
PROVIDER = "provider"
MODEL_ID = "modelId"
USER_ID = "userId"
# Partitions each index of a month's users is spread over. Only ever raised: readers query all of them.
SHARDS = 10
_DAY_WIDTH = len("YYYY-MM-DD")


def month_sk(period: str) -> str:
    return f"{COST_SK_PREFIX}{period}"


def model_sk_prefix(period: str) -> str:
    return f"{month_sk(period)}#MODEL#"


def model_sk(period: str, model_id: str) -> str:
    return f"{model_sk_prefix(period)}{model_id}"


def day_sk(day: str) -> str:
    return f"{DAY_SK_PREFIX}{day}"


def day_model_sk(day: str, model_id: str) -> str:
    return f"{day_sk(day)}#MODEL#{model_id}"


def days_between(first_day: str, last_day: str) -> tuple[str, str]:
    """Sort-key bounds of every day item (totals and models) from `first_day` to `last_day`: `$` sorts just
    after `#`, so the last day's model items fall inside and the next day's outside."""
    return day_sk(first_day), f"{day_sk(last_day)}$"


def _key(user_id: str, sort_key: str) -> Item:
    return serialize({schema.PARTITION_KEY: schema.user_pk(user_id), schema.SORT_KEY: sort_key})


def month_key(user_id: str, period: str) -> Item:
    return _key(user_id, month_sk(period))


def model_key(user_id: str, period: str, model_id: str) -> Item:
    return _key(user_id, model_sk(period, model_id))


def day_key(user_id: str, day: str) -> Item:
    return _key(user_id, day_sk(day))


def day_model_key(user_id: str, day: str, model_id: str) -> Item:
    return _key(user_id, day_model_sk(day, model_id))


def user_shard(user_id: str) -> int:
    """The index partition of a user's months: a stable hash (Python's own `hash` changes per process)."""
    return int.from_bytes(hashlib.blake2b(user_id.encode(), digest_size=4).digest(), "big") % SHARDS


def rank_partition(period: str, shard: int) -> str:
    """gsi6pk of the months of `period` in `shard`."""
    return f"COST_RANK#{period}#{shard:02d}"


def users_partition(period: str, shard: int) -> str:
    """gsi1pk of the months of `period` in `shard`."""
    return f"COST_USERS#{period}#{shard:02d}"


def index_attributes(user_id: str, period: str) -> dict[str, str]:
    """The string attributes that put a user's month into gsi6 and gsi1 (gsi6sk, a number, is set apart)."""
    shard = user_shard(user_id)
    return {
        USER_ID: user_id,
        "gsi6pk": rank_partition(period, shard),
        "gsi1pk": users_partition(period, shard),
        "gsi1sk": schema.user_pk(user_id),
    }


def number(value: int | Decimal) -> Item:
    """A number attribute in plain decimal text ("0.51", "0", never "0E-10" or "5.1E-7").

    DynamoDB reads any form; moto's ADD, which the tests run against, reads only integers and numbers with a
    decimal point, and writes its sum back the same way, so zero goes as "0" and no trailing zeros are sent.
    """
    if isinstance(value, int) or value == 0:
        return {"N": str(int(value))}
    return {"N": format(value.normalize(), "f")}


def model_counters(entry: CostEntry) -> dict[str, Item]:
    """What `entry` adds to a model's share, by attribute name."""
    usage = entry.usage
    return {
        "totalCost": number(money_decimal(entry.cost)),
        "totalRequests": number(entry.requests),
        "inputTokens": number(usage.input_tokens),
        "outputTokens": number(usage.output_tokens),
        "cacheReadInputTokens": number(usage.cache_read_input_tokens),
        "cacheWriteInputTokens": number(usage.cache_write_input_tokens),
    }


def month_counters(entry: CostEntry) -> dict[str, Item]:
    """What `entry` adds to a month's or a day's totals, by attribute name."""
    return {
        **model_counters(entry),
        "totalTokens": number(entry.usage.total_tokens),
        "cacheSavings": number(money_decimal(entry.cache_savings)),
    }


def add_expression(
    counters: dict[str, Item], assigned: dict[str, str], *, extra_set: str = ""
) -> tuple[str, dict[str, str], Item]:
    """An UpdateExpression that ADDs each counter (the server sums; a missing one counts from 0) and SETs the
    strings in `assigned` (and `extra_set`, a clause of the caller's). Every name goes through a placeholder,
    as attribute names may be reserved words."""
    names: dict[str, str] = {}
    values: Item = {}
    sets: list[str] = [extra_set] if extra_set else []
    adds: list[str] = []
    for position, (name, text) in enumerate(assigned.items()):
        names[f"#s{position}"], values[f":s{position}"] = name, {"S": text}
        sets.append(f"#s{position} = :s{position}")
    for position, (name, counted) in enumerate(counters.items()):
        names[f"#c{position}"], values[f":c{position}"] = name, counted
        adds.append(f"#c{position} :c{position}")
    expression = f"ADD {', '.join(adds)}"
    if sets:
        expression = f"SET {', '.join(sets)} {expression}"
    return expression, names, values


def tally_of(values: dict[str, Any]) -> CostTally:
    """The sums of a deserialised totals or model item (a user's or the system's); missing counters are 0."""
    return CostTally(
        cost=Decimal(values.get("totalCost", 0)),
        requests=int(values.get("totalRequests", 0)),
        input_tokens=int(values.get("inputTokens", 0)),
        output_tokens=int(values.get("outputTokens", 0)),
        total_tokens=int(values.get("totalTokens", 0)),
        cache_read_input_tokens=int(values.get("cacheReadInputTokens", 0)),
        cache_write_input_tokens=int(values.get("cacheWriteInputTokens", 0)),
        cache_savings=Decimal(values.get("cacheSavings", 0)),
        users=int(values.get("activeUsers", values.get("uniqueUsers", 0))),
        provider=str(values.get(PROVIDER, "")),
        updated_at=values.get(UPDATED_AT),
    )


def summary_from_items(user_id: str, period: str, items: list[Item]) -> CostSummary:
    """The summary of a month's (or a day's) items; zeros when its totals item is absent (nothing recorded)."""
    return summaries_from_items(user_id, items).get(period) or CostSummary(user_id=user_id, period=period)


def summaries_from_items(user_id: str, items: list[Item]) -> dict[str, CostSummary]:
    """The summary of each month or day whose totals item is among `items`, by its period, with its models."""
    totals: dict[str, CostTally] = {}
    models: dict[str, dict[str, CostTally]] = {}
    for item in items:
        values = deserialize(item)
        sort_key: str = values[schema.SORT_KEY]
        prefix = DAY_SK_PREFIX if sort_key.startswith(DAY_SK_PREFIX) else COST_SK_PREFIX
        rest = sort_key[len(prefix) :]
        period = rest[:_DAY_WIDTH] if prefix == DAY_SK_PREFIX else rest[: len("YYYY-MM")]
        if rest == period:
            totals[period] = tally_of(values)
        elif MODEL_ID in values:
            models.setdefault(period, {})[values[MODEL_ID]] = tally_of(values)
    return {period: tally.summary(user_id, period, models.get(period, {})) for period, tally in totals.items()}


def user_period_from_item(period: str, item: Item) -> UserPeriodCost:
    """A user's month as the lists of every user's month show it."""
    values = deserialize(item)
    return UserPeriodCost(
        user_id=values[USER_ID],
        period=period,
        total_cost=float(values.get("totalCost", 0)),
        total_requests=int(values.get("totalRequests", 0)),
        updated_at=values.get(UPDATED_AT, ""),
    )
