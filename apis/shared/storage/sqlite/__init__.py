"""The embedded backend under DATA_DIR: one SQLite file of records, one of the knowledge index (its own file,
opened with apsw for FTS5 and sqlite-vec: knowledge_database.py) and a folder of attachment bytes."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from apis.shared.config import StorageSettings
from apis.shared.storage.base import Storage
from apis.shared.storage.local_blobs import LocalBlobStore
from apis.shared.storage.sqlite.assistants import SqliteAssistantRepository
from apis.shared.storage.sqlite.costs import SqliteCostRepository
from apis.shared.storage.sqlite.database import SqliteDatabase
from apis.shared.storage.sqlite.files import SqliteFileRepository
from apis.shared.storage.sqlite.knowledge import SqliteDocumentRepository
from apis.shared.storage.sqlite.knowledge_database import KnowledgeDatabase
from apis.shared.storage.sqlite.knowledge_index import SqliteKnowledgeIndex
from apis.shared.storage.sqlite.memories import SqliteMemoryRepository
from apis.shared.storage.sqlite.migrations import migrate
from apis.shared.storage.sqlite.models import SqliteModelRepository
from apis.shared.storage.sqlite.quota import SqliteQuotaRepository
from apis.shared.storage.sqlite.roles import SqliteRoleRepository
from apis.shared.storage.sqlite.sessions import SqliteSessionRepository
from apis.shared.storage.sqlite.tools import SqliteToolRepository
from apis.shared.storage.sqlite.users import SqliteUserRepository
from apis.shared.storage.write_health import WriteHealth, folder_problem


def _database(settings: StorageSettings, writes: WriteHealth | None = None) -> SqliteDatabase:
    # The database makes DATA_DIR (0700) and its file (0600) itself, on first connecting.
    return SqliteDatabase(settings.sqlite_path, busy_timeout_ms=settings.sqlite_busy_timeout_ms, writes=writes)


def knowledge_path(settings: StorageSettings) -> Path:
    """The knowledge index's file, beside the main database."""
    return settings.data_dir / "knowledge.sqlite3"


def _knowledge_database(settings: StorageSettings, writes: WriteHealth | None = None) -> KnowledgeDatabase:
    # Made private (DATA_DIR 0700, the file 0600) on first connecting, as the main database.
    return KnowledgeDatabase(knowledge_path(settings), busy_timeout_ms=settings.sqlite_busy_timeout_ms, writes=writes)


def _write_health(settings: StorageSettings) -> WriteHealth:
    """Writes of the database and the blob folder, and a probe of DATA_DIR's free space and permissions."""
    probe = partial(
        folder_problem,
        settings.data_dir,
        [settings.sqlite_path, knowledge_path(settings), settings.blobs_dir],
        min_free_bytes=settings.storage_min_free_bytes,
    )
    return WriteHealth(failure_seconds=settings.storage_write_failure_seconds, probe=probe)


async def initialize(settings: StorageSettings) -> list[str]:
    """Create the database files, apply pending migrations and create the knowledge index's tables."""
    database = _database(settings)
    try:
        applied = await database.run(migrate)
    finally:
        database.close()
    knowledge = _knowledge_database(settings)
    try:
        knowledge_line = await SqliteKnowledgeIndex(knowledge).create_schema()
    finally:
        knowledge.close()
    lines = [f"sqlite {settings.sqlite_path}: {line}" for line in applied] or [
        f"sqlite {settings.sqlite_path}: schema up to date"
    ]
    return [*lines, f"sqlite {knowledge_path(settings)}: knowledge index {knowledge_line}"]


async def open_storage(settings: StorageSettings) -> Storage:
    """Open the database, migrating it first: the embedded default needs no separate setup step."""
    writes = _write_health(settings)
    database = _database(settings, writes)
    await database.run(migrate)
    knowledge_database = _knowledge_database(settings, writes)
    knowledge = SqliteKnowledgeIndex(knowledge_database)
    try:
        await knowledge.create_schema()
    except BaseException:
        knowledge_database.close()
        database.close()
        raise
    sessions = SqliteSessionRepository(database)

    async def close() -> None:
        database.close()
        knowledge_database.close()

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
        documents=SqliteDocumentRepository(database),
        knowledge=knowledge,
        quotas=SqliteQuotaRepository(database),
        tools=SqliteToolRepository(database),
        memories=SqliteMemoryRepository(database),
        blobs=blobs,
        ping=ping,
        writes=writes,
        close=close,
    )
