"""RoleRepository on SQLite: a row per role with its JSON body, in the shared database file.

The set of roles is small and always read whole, so `list_roles` sorts in Python and the table needs no
column beside the key; a new field of AppRole needs no migration.
"""

from __future__ import annotations

import sqlite3
from functools import partial

from apis.shared.clock import now_iso
from apis.shared.rbac.exceptions import RoleExists
from apis.shared.rbac.models import AppRole, AppRoleUpdate
from apis.shared.rbac.repository import in_list_order
from apis.shared.storage.records import read_or_raise, read_or_skip
from apis.shared.storage.sqlite.database import SqliteDatabase, write_transaction

KIND = "role"


def _read(connection: sqlite3.Connection, role_id: str) -> AppRole | None:
    """The role, or None; CorruptRecord when its stored body no longer validates."""
    row = connection.execute("SELECT body FROM roles WHERE role_id = ?", (role_id,)).fetchone()
    return read_or_raise(KIND, role_id, lambda: AppRole.model_validate_json(row[0])) if row else None


class SqliteRoleRepository:
    """App roles in the shared SQLite file."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def get(self, role_id: str) -> AppRole | None:
        return await self._db.run(lambda connection: _read(connection, role_id))

    async def list_roles(self) -> list[AppRole]:
        def select(connection: sqlite3.Connection) -> list[tuple[str, str]]:
            return [(row[0], row[1]) for row in connection.execute("SELECT role_id, body FROM roles")]

        rows = await self._db.run(select)
        readable = (read_or_skip(KIND, role_id, partial(AppRole.model_validate_json, body)) for role_id, body in rows)
        return in_list_order(role for role in readable if role is not None)

    async def create(self, role: AppRole) -> AppRole:
        def insert(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "INSERT INTO roles (role_id, body) VALUES (?, ?) ON CONFLICT (role_id) DO NOTHING",
                (role.role_id, role.model_dump_json()),
            )
            return cursor.rowcount == 1

        if not await self._db.run(insert):
            raise RoleExists(f"role {role.role_id} exists already")
        return role

    async def update(self, role_id: str, changes: AppRoleUpdate) -> AppRole | None:
        def update(connection: sqlite3.Connection) -> AppRole | None:
            with write_transaction(connection):
                current = _read(connection, role_id)
                if current is None:
                    return None
                updated = changes.apply_to(current, updated_at=now_iso())
                connection.execute("UPDATE roles SET body = ? WHERE role_id = ?", (updated.model_dump_json(), role_id))
                return updated

        return await self._db.run(update)

    async def delete(self, role_id: str) -> bool:
        def delete(connection: sqlite3.Connection) -> bool:
            with write_transaction(connection):
                return connection.execute("DELETE FROM roles WHERE role_id = ?", (role_id,)).rowcount == 1

        return await self._db.run(delete)
