"""MemoryRepository on SQLite: a row per record (JSON body, with its owner, kind and session as columns), a row per
user who opted out. An add and the trim of the kind's oldest records are one transaction, as is a replace."""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Sequence
from functools import partial
from itertools import islice
from operator import itemgetter

from apis.shared.memory.models import MemoryKind, MemoryRecord
from apis.shared.memory.repository import DEFAULT_MAX_PER_KIND
from apis.shared.storage.records import read_or_raise, read_or_skip
from apis.shared.storage.sqlite.database import SqliteDatabase, write_transaction

KIND = "memory"


def _insert(connection: sqlite3.Connection, record: MemoryRecord) -> None:
    connection.execute(
        "INSERT INTO memories (user_id, record_id, kind, session_id, body) VALUES (?, ?, ?, ?, ?)",
        (record.user_id, record.record_id, record.kind.value, record.source_session_id, record.model_dump_json()),
    )


def _trim(connection: sqlite3.Connection, user_id: str, kind: MemoryKind, max_per_kind: int) -> None:
    """Delete the user's oldest records of `kind` beyond the newest `max_per_kind`; how many there are is read
    from memory_counts (schema 0016), so an add under the limit reads one row, and one over it deletes from the
    oldest end of the kind's index."""
    row = connection.execute(
        "SELECT records FROM memory_counts WHERE user_id = ? AND kind = ?", (user_id, kind.value)
    ).fetchone()
    excess = (row[0] if row else 0) - max_per_kind
    if excess > 0:
        connection.execute(
            "DELETE FROM memories WHERE user_id = ? AND kind = ? AND record_id IN (SELECT record_id FROM memories"
            " INDEXED BY memories_by_kind WHERE user_id = ? AND kind = ? ORDER BY record_id LIMIT ?)",
            (user_id, kind.value, user_id, kind.value, excess),
        )


class SqliteMemoryRepository:
    """Memory records in the shared SQLite file; see the module docstring."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def add(self, record: MemoryRecord, *, max_per_kind: int = DEFAULT_MAX_PER_KIND) -> MemoryRecord:
        def insert(connection: sqlite3.Connection) -> MemoryRecord:
            with write_transaction(connection):
                _insert(connection, record)
                _trim(connection, record.user_id, record.kind, max_per_kind)
            return record

        return await self._db.write(insert)

    async def replace(self, user_id: str, old_record_id: str, record: MemoryRecord) -> MemoryRecord | None:
        def swap(connection: sqlite3.Connection) -> MemoryRecord | None:
            with write_transaction(connection):
                removed = connection.execute(
                    "DELETE FROM memories WHERE user_id = ? AND record_id = ?", (user_id, old_record_id)
                ).rowcount
                if removed != 1:
                    return None
                _insert(connection, record)
                return record

        return await self._db.write(swap)

    async def get(self, user_id: str, record_id: str) -> MemoryRecord | None:
        def select(connection: sqlite3.Connection) -> MemoryRecord | None:
            row = connection.execute(
                "SELECT body FROM memories WHERE user_id = ? AND record_id = ?", (user_id, record_id)
            ).fetchone()
            if row is None:
                return None
            return read_or_raise(KIND, record_id, partial(MemoryRecord.model_validate_json, row[0]))

        return await self._db.read(select)

    async def list_records(
        self, user_id: str, kinds: Sequence[MemoryKind], *, limit: int, session_id: str | None = None
    ) -> list[MemoryRecord]:
        names = sorted({kind.value for kind in kinds})
        if not names or limit <= 0:
            return []
        # One query per kind, each pinned to the index that answers it newest first: with `kind IN (...)`, or
        # without table statistics (this file has none), SQLite walks the user's whole primary-key range instead,
        # every record and its body, which grew with each conversation's summary.
        if session_id is None:
            sql = (
                "SELECT record_id, body FROM memories INDEXED BY memories_by_kind"
                " WHERE user_id = ? AND kind = ? ORDER BY record_id DESC LIMIT ?"
            )
            queries: list[tuple[object, ...]] = [(user_id, name, limit) for name in names]
        else:
            sql = (
                "SELECT record_id, body FROM memories INDEXED BY memories_by_session"
                " WHERE user_id = ? AND session_id = ? AND kind = ? ORDER BY record_id DESC LIMIT ?"
            )
            queries = [(user_id, session_id, name, limit) for name in names]

        def select(connection: sqlite3.Connection) -> list[MemoryRecord]:
            per_kind = [connection.execute(sql, parameters).fetchall() for parameters in queries]
            newest = islice(heapq.merge(*per_kind, key=itemgetter(0), reverse=True), limit)
            parse = MemoryRecord.model_validate_json
            readable = (read_or_skip(KIND, key, partial(parse, body)) for key, body in newest)
            return [record for record in readable if record is not None]

        return await self._db.read(select)

    async def delete(self, user_id: str, record_id: str) -> bool:
        def remove(connection: sqlite3.Connection) -> bool:
            with write_transaction(connection):
                cursor = connection.execute(
                    "DELETE FROM memories WHERE user_id = ? AND record_id = ?", (user_id, record_id)
                )
                return cursor.rowcount == 1

        return await self._db.run(remove)

    async def opted_out(self, user_id: str) -> bool:
        def select(connection: sqlite3.Connection) -> bool:
            row = connection.execute("SELECT 1 FROM memory_opt_outs WHERE user_id = ?", (user_id,)).fetchone()
            return row is not None

        return await self._db.read(select)

    async def set_opted_out(self, user_id: str, opted_out: bool) -> None:
        def write(connection: sqlite3.Connection) -> None:
            with write_transaction(connection):
                if opted_out:
                    connection.execute(
                        "INSERT INTO memory_opt_outs (user_id) VALUES (?) ON CONFLICT (user_id) DO NOTHING", (user_id,)
                    )
                else:
                    connection.execute("DELETE FROM memory_opt_outs WHERE user_id = ?", (user_id,))

        await self._db.run(write)
