"""ToolRepository on SQLite: a row per catalogue record (JSON body and its revision), a row per preference."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from functools import partial

from apis.shared.storage.records import read_or_raise, read_or_skip
from apis.shared.storage.sqlite.database import SqliteDatabase, write_transaction
from apis.shared.tools.exceptions import ToolExists
from apis.shared.tools.models import ToolRecord

KIND = "tool"


def _preferences(connection: sqlite3.Connection, user_id: str) -> dict[str, bool]:
    rows = connection.execute("SELECT tool_id, enabled FROM tool_preferences WHERE user_id = ?", (user_id,))
    return {str(tool_id): bool(enabled) for tool_id, enabled in rows}


class SqliteToolRepository:
    """The catalogue and preferences in the shared SQLite file; each write is one statement or transaction."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def get_tool(self, tool_id: str) -> ToolRecord | None:
        def select(connection: sqlite3.Connection) -> ToolRecord | None:
            row = connection.execute("SELECT body FROM tools WHERE tool_id = ?", (tool_id,)).fetchone()
            return None if row is None else read_or_raise(KIND, tool_id, lambda: ToolRecord.model_validate_json(row[0]))

        return await self._db.run(select)

    async def list_tools(self) -> list[ToolRecord]:
        def select(connection: sqlite3.Connection) -> list[ToolRecord]:
            rows = connection.execute("SELECT tool_id, body FROM tools ORDER BY tool_id").fetchall()
            readable = (read_or_skip(KIND, key, partial(ToolRecord.model_validate_json, body)) for key, body in rows)
            return [tool for tool in readable if tool is not None]

        return await self._db.run(select)

    async def create_tool(self, tool: ToolRecord) -> ToolRecord:
        def insert(connection: sqlite3.Connection) -> ToolRecord:
            with write_transaction(connection):
                if connection.execute("SELECT 1 FROM tools WHERE tool_id = ?", (tool.tool_id,)).fetchone():
                    raise ToolExists(tool.tool_id)
                connection.execute(
                    "INSERT INTO tools (tool_id, revision, body) VALUES (?, ?, ?)",
                    (tool.tool_id, tool.revision, tool.model_dump_json()),
                )
            return tool

        return await self._db.run(insert)

    async def replace_tool(self, tool: ToolRecord, *, read_revision: int) -> bool:
        def change(connection: sqlite3.Connection) -> bool:
            with write_transaction(connection):
                cursor = connection.execute(
                    "UPDATE tools SET revision = ?, body = ? WHERE tool_id = ? AND revision = ?",
                    (tool.revision, tool.model_dump_json(), tool.tool_id, read_revision),
                )
                return cursor.rowcount == 1

        return await self._db.run(change)

    async def delete_tool(self, tool_id: str) -> bool:
        def remove(connection: sqlite3.Connection) -> bool:
            with write_transaction(connection):
                return connection.execute("DELETE FROM tools WHERE tool_id = ?", (tool_id,)).rowcount == 1

        return await self._db.run(remove)

    async def get_preferences(self, user_id: str) -> dict[str, bool]:
        return await self._db.run(lambda connection: _preferences(connection, user_id))

    async def merge_preferences(self, user_id: str, changes: Mapping[str, bool]) -> dict[str, bool]:
        def upsert(connection: sqlite3.Connection) -> dict[str, bool]:
            with write_transaction(connection):
                connection.executemany(
                    "INSERT INTO tool_preferences (user_id, tool_id, enabled) VALUES (?, ?, ?)"
                    " ON CONFLICT (user_id, tool_id) DO UPDATE SET enabled = excluded.enabled",
                    [(user_id, tool_id, int(enabled)) for tool_id, enabled in changes.items()],
                )
                return _preferences(connection, user_id)

        return await self._db.run(upsert)
