"""A role repository on every backend: the in-memory fake, SQLite and DynamoDB on a moto server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio.to_thread
import pytest

from apis.shared.rbac import RoleRepository
from apis.shared.storage import dynamo
from apis.shared.storage.dynamo.client import Table, dynamodb_client
from apis.shared.storage.dynamo.roles import DynamoRoleRepository
from apis.shared.storage.memory.roles import InMemoryRoleRepository
from apis.shared.storage.sqlite.database import SqliteDatabase
from apis.shared.storage.sqlite.migrations import migrate
from apis.shared.storage.sqlite.roles import SqliteRoleRepository
from tests.helpers import BACKENDS, settings_for_backend


@pytest.fixture(params=["memory", *BACKENDS])
async def role_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RoleRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto: one contract, three implementations."""
    if request.param == "memory":
        yield InMemoryRoleRepository()
        return
    settings = settings_for_backend(request.param, request, tmp_path)
    if request.param == "local":
        database = SqliteDatabase(settings.sqlite_path, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        await database.run(migrate)
        try:
            yield SqliteRoleRepository(database)
        finally:
            database.close()
        return
    await dynamo.initialize(settings)
    client = await anyio.to_thread.run_sync(dynamodb_client, settings)
    try:
        yield DynamoRoleRepository(Table(client, settings.dynamodb_table_name))
    finally:
        await anyio.to_thread.run_sync(client.close)
