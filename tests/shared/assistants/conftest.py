"""The assistant repository, and the knowledge base's documents and index, on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.assistants import AssistantRepository, DocumentRepository, KnowledgeIndex
from apis.shared.storage.memory.assistants import MemoryAssistantRepository
from apis.shared.storage.memory.knowledge import MemoryDocumentRepository, MemoryKnowledgeIndex
from tests.helpers import BACKENDS, repository_on


@pytest.fixture(params=["memory", *BACKENDS])
async def assistant_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AssistantRepository]:
    """The in-memory fake, SQLite and DynamoDB on moto, each fresh and empty: one contract, three implementations."""
    async with repository_on(
        request, tmp_path, memory=MemoryAssistantRepository, pick=lambda storage: storage.assistants
    ) as repository:
        yield repository


@pytest.fixture(params=["memory", *BACKENDS])
async def document_repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DocumentRepository]:
    """Knowledge-base documents on the fake, SQLite and DynamoDB on moto, each fresh and empty."""
    async with repository_on(
        request, tmp_path, memory=MemoryDocumentRepository, pick=lambda storage: storage.documents
    ) as repository:
        yield repository


@pytest.fixture(params=["memory", *BACKENDS])
async def knowledge_index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KnowledgeIndex]:
    """The knowledge index on the fake, SQLite (FTS5 and sqlite-vec) and DynamoDB with S3 Vectors, fresh and empty."""
    async with repository_on(
        request, tmp_path, memory=MemoryKnowledgeIndex, pick=lambda storage: storage.knowledge
    ) as index:
        yield index
