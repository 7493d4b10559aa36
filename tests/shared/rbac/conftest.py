"""The roles repository on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.rbac import RoleRepository
from apis.shared.storage.memory.roles import InMemoryRoleRepository
from tests.helpers import BACKENDS, repository_on


@pytest.fixture(params=["memory", *BACKENDS])
async def role_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RoleRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto, each fresh and empty: one contract, three implementations."""
    async with repository_on(
        request, tmp_path, memory=InMemoryRoleRepository, pick=lambda storage: storage.roles
    ) as repository:
        yield repository
