"""Schema migrations, applied in order at start. Both services may start at once: a write lock serialises them."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from apis.shared.clock import now_iso
from apis.shared.errors import ConfigurationError
from apis.shared.storage.sqlite.database import write_transaction

SCHEMA_DIRECTORY = Path(__file__).with_name("schema")
_FILE_NAME = re.compile(r"^(?P<number>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")


def load_migrations(directory: Path = SCHEMA_DIRECTORY) -> list[tuple[int, str, str]]:
    """(number, name, script) of each `NNNN_name.sql` file, in order. A released file is never edited."""
    migrations = []
    for path in directory.iterdir():
        match = _FILE_NAME.match(path.name)
        if match:
            name = match.group("name").replace("_", " ")
            migrations.append((int(match.group("number")), name, path.read_text()))
    migrations.sort()
    numbers = [number for number, _, _ in migrations]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ConfigurationError(f"SQLite migrations in {directory} must be numbered 1..n without gaps: {numbers}")
    return migrations


def _without_comments(script: str) -> str:
    return "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("--"))


def statements(script: str) -> list[str]:
    """The script's statements, whole: a `;` inside one (a trigger's body) does not end it, as SQLite decides."""
    found: list[str] = []
    pending = ""
    for part in _without_comments(script).split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                found.append(pending.strip())
            pending = ""
    if pending.strip(" \n;"):
        raise ConfigurationError(f"an SQLite migration ends inside a statement: {pending.strip()[:80]!r}")
    return found


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
        for number, name, script in load_migrations():
            if number <= version:
                continue
            # executescript would commit on its own; statement by statement keeps them in this transaction.
            for statement in statements(script):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (number, name, now_iso()),
            )
            applied.append(f"migration {number} ({name}): applied")
    return applied
