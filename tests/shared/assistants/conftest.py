"""The assistant repository on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.assistants import AssistantRepository
from apis.shared.storage.memory.assistants import MemoryAssistantRepository
from tests.helpers import BACKENDS, repository_on


@pytest.fixture(params=["memory", *BACKENDS])
async def assistant_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AssistantRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto, each fresh and empty: one contract, three implementations."""
    async with repository_on(
        request, tmp_path, memory=MemoryAssistantRepository, pick=lambda storage: storage.assistants
    ) as repository:
        yield repository
