"""The sessions repository on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.costs import CostRepository
from apis.shared.sessions import SessionRepository
from apis.shared.storage.memory.costs import InMemoryCostRepository
from apis.shared.storage.memory.sessions import InMemorySessionRepository
from tests.helpers import BACKENDS, repository_on


@pytest.fixture(params=["memory", *BACKENDS])
async def session_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto, each fresh and empty: one contract, three implementations."""
    async with repository_on(
        request, tmp_path, memory=InMemorySessionRepository, pick=lambda storage: storage.sessions
    ) as repository:
        yield repository


def _memory_pair() -> tuple[SessionRepository, CostRepository]:
    costs = InMemoryCostRepository()
    return InMemorySessionRepository(costs), costs


@pytest.fixture(params=["memory", *BACKENDS])
async def sessions_and_costs(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[SessionRepository, CostRepository]]:
    """The sessions and cost repositories of one fresh store: a turn's writes span both."""
    async with repository_on(
        request, tmp_path, memory=_memory_pair, pick=lambda storage: (storage.sessions, storage.costs)
    ) as pair:
        yield pair
