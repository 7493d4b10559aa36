"""Schema migrations, applied in order at start. Both services may start at once: a write lock serialises them."""

from __future__ import annotations

import sqlite3

from apis.shared.clock import now_iso
from apis.shared.storage.sqlite.database import write_transaction

# Append only: a released migration is never edited, a change is a new entry.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "sessions and messages",
        """
        CREATE TABLE sessions (
            session_id      TEXT PRIMARY KEY,
            user_id         TEXT NOT NULL,
            last_message_at TEXT NOT NULL,
            title_folded    TEXT NOT NULL,
            starred         INTEGER NOT NULL,
            body            TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX sessions_by_owner_recent ON sessions (user_id, last_message_at DESC, session_id DESC);
        CREATE TABLE messages (
            session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
            message_id TEXT NOT NULL,
            body       TEXT NOT NULL,
            PRIMARY KEY (session_id, message_id)
        ) WITHOUT ROWID;
        """,
    ),
)


def current_version(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0])


def migrate(connection: sqlite3.Connection) -> list[str]:
    """Bring the schema up to date; returns a line per migration applied (none when already current)."""
    # WAL is a property of the file: set once, outside any transaction, and kept from then on.
    connection.execute("PRAGMA journal_mode = WAL")
    applied: list[str] = []
    with write_transaction(connection):
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        version = current_version(connection)
        for number, name, script in MIGRATIONS:
            if number <= version:
                continue
            for statement in (part.strip() for part in script.split(";")):
                if statement:
                    connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (number, name, now_iso()),
            )
            applied.append(f"migration {number} ({name}): applied")
    return applied
