"""The SQL of cost totals on SQLite: the upserts that count an entry, the selects that read totals back, and how
rows become sums (tables in schema 0005 and 0012).

Every counter is added to in place (`x = x + excluded.x`), never rewritten from a value read earlier. Money is
stored as integer units of 1e-10 USD (MONEY_SCALE), which SQLite sums exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from apis.shared.costs.models import MONEY_SCALE, CostEntry, money_decimal
from apis.shared.costs.tally import CostTally

TOTAL_COUNTERS = (
    "cost_units",
    "requests",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cache_read_input_tokens",
    "cache_write_input_tokens",
    "cache_savings_units",
)
MODEL_COUNTERS = (
    "cost_units",
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_write_input_tokens",
)


def _upsert(table: str, keys: Sequence[str], counters: Sequence[str], assigned: str) -> str:
    """Insert a row of `keys`, `counters` and `assigned`, or add the counters to the row already there."""
    columns = [*keys, *counters, assigned]
    increments = ", ".join(f"{name} = {name} + excluded.{name}" for name in counters)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {increments}, {assigned} = excluded.{assigned}"
    )


ADD_TO_USER_MONTH = _upsert("cost_summaries", ("user_id", "period"), TOTAL_COUNTERS, "updated_at")
ADD_TO_USER_MONTH_MODEL = _upsert("cost_summary_models", ("user_id", "period", "model_id"), MODEL_COUNTERS, "provider")
ADD_TO_USER_DAY = _upsert("cost_days", ("user_id", "day"), TOTAL_COUNTERS, "updated_at")
ADD_TO_USER_DAY_MODEL = _upsert("cost_day_models", ("user_id", "day", "model_id"), MODEL_COUNTERS, "provider")
ADD_TO_SYSTEM = _upsert("system_costs", ("granularity", "period"), (*TOTAL_COUNTERS, "active_users"), "updated_at")
ADD_TO_SYSTEM_MODEL = _upsert(
    "system_cost_models", ("granularity", "period", "model_id"), (*MODEL_COUNTERS, "unique_users"), "provider"
)
# Whether the entry's user has totals yet in its month, its day, and its month for its model: the first write
# of each counts the user once as active (or as one of the model's users).
KNOWN_ALREADY = (
    "SELECT EXISTS (SELECT 1 FROM cost_summaries WHERE user_id = ? AND period = ?),"
    " EXISTS (SELECT 1 FROM cost_days WHERE user_id = ? AND day = ?),"
    " EXISTS (SELECT 1 FROM cost_summary_models WHERE user_id = ? AND period = ? AND model_id = ?)"
)

_TOTALS = ", ".join(TOTAL_COUNTERS)
_MODELS = ", ".join(MODEL_COUNTERS)
USER_TOTALS = {
    "month": f"SELECT {_TOTALS}, updated_at FROM cost_summaries WHERE user_id = ? AND period = ?",
    "day": f"SELECT {_TOTALS}, updated_at FROM cost_days WHERE user_id = ? AND day = ?",
}
USER_MODELS = {
    "month": f"SELECT model_id, provider, {_MODELS} FROM cost_summary_models WHERE user_id = ? AND period = ?",
    "day": f"SELECT model_id, provider, {_MODELS} FROM cost_day_models WHERE user_id = ? AND day = ?",
}
# What a quota check reads: the total alone, by the row's primary key.
USER_SPEND = {
    "month": "SELECT cost_units FROM cost_summaries WHERE user_id = ? AND period = ?",
    "day": "SELECT cost_units FROM cost_days WHERE user_id = ? AND day = ?",
}
# A range of days is read through each table's primary key (user_id, day, ...): no scan.
USER_DAYS = f"SELECT day, {_TOTALS}, updated_at FROM cost_days WHERE user_id = ? AND day BETWEEN ? AND ? ORDER BY day"
USER_DAY_MODELS = (
    f"SELECT day, model_id, provider, {_MODELS} FROM cost_day_models WHERE user_id = ? AND day BETWEEN ? AND ?"
)
SYSTEM_TOTALS = f"SELECT {_TOTALS}, active_users, updated_at FROM system_costs WHERE granularity = ? AND period = ?"
SYSTEM_MODELS = (
    f"SELECT model_id, provider, {_MODELS}, unique_users FROM system_cost_models WHERE granularity = ? AND period = ?"
)
SYSTEM_DAYS = (
    f"SELECT period, {_TOTALS}, active_users, updated_at FROM system_costs"
    " WHERE granularity = 'day' AND period BETWEEN ? AND ? ORDER BY period"
)
# Through cost_summaries_by_period_cost and cost_summaries_by_period_user (schema 0012).
TOP_USERS = (
    "SELECT user_id, cost_units, requests, updated_at FROM cost_summaries"
    " WHERE period = ? AND cost_units >= ? ORDER BY cost_units DESC, user_id LIMIT ?"
)
PERIOD_USERS = (
    "SELECT user_id, cost_units, requests, updated_at FROM cost_summaries"
    " WHERE period = ? AND user_id > ? ORDER BY user_id LIMIT ?"
)
TOTALS_COLUMNS = (*TOTAL_COUNTERS, "updated_at")
SYSTEM_TOTALS_COLUMNS = (*TOTAL_COUNTERS, "active_users", "updated_at")
MODEL_COLUMNS = ("model_id", "provider", *MODEL_COUNTERS)
SYSTEM_MODEL_COLUMNS = (*MODEL_COLUMNS, "unique_users")


def units(amount: float) -> int:
    """`amount` in USD as an integer count of 1e-10 USD; exact, as CostEntry keeps money at that scale."""
    return int(money_decimal(amount) * MONEY_SCALE)


def usd(count: int) -> Decimal:
    return Decimal(count) / Decimal(MONEY_SCALE)


def total_values(entry: CostEntry) -> tuple[int, ...]:
    """What `entry` adds to a row of totals, in the order of TOTAL_COUNTERS."""
    usage = entry.usage
    return (
        units(entry.cost),
        entry.requests,
        usage.input_tokens,
        usage.output_tokens,
        usage.total_tokens,
        usage.cache_read_input_tokens,
        usage.cache_write_input_tokens,
        units(entry.cache_savings),
    )


def model_values(entry: CostEntry) -> tuple[int, ...]:
    """What `entry` adds to a model's row, in the order of MODEL_COUNTERS."""
    usage = entry.usage
    return (
        units(entry.cost),
        entry.requests,
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_input_tokens,
        usage.cache_write_input_tokens,
    )


def tally(columns: Sequence[str], row: Sequence[Any]) -> CostTally:
    """The sums in `row`, whose columns are named by `columns` (any of the counters, provider, updated_at)."""
    values = dict(zip(columns, row, strict=True))
    return CostTally(
        cost=usd(values["cost_units"]),
        requests=values["requests"],
        input_tokens=values["input_tokens"],
        output_tokens=values["output_tokens"],
        total_tokens=values.get("total_tokens", 0),
        cache_read_input_tokens=values["cache_read_input_tokens"],
        cache_write_input_tokens=values["cache_write_input_tokens"],
        cache_savings=usd(values.get("cache_savings_units", 0)),
        users=values.get("active_users", values.get("unique_users", 0)),
        provider=values.get("provider", ""),
        updated_at=values.get("updated_at"),
    )


def models_of(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, CostTally]:
    """Each model's sums by model id, from rows whose first column is the model id."""
    return {row[0]: tally(columns, row) for row in rows}
