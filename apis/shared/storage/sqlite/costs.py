"""CostRepository on SQLite: a totals row per user and month, a row per model, both counted by upserts.

`add` runs two `INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x` in one write transaction, so the
database adds to whatever is stored when the lock is taken: concurrent turns, from any process, all count.
Money is stored as integer units of 1e-10 USD (MONEY_SCALE), which SQLite sums exactly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from apis.shared.clock import now_iso
from apis.shared.costs.models import MONEY_SCALE, CostEntry, CostSummary, ModelCostBreakdown, money_decimal
from apis.shared.storage.sqlite.database import SqliteDatabase, write_transaction

_MONTH_COUNTERS = (
    "cost_units",
    "requests",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cache_read_input_tokens",
    "cache_write_input_tokens",
    "cache_savings_units",
)
_MODEL_COUNTERS = (
    "cost_units",
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_write_input_tokens",
)


def _increments(counters: Sequence[str]) -> str:
    return ", ".join(f"{name} = {name} + excluded.{name}" for name in counters)


_ADD_TO_MONTH = (
    f"INSERT INTO cost_summaries (user_id, period, {', '.join(_MONTH_COUNTERS)}, updated_at)"
    f" VALUES ({', '.join('?' * (len(_MONTH_COUNTERS) + 3))})"
    f" ON CONFLICT (user_id, period) DO UPDATE SET {_increments(_MONTH_COUNTERS)}, updated_at = excluded.updated_at"
)
_ADD_TO_MODEL = (
    f"INSERT INTO cost_summary_models (user_id, period, model_id, provider, {', '.join(_MODEL_COUNTERS)})"
    f" VALUES ({', '.join('?' * (len(_MODEL_COUNTERS) + 4))})"
    f" ON CONFLICT (user_id, period, model_id) DO UPDATE SET {_increments(_MODEL_COUNTERS)},"
    " provider = excluded.provider"
)
_SELECT_MONTH = f"SELECT {', '.join(_MONTH_COUNTERS)}, updated_at FROM cost_summaries WHERE user_id = ? AND period = ?"
_SELECT_MODELS = (
    f"SELECT model_id, provider, {', '.join(_MODEL_COUNTERS)} FROM cost_summary_models WHERE user_id = ? AND period = ?"
)


def _units(amount: float) -> int:
    """`amount` in USD as an integer count of 1e-10 USD; exact, as CostEntry keeps money at that scale."""
    return int(money_decimal(amount) * MONEY_SCALE)


def _usd(units: int) -> float:
    return float(Decimal(units) / MONEY_SCALE)


def _month_row(entry: CostEntry, at: str) -> tuple[Any, ...]:
    usage = entry.usage
    return (
        entry.user_id,
        entry.period,
        _units(entry.cost),
        entry.requests,
        usage.input_tokens,
        usage.output_tokens,
        usage.total_tokens,
        usage.cache_read_input_tokens,
        usage.cache_write_input_tokens,
        _units(entry.cache_savings),
        at,
    )


def _model_row(entry: CostEntry) -> tuple[Any, ...]:
    usage = entry.usage
    return (
        entry.user_id,
        entry.period,
        entry.model_id,
        entry.provider,
        _units(entry.cost),
        entry.requests,
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_input_tokens,
        usage.cache_write_input_tokens,
    )


def _breakdown(row: Sequence[Any]) -> ModelCostBreakdown:
    model_id, provider, cost_units, requests, input_tokens, output_tokens, cache_read, cache_write = row
    return ModelCostBreakdown(
        model_id=model_id,
        provider=provider,
        total_cost=_usd(cost_units),
        total_requests=requests,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_input_tokens=cache_read,
        cache_write_input_tokens=cache_write,
    )


def _summary(user_id: str, period: str, month: Sequence[Any], models: list[Sequence[Any]]) -> CostSummary:
    cost_units, requests, input_tokens, output_tokens, total_tokens, cache_read, cache_write, savings, at = month
    return CostSummary(
        user_id=user_id,
        period=period,
        total_cost=_usd(cost_units),
        total_requests=requests,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=total_tokens,
        cache_read_input_tokens=cache_read,
        cache_write_input_tokens=cache_write,
        cache_savings=_usd(savings),
        models=[_breakdown(row) for row in models],
        updated_at=at,
    )


def add_entry(connection: sqlite3.Connection, entry: CostEntry, at: str) -> None:
    """Count `entry` into its month and its model's share; the caller holds the write transaction.

    The sessions repository calls it too, so that a message and its cost land in one transaction.
    """
    connection.execute(_ADD_TO_MONTH, _month_row(entry, at))
    connection.execute(_ADD_TO_MODEL, _model_row(entry))


@contextmanager
def _read_snapshot(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read transaction: the totals and the models are read from one state, never across an `add`."""
    connection.execute("BEGIN")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


class SqliteCostRepository:
    """Monthly cost totals in the shared SQLite file."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def add(self, entry: CostEntry) -> None:
        at = now_iso()

        def upsert(connection: sqlite3.Connection) -> None:
            with write_transaction(connection):
                add_entry(connection, entry, at)

        await self._db.run(upsert)

    async def get_summary(self, user_id: str, period: str) -> CostSummary:
        def select(connection: sqlite3.Connection) -> tuple[Sequence[Any] | None, list[Sequence[Any]]]:
            with _read_snapshot(connection):
                month: Sequence[Any] | None = connection.execute(_SELECT_MONTH, (user_id, period)).fetchone()
                models: list[Sequence[Any]] = connection.execute(_SELECT_MODELS, (user_id, period)).fetchall()
            return month, models

        month, models = await self._db.run(select)
        if month is None:
            return CostSummary(user_id=user_id, period=period)
        return _summary(user_id, period, month, models)
