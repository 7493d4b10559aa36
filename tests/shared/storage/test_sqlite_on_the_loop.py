"""SqliteDatabase.read and .write: a small read or short write runs on the event loop's own connection, never
waiting there for a lock; when a lock is taken it goes to a worker thread, which waits as every other call does."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from apis.shared.errors import StorageError, StorageUnavailableError
from apis.shared.storage.sqlite.database import (
    CHECKPOINT_EVERY_WRITES,
    WORKER_THREADS,
    SqliteDatabase,
    write_transaction,
)


def notes_database(folder: Path, *, busy_timeout_ms: int) -> SqliteDatabase:
    """A WAL database with one note, 'a' = 'first'."""
    path = folder / "colloquy.sqlite3"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode = WAL")
    setup.execute("CREATE TABLE notes (key TEXT PRIMARY KEY, body TEXT)")
    setup.execute("INSERT INTO notes VALUES ('a', 'first')")
    setup.close()
    return SqliteDatabase(path, busy_timeout_ms=busy_timeout_ms)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[SqliteDatabase]:
    database = notes_database(tmp_path, busy_timeout_ms=3000)
    yield database
    database.close()


def body(connection: sqlite3.Connection) -> str:
    row = connection.execute("SELECT body FROM notes WHERE key = 'a'").fetchone()
    return str(row[0])


def exclusive(path: Path) -> sqlite3.Connection:
    """Another connection that keeps every reader out: WAL with the exclusive locking mode, mid-write."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("PRAGMA locking_mode = EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("UPDATE notes SET body = 'second' WHERE key = 'a'")
    return other


async def test_a_read_runs_on_the_calling_thread_and_sees_committed_writes(database: SqliteDatabase) -> None:
    threads: list[int] = []

    def tracked(connection: sqlite3.Connection) -> str:
        threads.append(threading.get_ident())
        return body(connection)

    assert await database.read(tracked) == "first"
    await database.run(lambda connection: connection.execute("UPDATE notes SET body = 'changed' WHERE key = 'a'"))
    assert await database.read(tracked) == "changed"
    assert threads == [threading.get_ident()] * 2


async def test_a_read_the_database_is_busy_for_waits_in_a_worker_thread(database: SqliteDatabase) -> None:
    # In WAL mode only a connection in the exclusive locking mode keeps readers out, and it can take that lock
    # only while no other connection is open: the loop's connection meets the lock as it opens.
    other = exclusive(database.path)
    threads: list[int] = []

    def tracked(connection: sqlite3.Connection) -> str:
        threads.append(threading.get_ident())
        return body(connection)

    def release() -> None:
        other.execute("COMMIT")
        other.close()

    asyncio.get_running_loop().call_later(0.3, release)

    assert await database.read(tracked) == "second"
    assert threads[-1] != threading.get_ident(), "then waited in a worker thread"
    assert await database.read(tracked) == "second"
    assert threads[-1] == threading.get_ident(), "and on the loop again once the lock is gone"


async def test_a_read_still_busy_after_the_timeout_is_a_503(tmp_path: Path) -> None:
    database = notes_database(tmp_path, busy_timeout_ms=200)
    other = exclusive(database.path)
    try:
        with pytest.raises(StorageUnavailableError):
            await database.read(body)
    finally:
        other.execute("ROLLBACK")
        other.close()
        database.close()


async def test_a_read_that_fails_otherwise_is_a_storage_error_at_once(database: SqliteDatabase) -> None:
    with pytest.raises(StorageError):
        await database.read(lambda connection: connection.execute("SELECT nothing FROM nowhere").fetchall())


async def test_the_loop_connection_refuses_writes(database: SqliteDatabase) -> None:
    with pytest.raises(StorageError):
        await database.read(lambda connection: connection.execute("DELETE FROM notes"))
    assert await database.read(body) == "first"


async def test_the_connection_of_a_thread_that_ended_is_closed_when_another_opens(database: SqliteDatabase) -> None:
    """anyio retires idle worker threads and starts new ones; their connections must not pile up."""
    opened: list[sqlite3.Connection] = []

    def in_a_thread_of_its_own() -> None:
        opened.append(database.connection())
        body(opened[-1])

    first = threading.Thread(target=in_a_thread_of_its_own)
    first.start()
    first.join()
    second = threading.Thread(target=in_a_thread_of_its_own)
    second.start()
    second.join()

    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened[0].execute("SELECT 1")
    assert body(opened[1]) == "first", "the live thread's connection stays open"


