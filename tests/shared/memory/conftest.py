"""The memory repository on every backend: the in-memory fake, SQLite, DynamoDB on moto, and Amazon Bedrock
AgentCore Memory through the real `bedrock-agentcore` client against a stub of its wire protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from apis.shared.memory import MemoryRepository
from apis.shared.storage.agentcore.client import AgentCoreMemory, agentcore_client
from apis.shared.storage.agentcore.memories import AgentCoreMemoryRepository
from apis.shared.storage.memory.memories import InMemoryMemoryRepository
from tests.fakes.agentcore_memory_server import MEMORY_ID, AgentCoreState, running_agentcore
from tests.helpers import BACKENDS, repository_on


@pytest.fixture
def agentcore(moto_server_url: str) -> Iterator[tuple[str, AgentCoreState]]:
    """The AgentCore stub on loopback (`moto_server_url` for the fake AWS credentials the client signs with)."""
    with running_agentcore() as served:
        yield served


@pytest.fixture(params=["memory", *BACKENDS, "agentcore"])
async def memories(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MemoryRepository]:
    """Each backend, fresh and empty: one contract, four implementations."""
    if request.param == "agentcore":
        url, _ = request.getfixturevalue("agentcore")
        client = agentcore_client("us-east-1", url)
        try:
            yield AgentCoreMemoryRepository(AgentCoreMemory(client, MEMORY_ID), InMemoryMemoryRepository())
        finally:
            client.close()
        return
    async with repository_on(
        request, tmp_path, memory=InMemoryMemoryRepository, pick=lambda storage: storage.memories
    ) as repository:
        yield repository
