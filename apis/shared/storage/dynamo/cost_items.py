"""Keys of monthly cost summaries in the shared table, the counters an entry adds, and how items become a summary.

    month totals  pk=USER#{userId}  sk=COST#{period}
    model share   pk=USER#{userId}  sk=COST#{period}#MODEL#{modelId}

Both live in their user's partition (schema.py's `user_pk` escapes the id), so one Query on the prefix
`COST#{period}` reads a whole month. The model id is the last part of its key and is read back from the
`modelId` attribute, never parsed out of the key, so a `#` inside it is harmless. Attribute names are the
camelCase names of CostSummary and ModelCostBreakdown, and money is a DynamoDB number (an exact Decimal).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apis.shared.costs.models import CostEntry, CostSummary, ModelCostBreakdown, money_decimal
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, deserialize, serialize

COST_SK_PREFIX = "COST#"
UPDATED_AT = "updatedAt"
PROVIDER = "provider"
MODEL_ID = "modelId"

_MONTH_FIELDS = tuple(
    field.alias or name for name, field in CostSummary.model_fields.items() if name not in {"user_id", "period"}
)
_MODEL_FIELDS = tuple(field.alias or name for name, field in ModelCostBreakdown.model_fields.items())


def month_sk(period: str) -> str:
    return f"{COST_SK_PREFIX}{period}"


def model_sk_prefix(period: str) -> str:
    return f"{month_sk(period)}#MODEL#"


def model_sk(period: str, model_id: str) -> str:
    return f"{model_sk_prefix(period)}{model_id}"


def month_key(user_id: str, period: str) -> Item:
    return serialize({schema.PARTITION_KEY: schema.user_pk(user_id), schema.SORT_KEY: month_sk(period)})


def model_key(user_id: str, period: str, model_id: str) -> Item:
    return serialize({schema.PARTITION_KEY: schema.user_pk(user_id), schema.SORT_KEY: model_sk(period, model_id)})


def _number(value: int | Decimal) -> Item:
    """A number attribute in plain decimal text ("0.51", "0", never "0E-10" or "5.1E-7").

    DynamoDB reads any form; moto's ADD, which the tests run against, reads only integers and numbers with a
    decimal point, and writes its sum back the same way, so zero goes as "0" and no trailing zeros are sent.
    """
    if isinstance(value, int) or value == 0:
        return {"N": str(int(value))}
    return {"N": format(value.normalize(), "f")}


def model_counters(entry: CostEntry) -> dict[str, Item]:
    """What `entry` adds to its model's share, by attribute name."""
    usage = entry.usage
    return {
        "totalCost": _number(money_decimal(entry.cost)),
        "totalRequests": _number(entry.requests),
        "inputTokens": _number(usage.input_tokens),
        "outputTokens": _number(usage.output_tokens),
        "cacheReadInputTokens": _number(usage.cache_read_input_tokens),
        "cacheWriteInputTokens": _number(usage.cache_write_input_tokens),
    }


def month_counters(entry: CostEntry) -> dict[str, Item]:
    """What `entry` adds to its user's month totals, by attribute name."""
    return {
        **model_counters(entry),
        "totalTokens": _number(entry.usage.total_tokens),
        "cacheSavings": _number(money_decimal(entry.cache_savings)),
    }


def add_expression(counters: dict[str, Item], assigned: dict[str, str]) -> tuple[str, dict[str, str], Item]:
    """An UpdateExpression that ADDs each counter (the server sums; a missing one counts from 0) and SETs the
    strings in `assigned`. Every name goes through a placeholder, as attribute names may be reserved words."""
    names: dict[str, str] = {}
    values: Item = {}
    sets: list[str] = []
    adds: list[str] = []
    for position, (name, text) in enumerate(assigned.items()):
        names[f"#s{position}"], values[f":s{position}"] = name, {"S": text}
        sets.append(f"#s{position} = :s{position}")
    for position, (name, number) in enumerate(counters.items()):
        names[f"#c{position}"], values[f":c{position}"] = name, number
        adds.append(f"#c{position} :c{position}")
    expression = f"ADD {', '.join(adds)}"
    if sets:
        expression = f"SET {', '.join(sets)} {expression}"
    return expression, names, values


def summary_from_items(user_id: str, period: str, items: list[Item]) -> CostSummary:
    """The summary a month's items make; zeros when its totals item is absent (nothing was recorded)."""
    month: dict[str, Any] | None = None
    models: list[ModelCostBreakdown] = []
    prefix = model_sk_prefix(period)
    for item in items:
        values = deserialize(item)
        sort_key = values[schema.SORT_KEY]
        if sort_key == month_sk(period):
            month = values
        elif sort_key.startswith(prefix):
            # Pydantic turns the Decimals back into int and float fields.
            models.append(ModelCostBreakdown.model_validate({name: values[name] for name in _MODEL_FIELDS}))
    if month is None:
        return CostSummary(user_id=user_id, period=period)
    fields = {name: month[name] for name in _MONTH_FIELDS if name in month}
    return CostSummary.model_validate({**fields, "userId": user_id, "period": period, "models": models})
