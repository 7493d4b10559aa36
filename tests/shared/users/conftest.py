from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.config import StorageSettings
from apis.shared.storage import dynamo
from apis.shared.storage.dynamo.client import Table, dynamodb_client
from apis.shared.storage.dynamo.users import DynamoUserRepository
from apis.shared.storage.memory.users import InMemoryUserRepository
from apis.shared.storage.sqlite.database import SqliteDatabase
from apis.shared.storage.sqlite.migrations import migrate
from apis.shared.storage.sqlite.users import SqliteUserRepository
from apis.shared.users import UserRepository


@pytest.fixture(params=["memory", "sqlite", pytest.param("dynamodb", marks=pytest.mark.dynamodb)])
async def user_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UserRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto, each fresh and empty: one contract, three implementations."""
    if request.param == "memory":
        yield InMemoryUserRepository()
    elif request.param == "sqlite":
        database = SqliteDatabase(tmp_path / "users.sqlite3", busy_timeout_ms=5000)
        try:
            await database.run(migrate)
            yield SqliteUserRepository(database)
        finally:
            database.close()
    else:
        settings: StorageSettings = request.getfixturevalue("dynamo_storage_settings")
        await dynamo.initialize(settings)
        client = dynamodb_client(settings)
        try:
            yield DynamoUserRepository(Table(client, settings.dynamodb_table_name))
        finally:
            client.close()
