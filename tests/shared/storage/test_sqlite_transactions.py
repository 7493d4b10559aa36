"""SQLite write transactions end whatever happens: a failed COMMIT is rolled back, never left open."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from apis.shared.storage.sqlite.database import write_transaction


class CommitFailsOnce(sqlite3.Connection):
    """A connection whose next COMMIT fails as a full disk would make it."""

    fail_commit = True

    def execute(self, sql: str, *parameters: Any) -> sqlite3.Cursor:
        if sql == "COMMIT" and self.fail_commit:
            self.fail_commit = False
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, *parameters)


def test_a_failed_commit_is_rolled_back_and_the_next_write_starts_clean(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None, factory=CommitFailsOnce)
    connection.execute("CREATE TABLE notes (text TEXT)")

    with pytest.raises(sqlite3.OperationalError), write_transaction(connection):
        connection.execute("INSERT INTO notes VALUES ('lost')")
    assert not connection.in_transaction
    with write_transaction(connection):
        connection.execute("INSERT INTO notes VALUES ('kept')")

    assert connection.execute("SELECT text FROM notes").fetchall() == [("kept",)]
    connection.close()
