from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.config import StorageSettings
from apis.shared.costs import CostRepository
from apis.shared.storage import dynamo
from apis.shared.storage.dynamo.client import Table, dynamodb_client
from apis.shared.storage.dynamo.costs import DynamoCostRepository
from apis.shared.storage.memory.costs import InMemoryCostRepository
from apis.shared.storage.sqlite.costs import SqliteCostRepository
from apis.shared.storage.sqlite.database import SqliteDatabase
from apis.shared.storage.sqlite.migrations import migrate


@pytest.fixture(params=["memory", "sqlite", pytest.param("dynamodb", marks=pytest.mark.dynamodb)])
async def cost_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CostRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto, each fresh and empty: one contract, three implementations."""
    if request.param == "memory":
        yield InMemoryCostRepository()
    elif request.param == "sqlite":
        database = SqliteDatabase(tmp_path / "costs.sqlite3", busy_timeout_ms=5000)
        try:
            await database.run(migrate)
            yield SqliteCostRepository(database)
        finally:
            database.close()
    else:
        table = await _dynamo_table(request.getfixturevalue("dynamo_storage_settings"))
        try:
            yield DynamoCostRepository(table)
        finally:
            table.client.close()


@pytest.fixture
async def dynamo_cost_table(dynamo_storage_settings: StorageSettings) -> AsyncIterator[Table]:
    """A fresh table on the moto server, for tests of the DynamoDB item layout itself."""
    table = await _dynamo_table(dynamo_storage_settings)
    try:
        yield table
    finally:
        table.client.close()


async def _dynamo_table(settings: StorageSettings) -> Table:
    await dynamo.initialize(settings)
    return Table(dynamodb_client(settings), settings.dynamodb_table_name)
