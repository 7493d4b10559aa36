from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.models import ModelRepository
from apis.shared.storage import initialize_storage, open_storage
from apis.shared.storage.memory.models import InMemoryModelRepository
from tests.helpers import BACKENDS, settings_for_backend


@pytest.fixture(params=["memory", *BACKENDS])
async def model_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ModelRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto: one contract, three implementations."""
    if request.param == "memory":
        yield InMemoryModelRepository()
        return
    settings = settings_for_backend(request.param, request, tmp_path)
    await initialize_storage(settings)
    storage = await open_storage(settings)
    try:
        yield storage.models
    finally:
        await storage.close()
