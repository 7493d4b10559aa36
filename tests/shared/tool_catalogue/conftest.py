"""The tool repository on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.storage.memory.tools import InMemoryToolRepository
from apis.shared.tools.repository import ToolRepository
from tests.helpers import BACKENDS, repository_on


@pytest.fixture(params=["memory", *BACKENDS])
async def tool_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ToolRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto, each fresh and empty: one contract, three implementations."""
    async with repository_on(
        request, tmp_path, memory=InMemoryToolRepository, pick=lambda storage: storage.tools
    ) as repository:
        yield repository
