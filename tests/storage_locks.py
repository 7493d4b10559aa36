"""Another process holding a lock on the embedded backend's files, for tests of what the services do meanwhile."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import apsw


@contextmanager
def write_locked(database: Path) -> Iterator[None]:
    """A write transaction of another process on the records database, held until the block ends."""
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@contextmanager
def index_locked(database: Path) -> Iterator[None]:
    """The same on the knowledge index (opened with apsw, as the index opens it)."""
    other = apsw.Connection(str(database))
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
