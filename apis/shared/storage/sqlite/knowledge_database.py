"""The knowledge index's own SQLite file, opened with apsw: WAL, a busy timeout, 0600 like the main database.

Why apart from colloquy.sqlite3, and why apsw: the index needs FTS5 and the sqlite-vec extension, and the
stdlib sqlite3 of the Python we ship cannot load extensions. apsw bundles its own SQLite (with FTS5) that can.
A second file keeps the two libraries from ever sharing one database, and lets the index be rebuilt or moved
without touching the records.

Threads: an apsw connection may be used by one thread at a time (it raises ThreadingViolationError otherwise).
Calls run on anyio's worker threads, and each call takes a connection from a small pool for its duration and
gives it back: readers run in parallel (WAL), no connection is ever shared by two threads at once, and the
pool holds no more connections than calls ever ran at once. A connection per thread would leak one each time
anyio retires an idle worker and starts another; one connection behind a lock would make every search wait
for every other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import anyio.to_thread
import apsw
import sqlite_vec

from apis.shared.durable_files import create_private_file, ensure_directory
from apis.shared.errors import StorageError, StorageUnavailableError
from apis.shared.observability import STORAGE_ERRORS
from apis.shared.storage.write_health import WriteHealth

T = TypeVar("T")
logger = logging.getLogger(__name__)

# Primary result codes that say "busy or unreachable for now", as for the main database (database.py).
_TRANSIENT_CODES = frozenset(
    {
        apsw.SQLITE_BUSY,
        apsw.SQLITE_LOCKED,
        apsw.SQLITE_IOERR,
        apsw.SQLITE_CANTOPEN,
        apsw.SQLITE_FULL,
        apsw.SQLITE_PROTOCOL,
    }
)
# Those, and a read-only file or folder: the database cannot take writes now (write_health.py).
_UNWRITABLE_CODES = _TRANSIENT_CODES | {apsw.SQLITE_READONLY, apsw.SQLITE_PERM}


@contextmanager
def translate_errors(writes: WriteHealth | None = None) -> Iterator[None]:
    """Turn apsw failures into StorageUnavailableError (transient) or StorageError, counted and logged, and tell
    `writes` about those that say the database cannot be written."""
    try:
        yield
    except apsw.Error as exc:
        # apsw's own errors (a closed connection, a misuse) carry no result code: they are not transient.
        primary = getattr(exc, "result", None)
        transient = primary in _TRANSIENT_CODES
        name = type(exc).__name__ if primary is None else apsw.mapping_result_codes.get(primary, str(primary))
        if writes is not None and primary in _UNWRITABLE_CODES:
            writes.failed(str(name))
        kind = "unavailable" if transient else "error"
        STORAGE_ERRORS.labels(backend="sqlite", kind=kind).inc()
        logger.error("knowledge index call failed", exc_info=exc, extra={"sqlite_error": name})
        if transient:
            raise StorageUnavailableError("the knowledge index is busy or unreachable; try again shortly") from exc
        if "no such table" in str(exc):
            raise StorageError("the knowledge index has no schema yet: run `colloquy storage init`") from exc
        raise StorageError("the knowledge index failed to complete the request") from exc


class KnowledgeDatabase:
    """A pool of apsw connections to one file, each with sqlite-vec loaded, lent to one call at a time.

    Writers of one process queue on a lock of their own before asking SQLite for its write lock (as
    database.py's do, for the same reason: SQLite's busy handler polls rather than queues). Across processes
    (the other service) the busy timeout decides.
    """

    def __init__(self, path: Path, *, busy_timeout_ms: int, writes: WriteHealth | None = None) -> None:
        self.path = path
        self.writes = writes or WriteHealth()
        self._busy_timeout_ms = busy_timeout_ms
        self._idle: list[apsw.Connection] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False

    def _connect(self) -> apsw.Connection:
        self._create_private_files()
        connection = apsw.Connection(str(self.path))
        try:
            connection.set_busy_timeout(self._busy_timeout_ms)
            connection.enable_load_extension(True)
            connection.load_extension(sqlite_vec.loadable_path())
            # Loaded; no statement may load another (load_extension() is an SQL function too while enabled).
            connection.enable_load_extension(False)
            connection.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            connection.close()
            raise
        return connection

    def _create_private_files(self) -> None:
        """The folder 0700 and an empty file 0600 before SQLite opens it, so that the file and the `-wal` and
        `-shm` files SQLite makes beside it with its mode stay private (database.py does the same)."""
        try:
            ensure_directory(self.path.parent)
            create_private_file(self.path)
        except OSError as exc:
            STORAGE_ERRORS.labels(backend="sqlite", kind="error").inc()
            logger.error("cannot create the knowledge index file %s", self.path, exc_info=exc)
            raise StorageError("the knowledge index file cannot be created; the service log has the details") from exc

    def _acquire(self) -> apsw.Connection:
        with self._lock:
            if self._closed:
                raise StorageUnavailableError("the knowledge index is closed")
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _release(self, connection: apsw.Connection) -> None:
        # A connection left inside a transaction (a ROLLBACK that failed too) is not lent again.
        with self._lock:
            if not self._closed and not connection.in_transaction:
                self._idle.append(connection)
                return
        connection.close()

    def call(self, work: Callable[[apsw.Connection], T]) -> T:
        """Run `work` with a connection of the pool, translating failures; a call that changed rows tells
        `writes` that the database takes writes."""
        with translate_errors(self.writes):
            connection = self._acquire()
            try:
                changes = connection.total_changes()
                result = work(connection)
                changed = connection.total_changes() != changes
            finally:
                self._release(connection)
        if changed:
            self.writes.succeeded()
        return result

    async def run(self, work: Callable[[apsw.Connection], T]) -> T:
        """Run `work` on a worker thread, off the event loop."""
        return await anyio.to_thread.run_sync(self.call, work)

    @contextmanager
    def write_transaction(self, connection: apsw.Connection) -> Iterator[apsw.Connection]:
        """BEGIN IMMEDIATE after this process's other writers: the write lock first, so the busy timeout applies
        and no upgrade can deadlock; a failed COMMIT is rolled back, never left open."""
        if not self._write_lock.acquire(timeout=self._busy_timeout_ms / 1000):
            self.writes.failed("SQLITE_BUSY: knowledge index writes queued longer than SQLITE_BUSY_TIMEOUT_MS")
            raise StorageUnavailableError("the knowledge index is busy; try again shortly")
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            try:
                connection.execute("COMMIT")
            except apsw.Error:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        finally:
            self._write_lock.release()

    def close(self) -> None:
        """Close the idle connections now, and those lent out as they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
