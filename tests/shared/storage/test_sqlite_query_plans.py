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
