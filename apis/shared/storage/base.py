"""What a storage backend hands to a service: its repositories, its blob store, health probes and a way to close it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from apis.shared.assistants.knowledge_repository import DocumentRepository, KnowledgeIndex
from apis.shared.assistants.repository import AssistantRepository
from apis.shared.costs.repository import CostRepository
from apis.shared.files.repository import BlobStore, FileRepository
from apis.shared.memory.repository import MemoryRepository
from apis.shared.models.repository import ModelRepository
from apis.shared.quota.repository import QuotaRepository
from apis.shared.rbac.repository import RoleRepository
from apis.shared.sessions.repository import SessionRepository
from apis.shared.storage.write_health import WriteHealth
from apis.shared.tools.repository import ToolRepository
from apis.shared.users.repository import UserRepository


@dataclass(frozen=True, slots=True)
class Storage:
    """The repositories of one backend, opened once at a service's start and closed at its end."""

    backend: str
    sessions: SessionRepository
    models: ModelRepository
    users: UserRepository
    roles: RoleRepository
    costs: CostRepository
    files: FileRepository
    assistants: AssistantRepository
    documents: DocumentRepository
    knowledge: KnowledgeIndex
    quotas: QuotaRepository
    tools: ToolRepository
    memories: MemoryRepository
    blobs: BlobStore
    ping: Callable[[], Awaitable[None]]
    # Whether writes go through, as the repositories' own writes and a probe that writes nothing tell.
    writes: WriteHealth
    close: Callable[[], Awaitable[None]]
