"""Amazon Bedrock AgentCore Memory as the records' store, beyond the shared contract: what goes over the wire (signed
calls, namespaces under the user's own, AgentCore's limits kept), its failures as storage errors, the setting that
selects it, and the routes over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from apis.shared.clock import new_id, now_iso
from apis.shared.config import MemoryBackend, MemorySettings, load_settings
from apis.shared.errors import ConfigurationError, StorageError, StorageUnavailableError
from apis.shared.memory import MemoryKind, MemoryRecord
from apis.shared.memory import service as memory_service
from apis.shared.storage import Storage, open_storage
from apis.shared.storage.agentcore import open_memory_backend
from apis.shared.storage.agentcore.client import AgentCoreMemory, agentcore_client
from apis.shared.storage.agentcore.memories import AgentCoreMemoryRepository, escape, namespace, unescape
from apis.shared.storage.memory.memories import InMemoryMemoryRepository
from tests.fakes.agentcore_memory_server import MEMORY_ID, AgentCoreState
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings, random_session_id, random_user_id


@pytest.fixture
def stub(agentcore: tuple[str, AgentCoreState]) -> tuple[str, AgentCoreState]:
    return agentcore


@pytest.fixture
def repository(stub: tuple[str, AgentCoreState]) -> Iterator[AgentCoreMemoryRepository]:
    client = agentcore_client("us-east-1", stub[0])
    try:
        yield AgentCoreMemoryRepository(AgentCoreMemory(client, MEMORY_ID), InMemoryMemoryRepository())
    finally:
        client.close()


def fact(user_id: str, content: str = "My team deploys on Fridays", **fields: object) -> MemoryRecord:
    moment = now_iso()
    return MemoryRecord.model_validate(
        {
            "record_id": new_id(),
            "user_id": user_id,
            "kind": MemoryKind.FACT,
            "content": content,
            "created_at": moment,
            "updated_at": moment,
        }
        | fields
    )


def test_ids_are_escaped_into_namespaces_reversibly_and_without_collisions() -> None:
    for value in ("alice", "auth0|5f2b", "a_5f", "a/b", "é漢", "x-y"):
        assert unescape(escape(value)) == value
    assert escape("a_5f") != escape("a/")
    assert namespace("auth0|5f2b", MemoryKind.FACT) == "/colloquy/auth0_7c5f2b/fact"
    assert namespace("alice", MemoryKind.SUMMARY, "s.1") == "/colloquy/alice/summary/s_2e1"
    assert namespace("alice", MemoryKind.SUMMARY) == "/colloquy/alice/summary/_"


async def test_records_go_to_the_users_namespaces_over_signed_calls(
    repository: AgentCoreMemoryRepository, stub: tuple[str, AgentCoreState]
) -> None:
    user = "auth0|someone@example.com"
    _, state = stub
    stored = await repository.add(fact(user, subject="deploy day", source_session_id="s-1"))
    summary = await repository.add(fact(user, "Planned the deploy", kind=MemoryKind.SUMMARY, source_session_id="s-1"))

    held = state.records[MEMORY_ID]
    assert held[stored.record_id]["namespaces"] == [namespace(user, MemoryKind.FACT)]
    assert held[summary.record_id]["namespaces"] == [namespace(user, MemoryKind.SUMMARY, "s-1")]
    assert held[stored.record_id]["content"] == {"text": "My team deploys on Fridays"}
    assert stored.record_id.startswith("mem-")
    assert all(header.startswith("AWS4-HMAC-SHA256 ") for header in state.authorizations)
    assert "BatchCreateMemoryRecords" in state.operations
    assert await repository.list_records(user, [MemoryKind.SUMMARY], limit=5, session_id="s-1") == [summary]


async def test_what_agentcore_cannot_hold_in_metadata_is_left_out_not_refused(
    repository: AgentCoreMemoryRepository,
) -> None:
    user = random_user_id()
    given = fact(user, subject="s" * 200, metadata={"note": "x" * 500})

    stored = await repository.add(given)

    assert await repository.list_records(user, [MemoryKind.FACT], limit=5) == [stored]
    assert stored.content == given.content
    assert stored.subject == "s" * 192
    assert stored.metadata == {}
    kept = await repository.add(fact(user, "another", subject="é" * 100, metadata={"source": "turn"}))
    assert kept.subject == "é" * 96
    assert kept.metadata == {"source": "turn"}
    assert await repository.get(user, kept.record_id) == kept


async def test_a_user_with_more_records_than_a_page_lists_them_all(repository: AgentCoreMemoryRepository) -> None:
    user = random_user_id()
    for n in range(105):
        await repository.add(fact(user, f"fact number {n}"))

    listed = await repository.list_records(user, [MemoryKind.FACT], limit=1000)

    assert [record.content for record in listed] == [f"fact number {n}" for n in range(104, -1, -1)]


async def test_records_of_another_namespace_of_the_memory_are_not_the_users(
    repository: AgentCoreMemoryRepository, stub: tuple[str, AgentCoreState]
) -> None:
    alice = random_user_id()
    mine = await repository.add(fact(alice))
    _, state = stub
    state.records[MEMORY_ID]["mem-" + "0" * 36] = {
        **state.records[MEMORY_ID][mine.record_id],
        "memoryRecordId": "mem-" + "0" * 36,
        "namespaces": ["/strategies/semantic/actors/someone"],
    }

    assert await repository.get(alice, "mem-" + "0" * 36) is None
    assert await repository.delete(alice, "mem-" + "0" * 36) is False
    assert await repository.get(alice, "not-an-agentcore-id") is None
    assert [record.record_id for record in await repository.list_records(alice, list(MemoryKind), limit=9)] == [
        mine.record_id
    ]


async def test_agentcore_failures_are_storage_errors_never_empty_answers(
    repository: AgentCoreMemoryRepository, stub: tuple[str, AgentCoreState]
) -> None:
    user = random_user_id()
    stored = await repository.add(fact(user))
    stub[1].fail_status = 503

    with pytest.raises(StorageUnavailableError):
        await repository.list_records(user, [MemoryKind.FACT], limit=5)
    with pytest.raises(StorageUnavailableError):
        await repository.get(user, stored.record_id)
    with pytest.raises(StorageUnavailableError):
        await repository.delete(user, stored.record_id)
    with pytest.raises(StorageUnavailableError):
        await repository.add(fact(user, "another"))
    stub[1].fail_status = 429  # throttled: the SDK backs off and retries first, so one call is enough here
    with pytest.raises(StorageUnavailableError):
        await repository.list_records(user, [MemoryKind.FACT], limit=5)


async def test_an_unknown_memory_is_a_storage_error_naming_the_setting(stub: tuple[str, AgentCoreState]) -> None:
    client = agentcore_client("us-east-1", stub[0])
    try:
        missing = AgentCoreMemoryRepository(
            AgentCoreMemory(client, "otherMemory-a1B2c3D4e5"), InMemoryMemoryRepository()
        )
        with pytest.raises(StorageError) as failed:
            await missing.list_records(random_user_id(), [MemoryKind.FACT], limit=5)
    finally:
        client.close()
    assert not isinstance(failed.value, StorageUnavailableError)
    assert "AGENTCORE_MEMORY_ID" in failed.value.detail


def test_the_agentcore_backend_needs_a_memory_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMORY_BACKEND", "agentcore")
    monkeypatch.delenv("AGENTCORE_MEMORY_ID", raising=False)
    with pytest.raises(ConfigurationError, match="AGENTCORE_MEMORY_ID"):
        load_settings()
    monkeypatch.setenv("AGENTCORE_MEMORY_ID", "not an id")
    with pytest.raises(ConfigurationError, match="AGENTCORE_MEMORY_ID"):
        load_settings()
    monkeypatch.setenv("AGENTCORE_MEMORY_ID", MEMORY_ID)
    assert load_settings().memory.agentcore_memory_id == MEMORY_ID


async def test_open_memory_backend_moves_only_the_records(stub: tuple[str, AgentCoreState], tmp_path: Path) -> None:
    settings = service_settings(local_storage_settings(tmp_path))
    storage = await open_storage(settings.storage)
    assert await open_memory_backend(settings, storage) is storage
    agentcore = settings.model_copy(
        update={
            "memory": MemorySettings.model_construct(
                memory_backend=MemoryBackend.AGENTCORE,
                agentcore_memory_id=MEMORY_ID,
                agentcore_memory_endpoint_url=stub[0],
            )
        }
    )

    opened = await open_memory_backend(agentcore, storage)
    try:
        user = random_user_id()
        stored = await memory_service.remember(
            opened.memories,
            user_id=user,
            kind=MemoryKind.FACT,
            content="My team deploys on Fridays",
            subject=None,
            source_session_id=None,
            settings=agentcore.memory,
        )
        await memory_service.set_enabled_for(opened.memories, user_id=user, enabled=False)

        assert isinstance(opened.memories, AgentCoreMemoryRepository)
        assert opened.sessions is storage.sessions
        assert stored.record_id in stub[1].records[MEMORY_ID]
        assert await storage.memories.list_records(user, list(MemoryKind), limit=5) == []
        assert await storage.memories.opted_out(user) is True
    finally:
        await opened.close()


@pytest.fixture
async def agentcore_services(stub: tuple[str, AgentCoreState], tmp_path: Path) -> AsyncIterator[Services]:
    """Both services on SQLite with the records in AgentCore Memory, as the composition root opens them."""
    settings = service_settings(local_storage_settings(tmp_path))
    settings = settings.model_copy(
        update={
            "memory": MemorySettings.model_construct(
                memory_backend=MemoryBackend.AGENTCORE,
                agentcore_memory_id=MEMORY_ID,
                agentcore_memory_endpoint_url=stub[0],
            )
        }
    )
    async with open_services(settings) as services:
        storage: Storage = services.app_asgi.state.storage
        if not isinstance(storage.memories, AgentCoreMemoryRepository):
            # Until the composition root calls open_memory_backend itself, the test does it the same way.
            services.app_asgi.state.storage = await open_memory_backend(settings, storage)
        yield services


async def test_the_routes_over_agentcore(agentcore_services: Services, stub: tuple[str, AgentCoreState]) -> None:
    services = agentcore_services
    user = random_user_id()
    headers = services.auth(user)
    storage: Storage = services.app_asgi.state.storage
    stored = await memory_service.remember(
        storage.memories,
        user_id=user,
        kind=MemoryKind.FACT,
        content="My team deploys on Fridays",
        subject="deploy day",
        source_session_id=random_session_id(),
        settings=services.settings.memory,
    )

    status = (await services.app.get("/memory/status", headers=headers)).json()
    listed = (await services.app.get("/memory", headers=headers)).json()
    found = (await services.app.post("/memory/search", json={"query": "deploys"}, headers=headers)).json()
    theirs = await services.app.delete(f"/memory/{stored.record_id}", headers=services.auth(random_user_id()))
    deleted = await services.app.delete(f"/memory/{stored.record_id}", headers=headers)

    assert status["mode"] == "cloud"
    assert status["memoryId"] == MEMORY_ID
    assert [memory["recordId"] for memory in listed["facts"]["memories"]] == [stored.record_id]
    assert found["memories"][0]["relevanceScore"] == 1.0
    assert theirs.status_code == 404
    assert deleted.status_code == 200
    assert stub[1].records[MEMORY_ID] == {}
