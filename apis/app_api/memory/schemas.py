"""Bodies and answers of the memory routes, in the reference's names and casing.

Additions the reference client ignores: each record says its `kind`, `subject` and `sourceSessionId`; the status
and the strategies describe this deployment's own store rather than an AgentCore Memory resource; and
`/memory/settings` carries the user's own switch (the reference has none).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from apis.shared.memory import MemoryKind, MemoryRecord, ScoredMemory, namespaces
from apis.shared.schemas import ApiModel

TopK = Annotated[int, Field(ge=1, le=50)]
SearchQuery = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class MemoryRead(ApiModel):
    """One record as the reference's client shows it."""

    record_id: str
    content: str
    namespace: str
    relevance_score: float | None = None
    created_at: str
    updated_at: str
    metadata: dict[str, Any] | None = None
    kind: MemoryKind
    subject: str | None = None
    source_session_id: str | None = None

    @classmethod
    def of(cls, record: MemoryRecord, score: float | None = None) -> MemoryRead:
        return cls(
            record_id=record.record_id,
            content=record.content,
            namespace=namespaces.namespace_of(record.kind, record.user_id, record.source_session_id),
            relevance_score=score,
            created_at=record.created_at,
            updated_at=record.updated_at,
            metadata=record.metadata or None,
            kind=record.kind,
            subject=record.subject,
            source_session_id=record.source_session_id,
        )

    @classmethod
    def scored(cls, found: ScoredMemory) -> MemoryRead:
        return cls.of(found.record, found.score)


class MemoriesRead(ApiModel):
    """Records of one namespace: listed newest first, or searched best first (with `query`)."""

    memories: list[MemoryRead]
    namespace: str
    query: str | None = None
    total_count: int

    @classmethod
    def of(cls, memories: list[MemoryRead], namespace: str, query: str | None = None) -> MemoriesRead:
        return cls(memories=memories, namespace=namespace, query=query, total_count=len(memories))


class AllMemoriesRead(ApiModel):
    preferences: MemoriesRead
    facts: MemoriesRead


class MemorySearchIn(ApiModel):
    """A search of the caller's records; `namespace`, if sent, must be one of the caller's own (default: facts)."""

    query: SearchQuery
    namespace: Annotated[str, StringConstraints(max_length=1024)] | None = None
    top_k: TopK = 10


class StrategyRead(ApiModel):
    strategy_id: str
    strategy_type: str
    namespace: str | None = None
    status: str | None = None
    config: dict[str, Any] | None = None


class StrategiesRead(ApiModel):
    strategies: list[StrategyRead]
    memory_id: str


class DeleteMemoryRead(ApiModel):
    deleted_count: int
    message: str


class MemoryStatusRead(ApiModel):
    """Whether memory works in this deployment, and where (the reference's status; `available` drives the page)."""

    status: Literal["available", "unavailable"]
    available: bool
    mode: Literal["cloud", "local"]
    memory_id: str | None = None
    region: str | None = None
    strategies: dict[str, str] | None = None
    namespaces: dict[str, str] | None = None


class MemorySettingsIO(ApiModel):
    """The caller's own switch: off, nothing is learnt from their turns and nothing recalled into them."""

    enabled: bool
