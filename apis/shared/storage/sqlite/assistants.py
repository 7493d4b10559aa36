"""AssistantRepository on SQLite: `assistants` (indexed columns and the record as JSON) and `assistant_shares`.

Migration 0010 holds the tables and the indexes each list reads; deleting an assistant removes its shares in
the same transaction (and the foreign key cascades, should a share be left).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from apis.shared.assistants.exceptions import AssistantNotFound
from apis.shared.assistants.models import Assistant, AssistantShare, ListedAssistant, ListPosition, normalize_email
from apis.shared.errors import ConflictError
from apis.shared.storage.sqlite.database import SqliteDatabase, write_transaction

_SHARE_COLUMNS = "assistant_id, email, created_at, first_interacted"


def _assistant(record: str) -> Assistant:
    return Assistant.model_validate_json(record)


def _listed(rows: Sequence[Sequence[Any]]) -> list[ListedAssistant]:
    """Rows of (record, first_interacted or None)."""
    listed = []
    for record, first_interacted in rows:
        assistant = _assistant(record)
        interacted = None if first_interacted is None else bool(first_interacted)
        listed.append(ListedAssistant(position=assistant.position, assistant=assistant, first_interacted=interacted))
    return listed


def _below(before: ListPosition | None, created: str, assistant_id: str) -> tuple[str, dict[str, Any]]:
    if before is None:
        return "", {}
    return f" AND ({created}, {assistant_id}) < (:created_at, :assistant_id)", {
        "created_at": before[0],
        "assistant_id": before[1],
    }


def owned_query(below: str) -> str:
    """An owner's assistants below a position (`below`, from `_below`), through assistants_by_owner."""
    return (
        f"SELECT record, NULL FROM assistants WHERE owner_id = :owner_id{below}"
        " ORDER BY created_at DESC, assistant_id DESC LIMIT :limit"
    )


def public_query(below: str) -> str:
    """Public assistants through the partial index assistants_public: its condition is written as a literal."""
    return (
        f"SELECT record, NULL FROM assistants WHERE visibility = 'PUBLIC'{below}"
        " ORDER BY created_at DESC, assistant_id DESC LIMIT :limit"
    )


def shared_query(below: str) -> str:
    """The assistants shared with an email, through assistant_shares_by_email."""
    return (
        "SELECT a.record, s.first_interacted FROM assistant_shares AS s"
        f" JOIN assistants AS a ON a.assistant_id = s.assistant_id WHERE s.email = :email{below}"
        " ORDER BY s.assistant_created_at DESC, s.assistant_id DESC LIMIT :limit"
    )


def below_position(created: str, assistant_id: str) -> str:
    """The condition `_below` adds for a position, for a query plan's sake."""
    return _below(("x", "y"), created, assistant_id)[0]


def _share(row: Sequence[Any]) -> AssistantShare:
    return AssistantShare(assistant_id=row[0], email=row[1], created_at=row[2], first_interacted=bool(row[3]))


