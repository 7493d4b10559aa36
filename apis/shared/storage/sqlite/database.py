"""One SQLite file shared by both services: WAL, foreign keys, a busy timeout, one connection per thread; the
file and its `-wal` and `-shm` companions are 0600, as everything under DATA_DIR.

sqlite3 blocks, so calls run on a worker thread (anyio's pool, WORKER_THREADS at a time). Each worker keeps
its own connection for its lifetime, which avoids both a global lock and reconnecting per call. The exceptions
are `read` and `write`. A read of a few rows through an index takes about 10 microseconds of CPU, where the
hand-off to a worker thread and back takes 150 (a chat turn made thirteen), and CPU work in a worker holds the
GIL the loop needs anyway. So repositories run such reads on the event loop's own connection, which never waits:
a read SQLite answers with SQLITE_BUSY (in WAL mode only while another connection recovers the log) goes to a
worker thread after all. Short write transactions of a turn (a session and its message, an answer with its
cost, a title, a memory) do the same through `write` when the write lock is free that instant (a commit in WAL
mode with synchronous=NORMAL appends to the log without syncing it). Reads that may touch many pages (lists,
searches, exports) and every other write use a worker thread.

No connection checkpoints the log as it commits: SQLite's automatic checkpoint runs inside the COMMIT that
passes 1,000 pages, copying the log into the file and syncing it while that writer still holds the write lock,
and every writer behind it waited (the slowest hundredth of bench.turns' first deltas, 3 to 4 ms late, came
every 50 turns or so). A thread of the database's own runs a PASSIVE checkpoint instead, once every
CHECKPOINT_EVERY_WRITES writes, without any lock of ours: writers go on while it copies.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from apis.shared.durable_files import create_private_file, ensure_directory
from apis.shared.errors import StorageError, StorageUnavailableError
from apis.shared.observability import STORAGE_ERRORS, SUPPRESSED_ERRORS
from apis.shared.storage.write_health import WriteHealth

T = TypeVar("T")
logger = logging.getLogger(__name__)

# Primary result codes (the low byte of an extended code) that say "busy or unreachable for now".
_TRANSIENT_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_PROTOCOL,
    }
)

# Those, and the database or its folder being read-only, say that it cannot take writes now, whatever the
# statement was: GET /health reports them (write_health.py).
_UNWRITABLE_CODES = _TRANSIENT_CODES | {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM}


@contextmanager
def translate_errors(writes: WriteHealth | None = None) -> Iterator[None]:
    """Turn sqlite3 failures into StorageUnavailableError (transient) or StorageError, counted and logged, and
    tell `writes` about those that say the database cannot be written."""
    try:
        yield
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        primary = None if code is None else code & 0xFF
        transient = primary in _TRANSIENT_CODES
        name = getattr(exc, "sqlite_errorname", type(exc).__name__)
        if writes is not None and primary in _UNWRITABLE_CODES:
            writes.failed(name)
        kind = "unavailable" if transient else "error"
        STORAGE_ERRORS.labels(backend="sqlite", kind=kind).inc()
        logger.error("sqlite call failed", exc_info=exc, extra={"sqlite_error": name})
        if transient:
            raise StorageUnavailableError("the database is busy or unreachable; try again shortly") from exc
        if "no such table" in str(exc):
            raise StorageError("the database has no schema yet: run `colloquy storage init`") from exc
        raise StorageError("the database failed to complete the request") from exc


def _busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class _Connection(sqlite3.Connection):
    """A connection that knows its database's in-process write lock and where to report writes' health."""

    write_lock: threading.Lock | None  # None on the event loop's writer, which takes it itself without waiting
    lock_timeout_seconds: float
    writes: WriteHealth


PAGE_CACHE_KIB = 256
# The checkpointer thread copies the log into the database file after this many writes (a turn makes two or
# three, each a few pages): the log stays around a megabyte, as SQLite's own 1,000-page threshold keeps it.
CHECKPOINT_EVERY_WRITES = 64
# Worker threads working for one database at a time. Writes queue on one lock anyway and reads in threads are CPU
# work under the GIL, so more threads only add connections (each with its page cache): under a burst of 200 turns
# anyio's default of 40 kept 40 connections open, most of them waiting for the write lock.
WORKER_THREADS = 8


class SqliteDatabase:
    """Hands each worker thread its own connection to one database file.

    Writers of one process queue on a lock of their own before asking SQLite for its write lock: SQLite's
    busy handler polls rather than queues, and with dozens of threads a writer can lose every poll until
    its timeout. Across processes (the other service), the busy timeout still decides.
    """

    def __init__(self, path: Path, *, busy_timeout_ms: int, writes: WriteHealth | None = None) -> None:
        self.path = path
        self.writes = writes or WriteHealth()
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        # Each connection with the thread it belongs to: anyio retires a worker thread after 10 idle seconds
        # and starts another when load returns, so the connections of threads that ended are closed as new
        # ones open (each holds a page cache; kept, they made a long-running service grow with every burst).
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False
        self._writes_since_checkpoint = 0
        self._checkpoint_due = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
            weakref.WeakKeyDictionary()
        )

    def _connect(
        self, *, busy_timeout_ms: int | None = None, pragmas: tuple[str, ...] = (), locks_itself: bool = False
    ) -> sqlite3.Connection:
        """A new connection; `busy_timeout_ms` other than the database's, `pragmas` of its own, and with
        `locks_itself` no write lock for `write_transaction` to take (its caller holds it)."""
        wait_ms = self._busy_timeout_ms if busy_timeout_ms is None else busy_timeout_ms
        self._create_private_files()
        # isolation_level=None: we issue BEGIN ourselves, so a write transaction takes its lock up front.
        connection = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=wait_ms / 1000,
            factory=_Connection,
        )
        try:
            connection.write_lock = None if locks_itself else self._write_lock
            connection.lock_timeout_seconds = self._busy_timeout_ms / 1000
            connection.writes = self.writes
            connection.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA synchronous = NORMAL")
            # Every thread that works for the database has a connection of its own, each with its own page cache:
            # SQLite's 2 MB default grew the inference API by tens of MB under load as the file grew. 256 KB each
            # keeps hot index pages; the operating system's file cache holds the rest (bench.turns: 12 MB less).
            connection.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
            connection.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer thread's work (module docstring)
            for pragma in pragmas:
                connection.execute(pragma)
        except BaseException:
            connection.close()  # one that is busy for now, with a caller that will not wait: nothing to keep
            raise
        with self._lock:
            ended = [entry for entry in self._connections if not entry[0].is_alive()]
            self._connections = [entry for entry in self._connections if entry[0].is_alive()]
            self._connections.append((threading.current_thread(), connection))
        for _, stale in ended:
            stale.close()  # its thread has ended: nothing can be using it
        return connection

    def _create_private_files(self) -> None:
        """Create the folder 0700 and an empty database file 0600 unless they exist, before SQLite opens it.

        SQLite would create the file 0644 (less the umask), and it gives the `-wal` and `-shm` files it makes
        beside the database the database file's own mode: an empty file is a valid empty database, so making
        it private first keeps all three private.
        """
        try:
            ensure_directory(self.path.parent)
            create_private_file(self.path)
        except OSError as exc:
            STORAGE_ERRORS.labels(backend="sqlite", kind="error").inc()
            logger.error("cannot create the database file %s", self.path, exc_info=exc)
            raise StorageError("the database file cannot be created; the service log has the details") from exc

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        return self._own_connection("connection")

    def _own_connection(
        self,
        role: str,
        *,
        busy_timeout_ms: int | None = None,
        pragmas: tuple[str, ...] = (),
        locks_itself: bool = False,
    ) -> sqlite3.Connection:
        """This thread's connection for `role` (a worker's calls, the loop's reads or writes), opened on first use."""
        if self._closed:
            raise StorageUnavailableError("the database is closed")
        connection: sqlite3.Connection | None = getattr(self._local, role, None)
        if connection is None:
            connection = self._connect(busy_timeout_ms=busy_timeout_ms, pragmas=pragmas, locks_itself=locks_itself)
            setattr(self._local, role, connection)
        return connection

    def call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` with this thread's connection, translating failures; a call that changed rows tells
        `writes` that the database takes writes (the change count is SQLite's own, read for free)."""
        with translate_errors(self.writes):
            connection = self.connection()
            changes = connection.total_changes
            result = work(connection)
        if connection.total_changes != changes:
            self.writes.succeeded()
            self._count_write()
        return result

    def _count_write(self) -> None:
        """Wake the checkpointer once every CHECKPOINT_EVERY_WRITES writes (started with the first of them)."""
        with self._lock:
            self._writes_since_checkpoint += 1
            if self._writes_since_checkpoint < CHECKPOINT_EVERY_WRITES or self._closed:
                return
            self._writes_since_checkpoint = 0
            if self._checkpointer is None:
                self._checkpointer = threading.Thread(target=self._checkpoints, name="sqlite-checkpoints", daemon=True)
                self._checkpointer.start()
        self._checkpoint_due.set()

    def _checkpoints(self) -> None:
        """The checkpointer thread: a PASSIVE checkpoint each time it is woken, on a connection of its own.

        PASSIVE copies what no reader still needs and never waits for a lock, so writers (of this process or the
        other service) go on meanwhile; what it leaves, the next round takes."""
        connection: sqlite3.Connection | None = None
        while True:
            self._checkpoint_due.wait()
            self._checkpoint_due.clear()
            if self._closed:
                break
            try:
                connection = connection or self._connect(busy_timeout_ms=0)
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except (sqlite3.Error, StorageError) as exc:  # suppressed: the log keeps every commit; retried next round
                SUPPRESSED_ERRORS.labels(where="sqlite.checkpoint").inc()
                logger.warning("could not checkpoint the database's log; the next round tries again", exc_info=exc)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on a worker thread with that thread's connection, WORKER_THREADS at most at a time."""
        return await anyio.to_thread.run_sync(self.call, work, limiter=self._thread_limiter())

    def _thread_limiter(self) -> anyio.CapacityLimiter:
        """This event loop's limit on the worker threads working for this database (a limiter belongs to a loop)."""
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(WORKER_THREADS)
        return limiter

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work`, a read of a few rows through an index, on this thread (the event loop's), unless the
        database is busy for now; then on a worker thread, which waits for it as `run` does."""
        try:
            return work(self._reader())
        except sqlite3.Error as exc:
            if not _busy(exc):
                with translate_errors():
                    raise
        return await self.run(work)

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work`, a short write transaction of a few rows, on this thread's (the event loop's) own connection
        when the write lock is free this instant; otherwise on a worker thread, which waits for it as `run` does.

        Nothing here waits: the in-process lock is tried, not awaited, and SQLite's write lock answers busy at
        once (another process holds it), which sends the same work to a worker thread after all."""
        if self._write_lock.acquire(blocking=False):
            try:
                connection = self._writer()
                changes = connection.total_changes
                result = work(connection)
            except sqlite3.Error as exc:
                if not _busy(exc):
                    with translate_errors(self.writes):
                        raise
            else:
                if connection.total_changes != changes:
                    self.writes.succeeded()
                    self._count_write()
                return result
            finally:
                self._write_lock.release()
        return await self.run(work)

    def _writer(self) -> sqlite3.Connection:
        """This thread's connection for `write`: it answers busy at once."""
        return self._own_connection("writer", busy_timeout_ms=0, locks_itself=True)

    def _reader(self) -> sqlite3.Connection:
        """This thread's read-only connection that answers busy at once instead of waiting."""
        return self._own_connection("reader", busy_timeout_ms=0, pragmas=("PRAGMA query_only = ON",))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            checkpointer = self._checkpointer
        self._checkpoint_due.set()
        if checkpointer is not None:
            checkpointer.join(timeout=10)
        with self._lock:
            connections, self._connections = self._connections, []
        for _, connection in connections:
            connection.close()


@contextmanager
def write_transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE: take the write lock first, so the busy timeout applies and no upgrade can deadlock."""
    lock: threading.Lock | None = getattr(connection, "write_lock", None)
    if lock is not None and not lock.acquire(timeout=getattr(connection, "lock_timeout_seconds", 5.0)):
        writes: WriteHealth | None = getattr(connection, "writes", None)
        if writes is not None:
            writes.failed("SQLITE_BUSY: writes queued longer than SQLITE_BUSY_TIMEOUT_MS")
        raise StorageUnavailableError("the database is busy; try again shortly")
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        try:
            connection.execute("COMMIT")
        except sqlite3.Error:
            # A COMMIT that fails (busy, disk full, I/O) leaves the transaction open: end it, so that none of
            # it can land with a later write and the connection can begin the next transaction.
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
    finally:
        if lock is not None:
            lock.release()
