"""QuotaRepository on SQLite: the tables of migration 0013, a JSON body per record beside its looked-up columns.

Every rule the port keeps atomically (an assignment's tier exists, a tier in use stays, one assignment per user
or app role) is checked inside the write transaction that would break it, so concurrent writers serialise on
SQLite's write lock; the foreign key and the partial unique index stand behind those checks.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from apis.shared.clock import now_iso
from apis.shared.pagination import Page
from apis.shared.quota.exceptions import AssignmentExists, TierExists, TierInUse, UnknownTier
from apis.shared.quota.models import (
    AssignmentType,
    QuotaAssignment,
    QuotaEvent,
    QuotaEventType,
    QuotaOverride,
    QuotaTier,
)
from apis.shared.quota.repository import (
    UNIQUE_TARGET_TYPES,
    event_cursor,
    event_token,
    in_end_order,
    in_priority_order,
)
from apis.shared.quota.schemas import QuotaAssignmentUpdate, QuotaOverrideUpdate, QuotaTierUpdate
from apis.shared.storage.records import read_or_raise, read_or_skip
from apis.shared.storage.sqlite.database import SqliteDatabase, write_transaction

R = TypeVar("R", QuotaTier, QuotaAssignment, QuotaOverride, QuotaEvent)


def _one(connection: sqlite3.Connection, model: type[R], kind: str, sql: str, key: str) -> R | None:
    """The record of `sql` (which selects its body by `key`), or None; CorruptRecord when it no longer validates."""
    row = connection.execute(sql, (key,)).fetchone()
    return read_or_raise(kind, key, partial(model.model_validate_json, row[0])) if row else None


def _all(rows: list[tuple[str, str]], model: type[R], kind: str) -> list[R]:
    """The records of rows of (key, body), leaving out (logged and counted) those that no longer validate."""
    readable = (read_or_skip(kind, key, partial(model.model_validate_json, body)) for key, body in rows)
    return [record for record in readable if record is not None]


def _insert_event(connection: sqlite3.Connection, *, event: QuotaEvent, once: bool) -> bool:
    """Insert the event; `once`: unless its id is taken (the primary key decides, under the write lock). True
    when inserted."""
    columns = (event.event_id, event.user_id, event.tier_id, event.event_type.value, event.timestamp)
    cursor = connection.execute(
        "INSERT INTO quota_events (event_id, user_id, tier_id, event_type, timestamp, body) VALUES (?, ?, ?, ?, ?, ?)"
        + (" ON CONFLICT (event_id) DO NOTHING" if once else ""),
        (*columns, event.model_dump_json()),
    )
    return cursor.rowcount == 1


_TIER = "SELECT body FROM quota_tiers WHERE tier_id = ?"
_ASSIGNMENT = "SELECT body FROM quota_assignments WHERE assignment_id = ?"
_OVERRIDE = "SELECT body FROM quota_overrides WHERE override_id = ?"
T = TypeVar("T")


class SqliteQuotaRepository:
    """Quota tiers, assignments, overrides and events in the shared SQLite file."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def _rows(self, sql: str, *parameters: Any) -> list[tuple[str, str]]:
        def select(connection: sqlite3.Connection) -> list[tuple[str, str]]:
            return [(row[0], row[1]) for row in connection.execute(sql, parameters)]

        return await self._db.run(select)

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def transaction(connection: sqlite3.Connection) -> T:
            with write_transaction(connection):
                return work(connection)

        return await self._db.run(transaction)

    async def get_tier(self, tier_id: str) -> QuotaTier | None:
        return await self._db.run(lambda connection: _one(connection, QuotaTier, "quota tier", _TIER, tier_id))

    async def list_tiers(self) -> list[QuotaTier]:
        rows = await self._rows("SELECT tier_id, body FROM quota_tiers ORDER BY tier_id")
        return _all(rows, QuotaTier, "quota tier")

    async def create_tier(self, tier: QuotaTier) -> QuotaTier:
        def insert(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "INSERT INTO quota_tiers (tier_id, body) VALUES (?, ?) ON CONFLICT (tier_id) DO NOTHING",
                (tier.tier_id, tier.model_dump_json()),
            )
            return cursor.rowcount == 1

        if not await self._write(insert):
            raise TierExists(f"tier {tier.tier_id} exists already")
        return tier

    async def update_tier(self, tier_id: str, changes: QuotaTierUpdate) -> QuotaTier | None:
        def update(connection: sqlite3.Connection) -> QuotaTier | None:
            current = _one(connection, QuotaTier, "quota tier", _TIER, tier_id)
            if current is None:
                return None
            updated = changes.apply_to(current, updated_at=now_iso())
            connection.execute(
                "UPDATE quota_tiers SET body = ? WHERE tier_id = ?", (updated.model_dump_json(), tier_id)
            )
            return updated

        return await self._write(update)

    async def delete_tier(self, tier_id: str) -> bool:
        def delete(connection: sqlite3.Connection) -> bool:
            # The foreign key keeps a named tier in place; checked first, so that the answer is a 409.
            if connection.execute("SELECT 1 FROM quota_assignments WHERE tier_id = ? LIMIT 1", (tier_id,)).fetchone():
                raise TierInUse(f"tier {tier_id} is assigned: delete or reassign its assignments first")
            return connection.execute("DELETE FROM quota_tiers WHERE tier_id = ?", (tier_id,)).rowcount == 1

        return await self._write(delete)

    async def get_assignment(self, assignment_id: str) -> QuotaAssignment | None:
        return await self._db.run(
            lambda connection: _one(connection, QuotaAssignment, "quota assignment", _ASSIGNMENT, assignment_id)
        )

    async def list_assignments(self, assignment_type: AssignmentType | None = None) -> list[QuotaAssignment]:
        if assignment_type is None:
            rows = await self._rows("SELECT assignment_id, body FROM quota_assignments")
        else:
            rows = await self._rows(
                "SELECT assignment_id, body FROM quota_assignments WHERE assignment_type = ?", assignment_type.value
            )
        return in_priority_order(_all(rows, QuotaAssignment, "quota assignment"))

    async def find_assignments(self, assignment_type: AssignmentType, target: str) -> list[QuotaAssignment]:
        rows = await self._rows(
            "SELECT assignment_id, body FROM quota_assignments WHERE assignment_type = ? AND target = ?",
            assignment_type.value,
            target,
        )
        return in_priority_order(_all(rows, QuotaAssignment, "quota assignment"))

    async def create_assignment(self, assignment: QuotaAssignment) -> QuotaAssignment:
        def insert(connection: sqlite3.Connection) -> None:
            if not connection.execute("SELECT 1 FROM quota_tiers WHERE tier_id = ?", (assignment.tier_id,)).fetchone():
                raise UnknownTier(f"tier {assignment.tier_id} does not exist")
            if (
                assignment.assignment_type in UNIQUE_TARGET_TYPES
                and connection.execute(
                    "SELECT 1 FROM quota_assignments WHERE assignment_type = ? AND target = ?",
                    (assignment.assignment_type.value, assignment.target),
                ).fetchone()
            ):
                raise AssignmentExists(
                    f"{assignment.target} has a {assignment.assignment_type.value} assignment already"
                )
            connection.execute(
                "INSERT INTO quota_assignments (assignment_id, tier_id, assignment_type, target, body)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    assignment.assignment_id,
                    assignment.tier_id,
                    assignment.assignment_type.value,
                    assignment.target,
                    assignment.model_dump_json(),
                ),
            )

        await self._write(insert)
        return assignment

    async def update_assignment(self, assignment_id: str, changes: QuotaAssignmentUpdate) -> QuotaAssignment | None:
        def update(connection: sqlite3.Connection) -> QuotaAssignment | None:
            current = _one(connection, QuotaAssignment, "quota assignment", _ASSIGNMENT, assignment_id)
            if current is None:
                return None
            updated = changes.apply_to(current, updated_at=now_iso())
            if not connection.execute("SELECT 1 FROM quota_tiers WHERE tier_id = ?", (updated.tier_id,)).fetchone():
                raise UnknownTier(f"tier {updated.tier_id} does not exist")
            connection.execute(
                "UPDATE quota_assignments SET tier_id = ?, body = ? WHERE assignment_id = ?",
                (updated.tier_id, updated.model_dump_json(), assignment_id),
            )
            return updated

        return await self._write(update)

    async def delete_assignment(self, assignment_id: str) -> bool:
        def delete(connection: sqlite3.Connection) -> bool:
            sql = "DELETE FROM quota_assignments WHERE assignment_id = ?"
            return connection.execute(sql, (assignment_id,)).rowcount == 1

        return await self._write(delete)

    async def get_override(self, override_id: str) -> QuotaOverride | None:
        return await self._db.run(
            lambda connection: _one(connection, QuotaOverride, "quota override", _OVERRIDE, override_id)
        )

    async def list_overrides(self, user_id: str | None = None) -> list[QuotaOverride]:
        if user_id is None:
            rows = await self._rows("SELECT override_id, body FROM quota_overrides")
        else:
            rows = await self._rows("SELECT override_id, body FROM quota_overrides WHERE user_id = ?", user_id)
        return in_end_order(_all(rows, QuotaOverride, "quota override"))

    async def create_override(self, override: QuotaOverride) -> QuotaOverride:
        def insert(connection: sqlite3.Connection) -> None:
            connection.execute(
                "INSERT INTO quota_overrides (override_id, user_id, body) VALUES (?, ?, ?)",
                (override.override_id, override.user_id, override.model_dump_json()),
            )

        await self._write(insert)
        return override

    async def update_override(self, override_id: str, changes: QuotaOverrideUpdate) -> QuotaOverride | None:
        def update(connection: sqlite3.Connection) -> QuotaOverride | None:
            current = _one(connection, QuotaOverride, "quota override", _OVERRIDE, override_id)
            if current is None:
                return None
            updated = changes.apply_to(current)
            connection.execute(
                "UPDATE quota_overrides SET body = ? WHERE override_id = ?", (updated.model_dump_json(), override_id)
            )
            return updated

        return await self._write(update)

    async def delete_override(self, override_id: str) -> bool:
        def delete(connection: sqlite3.Connection) -> bool:
            return connection.execute("DELETE FROM quota_overrides WHERE override_id = ?", (override_id,)).rowcount == 1

        return await self._write(delete)

    async def record_event(self, event: QuotaEvent) -> None:
        await self._write(partial(_insert_event, event=event, once=False))

    async def record_event_once(self, event: QuotaEvent) -> bool:
        return await self._write(partial(_insert_event, event=event, once=True))

    async def list_events(
        self,
        *,
        user_id: str | None = None,
        tier_id: str | None = None,
        event_type: QuotaEventType | None = None,
        since: str | None = None,
        limit: int,
        page_token: str | None = None,
    ) -> Page[QuotaEvent]:
        below = event_cursor(page_token)
        conditions: list[str] = []
        parameters: list[Any] = []
        for column, value in (("user_id", user_id), ("tier_id", tier_id), ("event_type", event_type)):
            if value is not None:
                conditions.append(f"{column} = ?")
                parameters.append(str(value))
        if since is not None:
            conditions.append("timestamp >= ?")
            parameters.append(since)
        if below is not None:
            conditions.append("(timestamp, event_id) < (?, ?)")
            parameters.extend(below)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        sql = f"SELECT event_id, body FROM quota_events{where} ORDER BY timestamp DESC, event_id DESC LIMIT ?"
        rows = await self._rows(sql, *parameters, limit + 1)
        events = _all(rows[:limit], QuotaEvent, "quota event")
        more = len(rows) > limit and bool(events)
        return Page(items=events, next_token=event_token(events[-1]) if more else None)
