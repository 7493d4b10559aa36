"""The queries a turn runs on SQLite reach their rows through the index made for them.

The file has no table statistics (nothing runs ANALYZE), and without them SQLite 3.40 answered a user's records of
one kind, or one conversation's summary, by walking every record the user had, bodies included: each turn
recalls memories and reads its conversation's summary, so a turn grew slower with every conversation. These tests
capture what the repository runs and ask SQLite how it would run it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from apis.shared.clock import new_id, now_iso
from apis.shared.memory import MemoryKind, MemoryRecord, MemoryRepository
from apis.shared.storage import initialize_storage, open_storage
from apis.shared.storage.sqlite.migrations import load_migrations
from tests.helpers import local_storage_settings, random_session_id, random_user_id


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement any SQLite connection opened from now on runs, with its values inlined."""
    run: list[str] = []
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = connect(*args, **kwargs)
        connection.set_trace_callback(run.append)
        return connection

    monkeypatch.setattr(sqlite3, "connect", traced)
    return run


@pytest.fixture
async def memories(tmp_path: Path, statements: list[str]) -> AsyncIterator[MemoryRepository]:
    settings = local_storage_settings(tmp_path)
    await initialize_storage(settings)
    storage = await open_storage(settings)
    try:
        yield storage.memories
    finally:
        await storage.close()


def plan(database: Path, statement: str) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [str(row[3]) for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}")]


def memory(user_id: str, kind: MemoryKind, session_id: str | None = None) -> MemoryRecord:
    moment = now_iso()
    return MemoryRecord(
        record_id=new_id(),
        user_id=user_id,
        kind=kind,
        content=f"a {kind.value}",
        source_session_id=session_id,
        created_at=moment,
        updated_at=moment,
    )


@pytest.mark.parametrize(
    ("kinds", "session", "index"),
    [
        ([MemoryKind.PREFERENCE, MemoryKind.FACT], False, "memories_by_kind (user_id=? AND kind=?)"),
        ([MemoryKind.SUMMARY], True, "memories_by_session (user_id=? AND session_id=? AND kind=?)"),
        (list(MemoryKind), True, "memories_by_session (user_id=? AND session_id=? AND kind=?)"),
    ],
)
async def test_listing_memories_searches_the_kind_or_session_index_not_the_users_records(
    memories: MemoryRepository,
    statements: list[str],
    tmp_path: Path,
    kinds: list[MemoryKind],
    session: bool,
    index: str,
) -> None:
    user, conversation = random_user_id(), random_session_id()
    for _ in range(3):
        await memories.add(memory(user, MemoryKind.SUMMARY, random_session_id()))
    await memories.add(memory(user, MemoryKind.SUMMARY, conversation))
    await memories.add(memory(user, MemoryKind.FACT))
    statements.clear()

    listed = await memories.list_records(user, kinds, limit=10, session_id=conversation if session else None)

    assert listed, "the records asked for are there"
    selects = [each for each in statements if each.lstrip().upper().startswith("SELECT")]
    assert len(selects) == len(set(kinds))
    for select in selects:
        steps = plan(tmp_path / "colloquy.sqlite3", select)
        assert any(index in step for step in steps), steps
        assert not any("PRIMARY KEY (user_id=?)" in step or step.startswith("SCAN") for step in steps), steps


async def test_an_add_reads_the_kinds_count_and_trims_from_the_oldest_end(
    memories: MemoryRepository, statements: list[str], tmp_path: Path
) -> None:
    """An add learns how many records of its kind the user has from memory_counts (schema 0016) instead of walking
    the kind's index up to the cap, and one past the cap deletes the oldest through that index."""
    user = random_user_id()
    for _ in range(3):
        await memories.add(memory(user, MemoryKind.FACT), max_per_kind=3)
    statements.clear()

    await memories.add(memory(user, MemoryKind.FACT), max_per_kind=3)

    assert not any("OFFSET" in each.upper() for each in statements), statements
    # SQLite's trace repeats a statement once per trigger step it runs: one distinct delete.
    [delete] = {each for each in statements if each.lstrip().upper().startswith("DELETE")}
    steps = plan(tmp_path / "colloquy.sqlite3", delete)
    assert any("memories_by_kind (user_id=? AND kind=?)" in step for step in steps), steps
    assert not any(step.startswith("SCAN") for step in steps), steps
    assert len(await memories.list_records(user, [MemoryKind.FACT], limit=10)) == 3


async def test_the_counts_migration_counts_the_records_stored_before_it(tmp_path: Path) -> None:
    """A database made before schema 0016 has its records counted by the migration, so the cap holds at once."""
    database = tmp_path / "colloquy.sqlite3"
    user = random_user_id()
    older = [memory(user, MemoryKind.FACT) for _ in range(4)]
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)")
        for number, name, script in load_migrations():
            if number < 16:
                connection.executescript(script)
                connection.execute("INSERT INTO schema_migrations VALUES (?, ?, 'then')", (number, name))
        for each in older:
            connection.execute(
                "INSERT INTO memories (user_id, record_id, kind, session_id, body) VALUES (?, ?, ?, NULL, ?)",
                (user, each.record_id, each.kind.value, each.model_dump_json()),
            )
    connection.close()
    settings = local_storage_settings(tmp_path)
    await initialize_storage(settings)
    storage = await open_storage(settings)
    try:
        newest = await storage.memories.add(memory(user, MemoryKind.FACT), max_per_kind=4)

        kept = await storage.memories.list_records(user, [MemoryKind.FACT], limit=10)
    finally:
        await storage.close()
    assert [each.record_id for each in kept] == [newest.record_id, *(each.record_id for each in older[:0:-1])]