def rename(text: str, threads: list[int]) -> Callable[[sqlite3.Connection], int]:
    def work(connection: sqlite3.Connection) -> int:
        threads.append(threading.get_ident())
        with write_transaction(connection):
            return connection.execute("UPDATE notes SET body = ? WHERE key = 'a'", (text,)).rowcount

    return work


async def test_a_write_runs_on_the_loop_and_no_connection_checkpoints_as_it_commits(
    database: SqliteDatabase,
) -> None:
    threads: list[int] = []
    for count in range(20):
        assert await database.write(rename(f"v{count}", threads)) == 1

    assert await database.read(body) == "v19"
    assert set(threads) == {threading.get_ident()}
    on_the_loop = database._writer().execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    on_a_worker = await database.run(lambda connection: connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    assert (on_the_loop, on_a_worker) == (0, 0), "checkpoints are the checkpointer thread's"


async def test_the_checkpointer_copies_the_log_into_the_file_as_writes_go_on(database: SqliteDatabase) -> None:
    """No commit checkpoints, yet the log does not only grow: every CHECKPOINT_EVERY_WRITES writes the database's
    own thread copies it into the file (which grows by the pages written), while the writes go on."""
    before = database.path.stat().st_size

    for count in range(3 * CHECKPOINT_EVERY_WRITES):
        await database.write(partial(insert_note, key=f"k{count}", text="x" * 3000))
    for _ in range(200):
        if database.path.stat().st_size > before + 100 * 3000:
            break
        await asyncio.sleep(0.02)

    assert database.path.stat().st_size > before + 100 * 3000, "the notes reached the database file itself"
    assert await database.read(lambda connection: connection.execute("SELECT count(*) FROM notes").fetchone()[0]) == (
        1 + 3 * CHECKPOINT_EVERY_WRITES
    )


def insert_note(connection: sqlite3.Connection, key: str, text: str) -> None:
    with write_transaction(connection):
        connection.execute("INSERT INTO notes VALUES (?, ?)", (key, text))


async def test_a_write_while_another_process_writes_waits_in_a_worker_thread(database: SqliteDatabase) -> None:
    await database.write(rename("mine", []))  # the loop's writer is open
    other = sqlite3.connect(database.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE notes SET body = 'theirs' WHERE key = 'a'")
    threads: list[int] = []

    def commit() -> None:
        other.execute("COMMIT")
        other.close()

    asyncio.get_running_loop().call_later(0.3, commit)

    assert await database.write(rename("after theirs", threads)) == 1

    assert threads[0] == threading.get_ident(), "tried on the loop, which answered busy at once"
    assert threads[-1] != threading.get_ident(), "then waited in a worker thread"
    assert await database.read(body) == "after theirs"


async def test_a_write_while_a_worker_thread_writes_waits_for_it(database: SqliteDatabase) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(connection: sqlite3.Connection) -> None:
        with write_transaction(connection):
            connection.execute("UPDATE notes SET body = 'slow' WHERE key = 'a'")
            started.set()
            release.wait(5)

    slow_write = asyncio.ensure_future(database.run(slow))
    await asyncio.to_thread(started.wait, 5)
    threads: list[int] = []
    asyncio.get_running_loop().call_later(0.2, release.set)

    assert await database.write(rename("next", threads)) == 1
    await slow_write

    assert threading.get_ident() not in threads, "the in-process lock was taken: straight to a worker thread"
    assert await database.read(body) == "next"


async def test_a_write_that_fails_rolls_back_and_is_a_storage_error(database: SqliteDatabase) -> None:
    def broken(connection: sqlite3.Connection) -> None:
        with write_transaction(connection):
            connection.execute("UPDATE notes SET body = 'half' WHERE key = 'a'")
            connection.execute("INSERT INTO nowhere VALUES (1)")

    with pytest.raises(StorageError):
        await database.write(broken)
    assert await database.read(body) == "first"
    assert await database.write(rename("later", [])) == 1, "the lock and the connection are usable again"


async def test_at_most_so_many_worker_threads_work_for_one_database(database: SqliteDatabase) -> None:
    """More threads would only hold more connections (each with its page cache) waiting for one write lock."""
    lock = threading.Lock()
    running, most = 0, 0

    def slow_read(connection: sqlite3.Connection) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            threading.Event().wait(0.05)
            return body(connection)
        finally:
            with lock:
                running -= 1

    answers = await asyncio.gather(*(database.run(slow_read) for _ in range(3 * WORKER_THREADS)))

    assert answers == ["first"] * (3 * WORKER_THREADS)
    assert most == WORKER_THREADS
