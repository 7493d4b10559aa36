"""The memory repository on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.memory import MemoryRepository
from apis.shared.storage.memory.memories import InMemoryMemoryRepository
from tests.helpers import BACKENDS, repository_on


@pytest.fixture(params=["memory", *BACKENDS])
async def memories(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MemoryRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto, each fresh and empty: one contract, three implementations."""
    async with repository_on(
        request, tmp_path, memory=InMemoryMemoryRepository, pick=lambda storage: storage.memories
    ) as repository:
        yield repository
