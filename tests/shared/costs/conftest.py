from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.config import StorageSettings
from apis.shared.costs import CostRepository
from apis.shared.storage import dynamo
from apis.shared.storage.dynamo.client import Table, dynamodb_client
from apis.shared.storage.memory.costs import InMemoryCostRepository
from tests.helpers import BACKENDS, repository_on


@pytest.fixture(params=["memory", *BACKENDS])
async def cost_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CostRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto, each fresh and empty: one contract, three implementations."""
    async with repository_on(
        request, tmp_path, memory=InMemoryCostRepository, pick=lambda storage: storage.costs
    ) as repository:
        yield repository


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
