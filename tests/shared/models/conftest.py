"""The model catalogue repository on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.models import ModelRepository
from apis.shared.storage.memory.models import InMemoryModelRepository
from tests.helpers import BACKENDS, repository_on


@pytest.fixture(params=["memory", *BACKENDS])
async def model_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ModelRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto, each fresh and empty: one contract, three implementations."""
    async with repository_on(
        request, tmp_path, memory=InMemoryModelRepository, pick=lambda storage: storage.models
    ) as repository:
        yield repository
