"""SessionRepository on SQLite: a row per session and a row per message, each with its JSON body.

The columns beside `body` are only what queries filter or sort on; the body is the record itself, so a new
field of SessionMetadata or Message needs no migration.
"""

from __future__ import annotations

import sqlite3
from functools import partial

from apis.shared.clock import now_iso
from apis.shared.costs.models import CostEntry
from apis.shared.pagination import Page, decode_token, encode_token
from apis.shared.sessions.exceptions import MessageIdTaken, MessageSuperseded, SessionIdTaken, SessionNotFound
from apis.shared.sessions.models import Message, SessionChanges, SessionMetadata, SessionPreferences
from apis.shared.storage.records import read_or_raise, read_or_skip
from apis.shared.storage.sqlite.costs import add_entry
from apis.shared.storage.sqlite.database import SqliteDatabase, write_transaction

KIND = "session"
_SESSION_CURSOR = ("lastMessageAt", "sessionId")
_MESSAGE_CURSOR = ("messageId",)


def _session_row(user_id: str, session: SessionMetadata) -> tuple[str, str, str, str, int, str]:
    return (
        session.session_id,
        user_id,
        session.last_message_at,
        session.title.lower(),
        int(session.starred),
        session.model_dump_json(),
    )


def _read_owned(connection: sqlite3.Connection, user_id: str, session_id: str) -> SessionMetadata | None:
    row = connection.execute(
        "SELECT body FROM sessions WHERE session_id = ? AND user_id = ?", (session_id, user_id)
    ).fetchone()
    return read_or_raise(KIND, session_id, partial(SessionMetadata.model_validate_json, row[0])) if row else None


def _write(connection: sqlite3.Connection, user_id: str, session: SessionMetadata) -> None:
    connection.execute(
        "UPDATE sessions SET last_message_at = ?, title_folded = ?, starred = ?, body = ?"
        " WHERE session_id = ? AND user_id = ?",
        (
            session.last_message_at,
            session.title.lower(),
            int(session.starred),
            session.model_dump_json(),
            session.session_id,
            user_id,
        ),
    )


def _read_message(connection: sqlite3.Connection, session_id: str, message_id: str) -> Message | None:
    row = connection.execute(
        "SELECT body FROM messages WHERE session_id = ? AND message_id = ?", (session_id, message_id)
    ).fetchone()
    return Message.model_validate_json(row[0]) if row else None


def _append(
    connection: sqlite3.Connection,
    user_id: str,
    session: SessionMetadata,
    message: Message,
    *,
    cost: CostEntry | None = None,
    replaces: Message | None = None,
    preferences: SessionPreferences | None = None,
) -> SessionMetadata:
    """Store `message`, count it on `session` and `cost` in its month; the caller holds the write transaction,
    which an error raised here rolls back. See SessionRepository.append_message for the rules."""
    stored = _read_message(connection, session.session_id, message.message_id)
    if stored == message:
        return session  # a retry of a write that landed: nothing more to count
    if replaces is None and stored is not None:
        raise MessageIdTaken(f"message {message.message_id} is stored already")
    if replaces is not None and stored != replaces:
        raise MessageSuperseded(f"message {message.message_id} changed since its checkpoint")
    connection.execute(
        "INSERT INTO messages (session_id, message_id, body) VALUES (?, ?, ?)"
        " ON CONFLICT (session_id, message_id) DO UPDATE SET body = excluded.body",
        (session.session_id, message.message_id, message.model_dump_json()),
    )
    updated = session.with_message_counted(message, replaces).with_preferences(preferences)
    _write(connection, user_id, updated)
    if cost is not None:
        add_entry(connection, cost, now_iso())
    return updated


