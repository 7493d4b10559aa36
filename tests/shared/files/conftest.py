"""The attachment record repository on every backend, built directly from each backend's parts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.clock import new_id, now_iso
from apis.shared.config import StorageSettings
from apis.shared.files import FileRecord, FileRepository, attachment_key
from apis.shared.storage import dynamo
from apis.shared.storage.dynamo import files as dynamo_files
from apis.shared.storage.dynamo.client import Table, dynamodb_client
from apis.shared.storage.dynamo.files import DynamoFileRepository
from apis.shared.storage.memory.files import MemoryFileRepository
from apis.shared.storage.sqlite.database import SqliteDatabase
from apis.shared.storage.sqlite.files import SqliteFileRepository
from apis.shared.storage.sqlite.migrations import migrate
from tests.helpers import BACKENDS

_BUSY_TIMEOUT_MS = 5000


def random_file(
    user_id: str,
    session_id: str,
    *,
    size: int = 100,
    upload_id: str | None = None,
    created_at: str | None = None,
) -> FileRecord:
    """A new pending record with a fresh UUIDv7 upload id and creation time now (unless given) and a unique name."""
    upload_id = upload_id or new_id()
    at = created_at or now_iso()
    return FileRecord(
        upload_id=upload_id,
        user_id=user_id,
        session_id=session_id,
        filename=f"notes-{uuid.uuid4().hex[:8]}.txt",
        mime_type="text/plain",
        size_bytes=size,
        storage_key=attachment_key(user_id, upload_id),
        created_at=at,
        updated_at=at,
    )


async def _migrated_database(path: Path) -> SqliteDatabase:
    database = SqliteDatabase(path, busy_timeout_ms=_BUSY_TIMEOUT_MS)
    await database.run(migrate)
    return database


@pytest.fixture(params=["memory", *BACKENDS])
async def file_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FileRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto, each fresh and empty: one contract, three implementations."""
    if request.param == "memory":
        yield MemoryFileRepository()
    elif request.param == "local":
        database = await _migrated_database(tmp_path / "colloquy.sqlite3")
        try:
            yield SqliteFileRepository(database)
        finally:
            database.close()
    else:
        settings: StorageSettings = request.getfixturevalue("dynamo_storage_settings")
        await dynamo.initialize(settings)
        client = dynamodb_client(settings)
        try:
            yield DynamoFileRepository(Table(client, settings.dynamodb_table_name))
        finally:
            client.close()


@pytest.fixture
async def sqlite_file_repositories(tmp_path: Path) -> AsyncIterator[tuple[SqliteFileRepository, SqliteFileRepository]]:
    """Two repositories over two SqliteDatabase objects on one file, as the two services hold it."""
    path = tmp_path / "colloquy.sqlite3"
    first = await _migrated_database(path)
    second = SqliteDatabase(path, busy_timeout_ms=_BUSY_TIMEOUT_MS)
    try:
        yield SqliteFileRepository(first), SqliteFileRepository(second)
    finally:
        first.close()
        second.close()


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    """A fresh SQLite file with every migration applied."""
    database = await _migrated_database(tmp_path / "colloquy.sqlite3")
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def small_dynamo_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB reads lists a couple of items a page, so a handful of files spans several (no effect elsewhere)."""
    monkeypatch.setattr(dynamo_files, "_FILTERED_PAGE_SIZE", 1)
    monkeypatch.setattr(dynamo_files, "_SESSION_PAGE_SIZE", 2)
