"""The embedded backend: one SQLite file and a folder of attachment bytes under DATA_DIR."""

from __future__ import annotations

from apis.shared.config import StorageSettings
from apis.shared.storage.base import Storage
from apis.shared.storage.local_blobs import LocalBlobStore
from apis.shared.storage.sqlite.costs import SqliteCostRepository
from apis.shared.storage.sqlite.database import SqliteDatabase
from apis.shared.storage.sqlite.files import SqliteFileRepository
from apis.shared.storage.sqlite.migrations import migrate
from apis.shared.storage.sqlite.models import SqliteModelRepository
from apis.shared.storage.sqlite.roles import SqliteRoleRepository
from apis.shared.storage.sqlite.sessions import SqliteSessionRepository
from apis.shared.storage.sqlite.users import SqliteUserRepository


def _database(settings: StorageSettings) -> SqliteDatabase:
    # The database makes DATA_DIR (0700) and its file (0600) itself, on first connecting.
    return SqliteDatabase(settings.sqlite_path, busy_timeout_ms=settings.sqlite_busy_timeout_ms)


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
    database = _database(settings)
    await database.run(migrate)
    sessions = SqliteSessionRepository(database)

    async def close() -> None:
        database.close()

    blobs = LocalBlobStore(settings.blobs_dir)

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
        blobs=blobs,
        ping=ping,
        close=close,
    )