class SqliteSessionRepository:
    """Sessions and messages in the shared SQLite file."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def create_session(
        self, user_id: str, session: SessionMetadata, first_message: Message | None = None
    ) -> SessionMetadata:
        def insert(connection: sqlite3.Connection) -> SessionMetadata | None:
            with write_transaction(connection):
                cursor = connection.execute(
                    "INSERT INTO sessions (session_id, user_id, last_message_at, title_folded, starred, body)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO NOTHING",
                    _session_row(user_id, session),
                )
                if cursor.rowcount != 1:
                    return None
                return _append(connection, user_id, session, first_message) if first_message else session

        created = await self._db.write(insert)
        if created is None:
            raise SessionIdTaken(f"session id {session.session_id} is taken")
        return created

    async def get_session(self, user_id: str, session_id: str) -> SessionMetadata | None:
        return await self._db.read(lambda connection: _read_owned(connection, user_id, session_id))

    async def list_sessions(
        self,
        user_id: str,
        *,
        limit: int,
        page_token: str | None = None,
        starred: bool | None = None,
        title_query: str | None = None,
    ) -> Page[SessionMetadata]:
        conditions, parameters = ["user_id = ?"], [user_id]
        if page_token is not None:
            after = decode_token(page_token, fields=_SESSION_CURSOR)
            conditions.append("(last_message_at, session_id) < (?, ?)")
            parameters += [after["lastMessageAt"], after["sessionId"]]
        if starred is not None:
            conditions.append("starred = ?")
            parameters.append(str(int(starred)))
        if title_query is not None:
            conditions.append("instr(title_folded, ?) > 0")
            parameters.append(title_query.lower())
        query = (
            f"SELECT session_id, last_message_at, body FROM sessions WHERE {' AND '.join(conditions)}"
            " ORDER BY last_message_at DESC, session_id DESC LIMIT ?"
        )

        def select(connection: sqlite3.Connection) -> list[tuple[str, str, str]]:
            return list(connection.execute(query, (*parameters, limit + 1)))

        rows = await self._db.run(select)
        # An unreadable session is left out of the page (records.py); the cursor still moves past it.
        readable = (
            read_or_skip(KIND, row[0], partial(SessionMetadata.model_validate_json, row[2])) for row in rows[:limit]
        )
        items = [session for session in readable if session is not None]
        if len(rows) <= limit:
            return Page(items=items, next_token=None)
        last_id, last_at, _ = rows[limit - 1]
        return Page(items=items, next_token=encode_token({"lastMessageAt": last_at, "sessionId": last_id}))

    async def update_session(self, user_id: str, session_id: str, changes: SessionChanges) -> SessionMetadata | None:
        def update(connection: sqlite3.Connection) -> SessionMetadata | None:
            with write_transaction(connection):
                current = _read_owned(connection, user_id, session_id)
                if current is None:
                    return None
                updated = changes.apply_to(current)
                _write(connection, user_id, updated)
                return updated

        return await self._db.write(update)

    async def delete_session(self, user_id: str, session_id: str) -> SessionMetadata | None:
        def delete(connection: sqlite3.Connection) -> SessionMetadata | None:
            with write_transaction(connection):
                current = _read_owned(connection, user_id, session_id)
                if current is not None:
                    # Messages go with their session through ON DELETE CASCADE, in this transaction.
                    connection.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,))
                return current

        return await self._db.run(delete)

    async def append_message(
        self,
        user_id: str,
        session_id: str,
        message: Message,
        *,
        cost: CostEntry | None = None,
        replaces: Message | None = None,
        preferences: SessionPreferences | None = None,
    ) -> SessionMetadata:
        def append(connection: sqlite3.Connection) -> SessionMetadata | None:
            with write_transaction(connection):
                current = _read_owned(connection, user_id, session_id)
                if current is None:
                    return None
                return _append(
                    connection, user_id, current, message, cost=cost, replaces=replaces, preferences=preferences
                )

        updated = await self._db.write(append)
        if updated is None:
            raise SessionNotFound(f"session {session_id} not found")
        return updated

    async def list_messages(
        self, user_id: str, session_id: str, *, limit: int, page_token: str | None = None
    ) -> Page[Message]:
        after = decode_token(page_token, fields=_MESSAGE_CURSOR)["messageId"] if page_token is not None else ""

        def select(connection: sqlite3.Connection) -> list[str] | None:
            if _read_owned(connection, user_id, session_id) is None:
                return None
            rows = connection.execute(
                "SELECT body FROM messages WHERE session_id = ? AND message_id > ? ORDER BY message_id LIMIT ?",
                (session_id, after, limit + 1),
            )
            return [row[0] for row in rows]

        rows = await self._db.run(select)
        if rows is None:
            raise SessionNotFound(f"session {session_id} not found")
        items = [Message.model_validate_json(body) for body in rows[:limit]]
        more = len(rows) > limit
        return Page(items=items, next_token=encode_token({"messageId": items[-1].message_id}) if more else None)

    async def list_recent_messages(self, user_id: str, session_id: str, *, limit: int) -> list[Message]:
        def select(connection: sqlite3.Connection) -> list[str] | None:
            if _read_owned(connection, user_id, session_id) is None:
                return None
            rows = connection.execute(
                "SELECT body FROM messages WHERE session_id = ? ORDER BY message_id DESC LIMIT ?", (session_id, limit)
            )
            return [row[0] for row in rows]

        rows = await self._db.read(select)
        if rows is None:
            raise SessionNotFound(f"session {session_id} not found")
        return [Message.model_validate_json(body) for body in reversed(rows)]

    async def ping(self) -> None:
        await self._db.run(lambda connection: connection.execute("SELECT count(*) FROM sessions LIMIT 1"))
