"""The quota repository on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.quota import QuotaRepository
from apis.shared.storage.memory.quota import InMemoryQuotaRepository
from tests.helpers import BACKENDS, repository_on


@pytest.fixture(params=["memory", *BACKENDS])
async def quota_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[QuotaRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto, each fresh and empty: one contract, three implementations."""
    async with repository_on(
        request, tmp_path, memory=InMemoryQuotaRepository, pick=lambda storage: storage.quotas
    ) as repository:
        yield repository
