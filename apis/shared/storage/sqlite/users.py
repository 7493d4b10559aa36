"""UserRepository on SQLite: a row per user, with the columns that queries filter on and a JSON body.

The body holds what a sign-in writes (the token's claims and lastLoginAt); `status` and `created_at` have
columns of their own that a sign-in's upsert never names, so it cannot undo a suspension that raced it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from functools import partial
from typing import Any

from apis.shared.pagination import Page, decode_token, encode_token
from apis.shared.storage.records import read_or_raise, read_or_skip
from apis.shared.storage.sqlite.database import SqliteDatabase, write_transaction
from apis.shared.users.models import UserLogin, UserProfile, UserStatus

_CURSOR = ("userId",)
_COLUMNS = "user_id, status, created_at, body"
KIND = "user profile"
# Fields stored in their own columns rather than in `body`.
_OWN_COLUMNS = {"status", "created_at"}

_UPSERT = (
    "INSERT INTO users (user_id, status, created_at, email_domain, name_folded, email_folded, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (user_id) DO UPDATE SET email_domain = excluded.email_domain,"
    " name_folded = excluded.name_folded, email_folded = excluded.email_folded, body = excluded.body"
    f" RETURNING {_COLUMNS}"
)


def _parse(row: Sequence[str]) -> UserProfile:
    _, status, created_at, body = row
    return UserProfile.model_validate({**json.loads(body), "status": status, "createdAt": created_at})


def _profile(row: Sequence[str]) -> UserProfile:
    """The profile of a row; CorruptRecord when it no longer validates."""
    return read_or_raise(KIND, row[0], partial(_parse, row))


def _upsert_row(login: UserLogin, at: str) -> tuple[str | None, ...]:
    """The INSERT's values: a new user's whole row; on conflict only the claim columns and body are used."""
    profile = login.new_profile(at=at)
    body = profile.model_dump_json(by_alias=True, exclude=_OWN_COLUMNS)
    return (
        login.user_id,
        UserStatus.ACTIVE.value,
        at,
        profile.email_domain or None,
        (login.name or "").lower(),
        (login.email or "").lower(),
        body,
    )


class SqliteUserRepository:
    """User profiles in the shared SQLite file."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def get(self, user_id: str) -> UserProfile | None:
        def select(connection: sqlite3.Connection) -> Sequence[str] | None:
            row: Sequence[str] | None = connection.execute(
                f"SELECT {_COLUMNS} FROM users WHERE user_id = ?", (user_id,)
            ).fetchone()
            return row

        row = await self._db.read(select)
        return _profile(row) if row is not None else None

    async def upsert_login(self, login: UserLogin, *, at: str) -> UserProfile:
        values = _upsert_row(login, at)

        def upsert(connection: sqlite3.Connection) -> Sequence[str]:
            with write_transaction(connection):
                rows: list[Sequence[str]] = connection.execute(_UPSERT, values).fetchall()
            return rows[0]

        return _profile(await self._db.write(upsert))

    async def set_status(self, user_id: str, status: UserStatus) -> UserProfile | None:
        def update(connection: sqlite3.Connection) -> Sequence[str] | None:
            with write_transaction(connection):
                rows: list[Sequence[str]] = connection.execute(
                    f"UPDATE users SET status = ? WHERE user_id = ? RETURNING {_COLUMNS}", (status.value, user_id)
                ).fetchall()
            return rows[0] if rows else None

        row = await self._db.run(update)
        return _profile(row) if row is not None else None

    async def list_users(
        self,
        *,
        limit: int,
        page_token: str | None = None,
        status: UserStatus | None = None,
        email_domain: str | None = None,
    ) -> Page[UserProfile]:
        conditions: list[str] = []
        parameters: list[Any] = []
        if status is not None:
            conditions.append("status = ?")
            parameters.append(status.value)
        if email_domain is not None:
            conditions.append("email_domain = ?")
            parameters.append(email_domain.lower())
        return await self._page(conditions, parameters, limit=limit, page_token=page_token)

    async def search(self, query: str, *, limit: int, page_token: str | None = None) -> Page[UserProfile]:
        needle = query.lower()
        condition = "(instr(name_folded, ?) > 0 OR instr(email_folded, ?) > 0)"
        return await self._page([condition], [needle, needle], limit=limit, page_token=page_token)

    async def search_by_email(self, email: str, *, limit: int, page_token: str | None = None) -> Page[UserProfile]:
        return await self._page(["email_folded = ?"], [email.lower()], limit=limit, page_token=page_token)

    async def list_email_domains(self, *, limit: int) -> list[str]:
        """Read from the domain index alone, one entry per user: no profile body is read."""

        def select(connection: sqlite3.Connection) -> list[str]:
            rows = connection.execute(
                "SELECT DISTINCT email_domain FROM users WHERE email_domain IS NOT NULL ORDER BY email_domain LIMIT ?",
                (limit,),
            ).fetchall()
            return [str(row[0]) for row in rows]

        return await self._db.run(select)

    async def _page(
        self, conditions: list[str], parameters: list[Any], *, limit: int, page_token: str | None
    ) -> Page[UserProfile]:
        """A page of the users matching every condition, by user id, after the token's cursor."""
        conditions, parameters = list(conditions), list(parameters)
        if page_token is not None:
            conditions.append("user_id > ?")
            parameters.append(decode_token(page_token, fields=_CURSOR)["userId"])
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        query = f"SELECT {_COLUMNS} FROM users{where} ORDER BY user_id LIMIT ?"

        def select(connection: sqlite3.Connection) -> list[Sequence[str]]:
            rows: list[Sequence[str]] = connection.execute(query, (*parameters, limit + 1)).fetchall()
            return rows

        rows = await self._db.run(select)
        readable = (read_or_skip(KIND, row[0], partial(_parse, row)) for row in rows[:limit])
        items = [profile for profile in readable if profile is not None]
        if len(rows) <= limit:
            return Page(items=items, next_token=None)
        # After the page's last row, read or not: a skipped profile is neither read again nor a dead end.
        return Page(items=items, next_token=encode_token({"userId": rows[limit - 1][0]}))