class SqliteAssistantRepository:
    """Assistants and their shares in the shared SQLite file."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def create(self, assistant: Assistant) -> Assistant:
        row = (
            assistant.assistant_id,
            assistant.owner_id,
            assistant.visibility.value,
            assistant.status.value,
            assistant.created_at,
            assistant.model_dump_json(),
        )

        def insert(connection: sqlite3.Connection) -> bool:
            with write_transaction(connection):
                return (
                    connection.execute(
                        "INSERT INTO assistants (assistant_id, owner_id, visibility, status, created_at, record)"
                        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (assistant_id) DO NOTHING",
                        row,
                    ).rowcount
                    == 1
                )

        if not await self._db.run(insert):
            raise ConflictError(f"assistant id {assistant.assistant_id} is taken")
        return assistant

    async def get(self, assistant_id: str) -> Assistant | None:
        def read(connection: sqlite3.Connection) -> Assistant | None:
            row = connection.execute("SELECT record FROM assistants WHERE assistant_id = ?", (assistant_id,)).fetchone()
            return _assistant(row[0]) if row else None

        return await self._db.run(read)

    async def replace(self, assistant: Assistant) -> Assistant | None:
        record = assistant.model_dump_json()
        values = (assistant.visibility.value, assistant.status.value, record, assistant.assistant_id)

        def write(connection: sqlite3.Connection) -> bool:
            with write_transaction(connection):
                return (
                    connection.execute(
                        "UPDATE assistants SET visibility = ?, status = ?, record = ? WHERE assistant_id = ?", values
                    ).rowcount
                    == 1
                )

        return assistant if await self._db.run(write) else None

    async def delete(self, assistant_id: str) -> bool:
        def remove(connection: sqlite3.Connection) -> bool:
            with write_transaction(connection):
                connection.execute("DELETE FROM assistant_shares WHERE assistant_id = ?", (assistant_id,))
                removed = connection.execute("DELETE FROM assistants WHERE assistant_id = ?", (assistant_id,))
                return removed.rowcount == 1

        return await self._db.run(remove)

    async def _list(self, sql: str, params: dict[str, Any]) -> list[ListedAssistant]:
        return await self._db.run(lambda connection: _listed(connection.execute(sql, params).fetchall()))

    async def list_owned(self, owner_id: str, *, before: ListPosition | None, limit: int) -> list[ListedAssistant]:
        below, params = _below(before, "created_at", "assistant_id")
        return await self._list(owned_query(below), {**params, "owner_id": owner_id, "limit": limit})

    async def list_public(self, *, before: ListPosition | None, limit: int) -> list[ListedAssistant]:
        below, params = _below(before, "created_at", "assistant_id")
        return await self._list(public_query(below), {**params, "limit": limit})

    async def list_shared_with(self, email: str, *, before: ListPosition | None, limit: int) -> list[ListedAssistant]:
        below, params = _below(before, "s.assistant_created_at", "s.assistant_id")
        return await self._list(shared_query(below), {**params, "email": normalize_email(email), "limit": limit})

    async def add_shares(self, assistant: Assistant, emails: list[str], *, now: str) -> None:
        rows = [(assistant.assistant_id, normalize_email(e), assistant.created_at, now) for e in emails]

        def write(connection: sqlite3.Connection) -> None:
            # One transaction reads that the assistant is there and writes its shares: no delete comes between.
            with write_transaction(connection):
                found = "SELECT 1 FROM assistants WHERE assistant_id = ?"
                if connection.execute(found, (assistant.assistant_id,)).fetchone() is None:
                    raise AssistantNotFound.of(assistant.assistant_id)
                connection.executemany(
                    "INSERT INTO assistant_shares (assistant_id, email, assistant_created_at, created_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (assistant_id, email) DO NOTHING",
                    rows,
                )

        await self._db.run(write)

    async def remove_shares(self, assistant_id: str, emails: list[str]) -> None:
        rows = [(assistant_id, normalize_email(e)) for e in emails]

        def write(connection: sqlite3.Connection) -> None:
            with write_transaction(connection):
                connection.executemany("DELETE FROM assistant_shares WHERE assistant_id = ? AND email = ?", rows)

        await self._db.run(write)

    async def list_shares(self, assistant_id: str) -> list[AssistantShare]:
        sql = f"SELECT {_SHARE_COLUMNS} FROM assistant_shares WHERE assistant_id = ? ORDER BY email"
        return await self._db.run(
            lambda connection: [_share(row) for row in connection.execute(sql, (assistant_id,)).fetchall()]
        )

    async def get_share(self, assistant_id: str, email: str) -> AssistantShare | None:
        sql = f"SELECT {_SHARE_COLUMNS} FROM assistant_shares WHERE assistant_id = ? AND email = ?"

        def read(connection: sqlite3.Connection) -> AssistantShare | None:
            row = connection.execute(sql, (assistant_id, normalize_email(email))).fetchone()
            return _share(row) if row else None

        return await self._db.run(read)
