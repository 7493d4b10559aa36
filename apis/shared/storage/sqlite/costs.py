"""CostRepository on SQLite: the user's month and day, the system's month and day, each with a row per model, all
counted by upserts in one write transaction (SQL in cost_rows.py).

`add_entry` runs inside the caller's write transaction (BEGIN IMMEDIATE: the write lock is held from its
start), so whether the user already has totals of the month, the day and the month's model is read and acted
on with no other writer in between: the first write of each counts the user as active exactly once, from any
process. Concurrent turns all count, as every counter is added to in place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from apis.shared.clock import now_iso
from apis.shared.costs.models import CostEntry, CostSummary, SystemCostSummary, UserPeriodCost
from apis.shared.costs.tally import CostTally
from apis.shared.pagination import Page, decode_token, encode_token
from apis.shared.storage.sqlite import cost_rows as sql
from apis.shared.storage.sqlite.database import SqliteDatabase, write_transaction

Rows = list[Sequence[Any]]


def add_entry(connection: sqlite3.Connection, entry: CostEntry, at: str) -> None:
    """Count `entry` into its user's month and day and the system's, each overall and for its model; the
    caller holds the write transaction.

    The sessions repository calls it too, so that a message and its cost land in one transaction.
    """
    user, month, day, model = entry.user_id, entry.period, entry.day, entry.model_id
    known = connection.execute(sql.KNOWN_ALREADY, (user, month, user, day, user, month, model)).fetchone()
    new_in_month, new_in_day, new_model_user = (int(not found) for found in known)
    totals, models = sql.total_values(entry), sql.model_values(entry)
    connection.execute(sql.ADD_TO_USER_MONTH, (user, month, *totals, at))
    connection.execute(sql.ADD_TO_USER_MONTH_MODEL, (user, month, model, *models, entry.provider))
    connection.execute(sql.ADD_TO_USER_DAY, (user, day, *totals, at))
    connection.execute(sql.ADD_TO_USER_DAY_MODEL, (user, day, model, *models, entry.provider))
    connection.execute(sql.ADD_TO_SYSTEM, ("month", month, *totals, new_in_month, at))
    connection.execute(sql.ADD_TO_SYSTEM, ("day", day, *totals, new_in_day, at))
    connection.execute(sql.ADD_TO_SYSTEM_MODEL, ("month", month, model, *models, new_model_user, entry.provider))
    connection.execute(sql.ADD_TO_SYSTEM_MODEL, ("day", day, model, *models, 0, entry.provider))


@contextmanager
def _read_snapshot(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read transaction: totals and their models are read from one state, never across an `add`."""
    connection.execute("BEGIN")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _granularity(period: str) -> str:
    return "day" if len(period) == len("YYYY-MM-DD") else "month"


class SqliteCostRepository:
    """Cost totals and rollups in the shared SQLite file."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def add(self, entry: CostEntry) -> None:
        at = now_iso()

        def upsert(connection: sqlite3.Connection) -> None:
            with write_transaction(connection):
                add_entry(connection, entry, at)

        await self._db.write(upsert)

    async def _select(self, *queries: tuple[str, Sequence[Any]]) -> list[Rows]:
        """The rows of each query, all read in one snapshot."""

        def select(connection: sqlite3.Connection) -> list[Rows]:
            with _read_snapshot(connection):
                return [connection.execute(query, parameters).fetchall() for query, parameters in queries]

        return await self._db.read(select)

    async def _user_summary(self, user_id: str, period: str) -> CostSummary:
        kind = _granularity(period)
        totals, models = await self._select(
            (sql.USER_TOTALS[kind], (user_id, period)), (sql.USER_MODELS[kind], (user_id, period))
        )
        if not totals:
            return CostSummary(user_id=user_id, period=period)
        overall = sql.tally(sql.TOTALS_COLUMNS, totals[0])
        return overall.summary(user_id, period, sql.models_of(sql.MODEL_COLUMNS, models))

    async def get_summary(self, user_id: str, period: str) -> CostSummary:
        return await self._user_summary(user_id, period)

    async def get_day_summary(self, user_id: str, day: str) -> CostSummary:
        return await self._user_summary(user_id, day)

    async def get_spend(self, user_id: str, period: str) -> float:
        query = sql.USER_SPEND[_granularity(period)]
        row = await self._db.read(lambda connection: connection.execute(query, (user_id, period)).fetchone())
        return float(sql.usd(row[0])) if row else 0.0

    async def list_day_summaries(self, user_id: str, first_day: str, last_day: str) -> list[CostSummary]:
        days, models = await self._select(
            (sql.USER_DAYS, (user_id, first_day, last_day)), (sql.USER_DAY_MODELS, (user_id, first_day, last_day))
        )
        by_day: dict[str, dict[str, CostTally]] = {}
        for day, *row in models:
            by_day.setdefault(day, {})[row[0]] = sql.tally(sql.MODEL_COLUMNS, row)
        return [sql.tally(sql.TOTALS_COLUMNS, row).summary(user_id, day, by_day.get(day, {})) for day, *row in days]

    async def get_system_summary(self, period: str) -> SystemCostSummary:
        key = (_granularity(period), period)
        totals, models = await self._select((sql.SYSTEM_TOTALS, key), (sql.SYSTEM_MODELS, key))
        if not totals:
            return SystemCostSummary(period=period)
        overall = sql.tally(sql.SYSTEM_TOTALS_COLUMNS, totals[0])
        return overall.system_summary(period, sql.models_of(sql.SYSTEM_MODEL_COLUMNS, models))

    async def list_system_days(self, first_day: str, last_day: str) -> list[SystemCostSummary]:
        (days,) = await self._select((sql.SYSTEM_DAYS, (first_day, last_day)))
        return [sql.tally(sql.SYSTEM_TOTALS_COLUMNS, row).system_summary(day, {}) for day, *row in days]

    async def list_top_users(self, period: str, *, limit: int, min_cost: float = 0.0) -> list[UserPeriodCost]:
        (rows,) = await self._select((sql.TOP_USERS, (period, sql.units(min_cost), limit)))
        return [_user_period(period, row) for row in rows]

    async def list_period_users(
        self, period: str, *, limit: int, page_token: str | None = None
    ) -> Page[UserPeriodCost]:
        after = decode_token(page_token, fields=("userId",))["userId"] if page_token is not None else ""
        (rows,) = await self._select((sql.PERIOD_USERS, (period, after, limit + 1)))
        users = [_user_period(period, row) for row in rows[:limit]]
        more = len(rows) > limit
        return Page(items=users, next_token=encode_token({"userId": users[-1].user_id}) if more else None)


def _user_period(period: str, row: Sequence[Any]) -> UserPeriodCost:
    user_id, cost_units, requests, updated_at = row
    return UserPeriodCost(
        user_id=user_id,
        period=period,
        total_cost=float(sql.usd(cost_units)),
        total_requests=requests,
        updated_at=updated_at,
    )
