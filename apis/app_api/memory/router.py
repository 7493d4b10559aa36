"""The caller's long-term memory, in the reference's paths and shapes: status, preferences, facts, a session's
summaries, all, search, strategies and delete; and `/memory/settings`, the caller's own switch (our addition).

Every route reads and changes only the caller's records: the namespace comes from the token, and another user's
record, session or namespace is 404. With MEMORY_ENABLED=false the status says "unavailable" and every other
route answers 503 `memory_unavailable`, as the reference does when it has no memory configured.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from apis.app_api.deps import AppSettings, CurrentUser
from apis.app_api.memory.dependencies import MemoriesRepo, MemoryOn
from apis.app_api.memory.schemas import (
    AllMemoriesRead,
    DeleteMemoryRead,
    MemoriesRead,
    MemoryRead,
    MemorySearchIn,
    MemorySettingsIO,
    MemoryStatusRead,
    StrategiesRead,
    StrategyRead,
)
from apis.app_api.sessions.dependencies import OwnedSession
from apis.app_api.updates import merged_record_validated
from apis.shared.config import MemoryBackend, Settings, StorageBackend
from apis.shared.memory import MemoryKind, MemoryRepository, namespaces
from apis.shared.memory import service as memory_service

router = APIRouter(prefix="/memory", tags=["memory"])

QueryText = Annotated[str | None, Query(max_length=2000, description="words to rank the records by")]
TopKQuery = Annotated[int, Query(alias="topK", ge=1, le=50, description="how many records")]
RecordId = Annotated[str, Path(min_length=1, max_length=256, description="the record's id")]


def _memory_id(settings: Settings) -> str:
    """What the status and strategies name as the store: the AgentCore Memory, or the storage backend."""
    if settings.memory.memory_backend is MemoryBackend.AGENTCORE and settings.memory.agentcore_memory_id:
        return settings.memory.agentcore_memory_id
    return f"colloquy-{settings.storage.storage_backend.value}"


def _is_cloud(settings: Settings) -> bool:
    return (
        settings.memory.memory_backend is MemoryBackend.AGENTCORE
        or settings.storage.storage_backend is StorageBackend.DYNAMODB
    )


async def _kind(
    memories: MemoryRepository, *, user_id: str, kind: MemoryKind, query: str | None, top_k: int
) -> MemoriesRead:
    """The caller's records of `kind`: the most relevant to `query` if one is given, else the newest."""
    namespace = namespaces.namespace_of(kind, user_id)
    if query and query.strip():
        found = await memory_service.search(memories, user_id=user_id, kinds=[kind], query=query, top_k=top_k)
        return MemoriesRead.of([MemoryRead.scored(item) for item in found], namespace, query)
    records = await memory_service.list_memories(memories, user_id=user_id, kinds=[kind], limit=top_k)
    return MemoriesRead.of([MemoryRead.of(record) for record in records], namespace, query)


@router.get("/status", response_model=MemoryStatusRead, response_model_exclude_none=True)
async def memory_status(caller: CurrentUser, settings: AppSettings) -> MemoryStatusRead:
    """Whether memory works in this deployment, its store and its namespaces."""
    available = memory_service.enabled(settings.memory)
    return MemoryStatusRead(
        status="available" if available else "unavailable",
        available=available,
        mode="cloud" if _is_cloud(settings) else "local",
        memory_id=_memory_id(settings) if available else None,
        region=settings.storage.aws_region if available and _is_cloud(settings) else None,
        strategies={"semantic": "facts", "preference": "preferences", "summary": "summaries"} if available else None,
        namespaces=dict(namespaces.TEMPLATES) if available else None,
    )


@router.get("/preferences", response_model=MemoriesRead, response_model_exclude_none=True, dependencies=[MemoryOn])
async def preferences(
    caller: CurrentUser, memories: MemoriesRepo, query: QueryText = None, top_k: TopKQuery = 10
) -> MemoriesRead:
    """The caller's preferences, most relevant to `query` first, or newest first without one."""
    return await _kind(memories, user_id=caller.user_id, kind=MemoryKind.PREFERENCE, query=query, top_k=top_k)


@router.get("/facts", response_model=MemoriesRead, response_model_exclude_none=True, dependencies=[MemoryOn])
async def facts(
    caller: CurrentUser, memories: MemoriesRepo, query: QueryText = None, top_k: TopKQuery = 10
) -> MemoriesRead:
    """The facts learnt about the caller, most relevant to `query` first, or newest first without one."""
    return await _kind(memories, user_id=caller.user_id, kind=MemoryKind.FACT, query=query, top_k=top_k)


