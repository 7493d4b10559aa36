"""The embedded backend: one SQLite file and a folder of attachment bytes under DATA_DIR."""

from __future__ import annotations

from functools import partial

from apis.shared.config import StorageSettings
from apis.shared.storage.base import Storage
from apis.shared.storage.local_blobs import LocalBlobStore
from apis.shared.storage.sqlite.assistants import SqliteAssistantRepository
from apis.shared.storage.sqlite.costs import SqliteCostRepository
from apis.shared.storage.sqlite.database import SqliteDatabase
from apis.shared.storage.sqlite.files import SqliteFileRepository
from apis.shared.storage.sqlite.migrations import migrate
from apis.shared.storage.sqlite.models import SqliteModelRepository
from apis.shared.storage.sqlite.roles import SqliteRoleRepository
from apis.shared.storage.sqlite.sessions import SqliteSessionRepository
from apis.shared.storage.sqlite.users import SqliteUserRepository
from apis.shared.storage.write_health import WriteHealth, folder_problem


def _database(settings: StorageSettings, writes: WriteHealth | None = None) -> SqliteDatabase:
    # The database makes DATA_DIR (0700) and its file (0600) itself, on first connecting.
    return SqliteDatabase(settings.sqlite_path, busy_timeout_ms=settings.sqlite_busy_timeout_ms, writes=writes)


def _write_health(settings: StorageSettings) -> WriteHealth:
    """Writes of the database and the blob folder, and a probe of DATA_DIR's free space and permissions."""
    probe = partial(
        folder_problem,
        settings.data_dir,
        [settings.sqlite_path, settings.blobs_dir],
        min_free_bytes=settings.storage_min_free_bytes,
    )
    return WriteHealth(failure_seconds=settings.storage_write_failure_seconds, probe=probe)


async def initialize(settings: StorageSettings) -> list[str]:
    """Create the database file and apply pending migrations."""
    database = _database(settings)
    try:
        applied = await database.run(migrate)
    finally:
        database.close()
    return [f"sqlite {settings.sqlite_path}: {line}" for line in applied] or [
        f"sqlite {settings.sqlite_path}: schema up to date"
    ]


async def open_storage(settings: StorageSettings) -> Storage:
    """Open the database, migrating it first: the embedded default needs no separate setup step."""
    writes = _write_health(settings)
    database = _database(settings, writes)
    await database.run(migrate)
    sessions = SqliteSessionRepository(database)

    async def close() -> None:
        database.close()

    blobs = LocalBlobStore(settings.blobs_dir, writes=writes)

    async def ping() -> None:
        """Health reaches both halves: the records and the bytes."""
        await sessions.ping()
        await blobs.ping()

    return Storage(
        backend="local",
        sessions=sessions,
        models=SqliteModelRepository(database),
        users=SqliteUserRepository(database),
        roles=SqliteRoleRepository(database),
        costs=SqliteCostRepository(database),
        files=SqliteFileRepository(database),
        assistants=SqliteAssistantRepository(database),
        blobs=blobs,
        ping=ping,
        writes=writes,
        close=close,
    )
