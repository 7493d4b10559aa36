"""The users repository on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.storage.memory.users import InMemoryUserRepository
from apis.shared.users import UserRepository
from tests.helpers import BACKENDS, repository_on


@pytest.fixture(params=["memory", *BACKENDS])
async def user_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UserRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto, each fresh and empty: one contract, three implementations."""
    async with repository_on(
        request, tmp_path, memory=InMemoryUserRepository, pick=lambda storage: storage.users
    ) as repository:
        yield repository