@router.get(
    "/summaries/{session_id}", response_model=MemoriesRead, response_model_exclude_none=True, dependencies=[MemoryOn]
)
async def session_summaries(
    caller: CurrentUser, session: OwnedSession, memories: MemoriesRepo, query: QueryText = None, top_k: TopKQuery = 10
) -> MemoriesRead:
    """The summaries of one of the caller's sessions (another user's session is 404)."""
    user_id, session_id = caller.user_id, session.session_id
    namespace = namespaces.namespace_of(MemoryKind.SUMMARY, user_id, session_id)
    kinds = [MemoryKind.SUMMARY]
    if query and query.strip():
        found = await memory_service.search(
            memories, user_id=user_id, kinds=kinds, query=query, top_k=top_k, session_id=session_id
        )
        return MemoriesRead.of([MemoryRead.scored(item) for item in found], namespace, query)
    records = await memory_service.list_memories(
        memories, user_id=user_id, kinds=kinds, limit=top_k, session_id=session_id
    )
    return MemoriesRead.of([MemoryRead.of(record) for record in records], namespace, query)


@router.get("", response_model=AllMemoriesRead, response_model_exclude_none=True, dependencies=[MemoryOn])
async def all_memories(
    caller: CurrentUser, memories: MemoriesRepo, top_k: Annotated[int, Query(alias="topK", ge=1, le=50)] = 20
) -> AllMemoriesRead:
    """The caller's newest preferences and facts, at most `topK` of each."""
    user_id = caller.user_id
    return AllMemoriesRead(
        preferences=await _kind(memories, user_id=user_id, kind=MemoryKind.PREFERENCE, query=None, top_k=top_k),
        facts=await _kind(memories, user_id=user_id, kind=MemoryKind.FACT, query=None, top_k=top_k),
    )


@router.post("/search", response_model=MemoriesRead, response_model_exclude_none=True, dependencies=[MemoryOn])
async def search(body: MemorySearchIn, caller: CurrentUser, memories: MemoriesRepo) -> MemoriesRead:
    """The caller's records most relevant to the query, in the namespace sent (only ever the caller's own) or,
    as in the reference, among their facts."""
    user_id = caller.user_id
    scope = namespaces.Scope(MemoryKind.FACT)
    if body.namespace:
        with merged_record_validated():  # a namespace of no kind: 422 with `errors`, as any malformed body
            scope = namespaces.parse(body.namespace, user_id)
    found = await memory_service.search(
        memories, user_id=user_id, kinds=[scope.kind], query=body.query, top_k=body.top_k, session_id=scope.session_id
    )
    namespace = namespaces.namespace_of(scope.kind, user_id, scope.session_id)
    return MemoriesRead.of([MemoryRead.scored(item) for item in found], namespace, body.query)


def _strategy(strategy_id: str, strategy_type: str, config: dict[str, object]) -> StrategyRead:
    return StrategyRead(
        strategy_id=strategy_id,
        strategy_type=strategy_type,
        namespace=namespaces.TEMPLATES[strategy_id],
        status="ACTIVE",
        config=config,
    )


@router.get("/strategies", response_model=StrategiesRead, response_model_exclude_none=True, dependencies=[MemoryOn])
async def strategies(caller: CurrentUser, settings: AppSettings) -> StrategiesRead:
    """How this deployment learns and recalls: preferences, facts and session summaries, with their namespaces."""
    memory = settings.memory
    learnt = {"model": memory.memory_model_id or "local", "maxRecords": memory.memory_max_records_per_user}
    preferences_recall = {
        "recallTopK": memory.memory_recall_preferences,
        "recallMinScore": memory.memory_recall_preferences_min_score,
    }
    facts_recall = {"recallTopK": memory.memory_recall_facts, "recallMinScore": memory.memory_recall_facts_min_score}
    return StrategiesRead(
        strategies=[
            _strategy("preferences", "user_preference", {**learnt, **preferences_recall}),
            _strategy("facts", "semantic", {**learnt, **facts_recall}),
            _strategy("summaries", "summary", learnt),
        ],
        memory_id=_memory_id(settings),
    )


@router.get("/settings", response_model=MemorySettingsIO, dependencies=[MemoryOn])
async def my_settings(caller: CurrentUser, memories: MemoriesRepo, settings: AppSettings) -> MemorySettingsIO:
    """Whether memory is on for the caller (our addition: the reference has no per-user switch)."""
    enabled = await memory_service.enabled_for(memories, user_id=caller.user_id, settings=settings.memory)
    return MemorySettingsIO(enabled=enabled)


@router.put("/settings", response_model=MemorySettingsIO, dependencies=[MemoryOn])
async def save_settings(body: MemorySettingsIO, caller: CurrentUser, memories: MemoriesRepo) -> MemorySettingsIO:
    """Turn memory on or off for the caller; records already learnt stay until deleted."""
    enabled = await memory_service.set_enabled_for(memories, user_id=caller.user_id, enabled=body.enabled)
    return MemorySettingsIO(enabled=enabled)


@router.delete("/{record_id}", response_model=DeleteMemoryRead, dependencies=[MemoryOn])
async def delete_memory(record_id: RecordId, caller: CurrentUser, memories: MemoriesRepo) -> DeleteMemoryRead:
    """Forget one of the caller's records; another user's is 404, as a missing one."""
    await memory_service.delete_own(memories, user_id=caller.user_id, record_id=record_id)
    return DeleteMemoryRead(deleted_count=1, message=f"Successfully deleted memory {record_id}")
