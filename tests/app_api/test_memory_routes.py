"""The memory routes through HTTP on both backends: the reference's shapes, owner-only access (another user's record,
session or namespace is 404), validation (422), the per-user switch, a deployment without memory (503 but the
status), and storage failures (503 with Retry-After, never an empty list)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from apis.shared.config import MemorySettings, StorageBackend
from apis.shared.memory import MemoryKind, MemoryRecord
from apis.shared.memory import service as memory_service
from apis.shared.storage import Storage
from tests.fixtures.moto import SerializedMotoServer
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings, random_session_id, random_user_id
from tests.storage_locks import write_locked

RECORD_FIELDS = {"recordId", "content", "namespace", "createdAt", "updatedAt", "kind"}


async def remember(
    services: Services,
    user_id: str,
    content: str,
    *,
    kind: MemoryKind = MemoryKind.FACT,
    subject: str | None = None,
    session_id: str | None = None,
) -> MemoryRecord:
    """A record as the turn's extraction stores it: through the domain, on the services' own store."""
    storage: Storage = services.app_asgi.state.storage
    return await memory_service.remember(
        storage.memories,
        user_id=user_id,
        kind=kind,
        content=content,
        subject=subject,
        source_session_id=session_id,
        settings=services.settings.memory,
    )


async def ok(services: Services, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
    response = await services.app.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


async def test_all_memories_lists_the_callers_preferences_and_facts_newest_first(services: Services) -> None:
    user = random_user_id()
    headers = services.auth(user)
    older = await remember(services, user, "My team deploys on Fridays", subject="deploy day")
    newer = await remember(services, user, "Works on the billing service")
    preference = await remember(services, user, "Prefers answers in French", kind=MemoryKind.PREFERENCE)
    await remember(services, user, "Talked about deploys", kind=MemoryKind.SUMMARY, session_id=random_session_id())
    await remember(services, random_user_id(), "Someone else's fact")

    body = await ok(services, "GET", "/memory?topK=20", headers)

    assert set(body) == {"preferences", "facts"}
    facts = body["facts"]
    assert facts["namespace"] == f"/facts/{user}"
    assert facts["totalCount"] == 2
    assert [memory["recordId"] for memory in facts["memories"]] == [newer.record_id, older.record_id]
    first = facts["memories"][1]
    assert set(first) == RECORD_FIELDS | {"subject"}
    assert first == {
        "recordId": older.record_id,
        "content": "My team deploys on Fridays",
        "namespace": f"/facts/{user}",
        "createdAt": older.created_at,
        "updatedAt": older.updated_at,
        "kind": "fact",
        "subject": "deploy day",
    }
    assert body["preferences"] == {
        "memories": [
            {
                "recordId": preference.record_id,
                "content": "Prefers answers in French",
                "namespace": f"/preferences/{user}",
                "createdAt": preference.created_at,
                "updatedAt": preference.updated_at,
                "kind": "preference",
            }
        ],
        "namespace": f"/preferences/{user}",
        "totalCount": 1,
    }


async def test_top_k_bounds_each_list(services: Services) -> None:
    user = random_user_id()
    for n in range(4):
        await remember(services, user, f"fact number {n}")

    body = await ok(services, "GET", "/memory?topK=3", services.auth(user))
    facts = await ok(services, "GET", "/memory/facts?topK=2", services.auth(user))

    assert [memory["content"] for memory in body["facts"]["memories"]] == [f"fact number {n}" for n in (3, 2, 1)]
    assert facts["totalCount"] == 2
    assert "query" not in facts


async def test_preferences_and_facts_rank_by_a_query_with_scores(services: Services) -> None:
    user = random_user_id()
    headers = services.auth(user)
    await remember(services, user, "My team deploys on Fridays")
    await remember(services, user, "Allergic to peanuts")
    await remember(services, user, "Prefers deploy checklists as tables", kind=MemoryKind.PREFERENCE)
    await remember(services, user, "Prefers metric units", kind=MemoryKind.PREFERENCE)

    facts = await ok(services, "GET", "/memory/facts", headers, params={"query": "when do we deploy", "topK": 5})
    preferences = await ok(services, "GET", "/memory/preferences", headers, params={"query": "deploy checklist"})

    assert facts["query"] == "when do we deploy"
    assert [memory["content"] for memory in facts["memories"]] == ["My team deploys on Fridays"]
    assert facts["memories"][0]["relevanceScore"] == 1.0
    assert preferences["namespace"] == f"/preferences/{user}"
    assert [memory["content"] for memory in preferences["memories"]] == ["Prefers deploy checklists as tables"]
    assert 0 < preferences["memories"][0]["relevanceScore"] <= 1


async def test_search_defaults_to_the_callers_facts_and_takes_their_own_namespaces(services: Services) -> None:
    user = random_user_id()
    headers = services.auth(user)
    session = random_session_id()
    await remember(services, user, "My team deploys on Fridays")
    await remember(services, user, "Prefers deploys announced in Slack", kind=MemoryKind.PREFERENCE)
    await remember(services, user, "Planned the Friday deploy", kind=MemoryKind.SUMMARY, session_id=session)
    await remember(services, random_user_id(), "Their team deploys daily")

    default = await ok(services, "POST", "/memory/search", headers, json={"query": "deploys", "topK": 20})
    preferences = await ok(
        services, "POST", "/memory/search", headers, json={"query": "deploys", "namespace": f"/preferences/{user}"}
    )
    short_form = await ok(
        services, "POST", "/memory/search", headers, json={"query": "deploys", "namespace": "preferences"}
    )
    summaries = await ok(
        services,
        "POST",
        "/memory/search",
        headers,
        json={"query": "deploy", "namespace": f"/summaries/{user}/{session}"},
    )

    assert default["namespace"] == f"/facts/{user}"
    assert default["query"] == "deploys"
    assert [memory["content"] for memory in default["memories"]] == ["My team deploys on Fridays"]
    assert [memory["content"] for memory in preferences["memories"]] == ["Prefers deploys announced in Slack"]
    assert short_form == preferences
    assert summaries["namespace"] == f"/summaries/{user}/{session}"
    assert [memory["content"] for memory in summaries["memories"]] == ["Planned the Friday deploy"]
    assert summaries["memories"][0]["sourceSessionId"] == session


async def test_another_users_namespace_is_404_and_a_made_up_one_422(services: Services) -> None:
    alice, bob = random_user_id(), random_user_id()
    await remember(services, bob, "Bob's team deploys on Mondays")

    stolen = await services.app.post(
        "/memory/search", json={"query": "deploys", "namespace": f"/facts/{bob}"}, headers=services.auth(alice)
    )
    made_up = await services.app.post(
        "/memory/search", json={"query": "deploys", "namespace": "/diary/x"}, headers=services.auth(alice)
    )

    assert stolen.status_code == 404
    assert stolen.json()["code"] == "memory_namespace_not_found"
    assert "Mondays" not in stolen.text
    assert made_up.status_code == 422
    assert made_up.json()["code"] == "validation_error"
    assert made_up.json()["errors"][0]["loc"] == ["body", "namespace"]


async def test_a_sessions_summaries_are_its_owners_only(services: Services) -> None:
    alice, bob = random_user_id(), random_user_id()
    session = random_session_id()
    created = await services.app.put(
        f"/sessions/{session}/metadata", json={"title": "Deploys"}, headers=services.auth(alice)
    )
    assert created.status_code == 200, created.text
    summary = await remember(services, alice, "Planned the Friday deploy", kind=MemoryKind.SUMMARY, session_id=session)
    await remember(services, alice, "Talked about lunch", kind=MemoryKind.SUMMARY, session_id=random_session_id())

    mine = await ok(services, "GET", f"/memory/summaries/{session}", services.auth(alice))
    searched = await ok(services, "GET", f"/memory/summaries/{session}?query=lunch", services.auth(alice))
    theirs = await services.app.get(f"/memory/summaries/{session}", headers=services.auth(bob))
    unknown = await services.app.get(f"/memory/summaries/{random_session_id()}", headers=services.auth(alice))

    assert mine["namespace"] == f"/summaries/{alice}/{session}"
    assert [memory["recordId"] for memory in mine["memories"]] == [summary.record_id]
    assert mine["memories"][0]["namespace"] == f"/summaries/{alice}/{session}"
    assert searched["memories"] == []
    assert theirs.status_code == 404
    assert theirs.json()["code"] == "session_not_found"
    assert unknown.status_code == 404


async def test_delete_removes_the_callers_record_and_another_users_is_404(services: Services) -> None:
    alice, bob = random_user_id(), random_user_id()
    record = await remember(services, alice, "My team deploys on Fridays")

    theirs = await services.app.delete(f"/memory/{record.record_id}", headers=services.auth(bob))
    assert theirs.status_code == 404
    assert theirs.json()["code"] == "memory_not_found"
    assert (await ok(services, "GET", "/memory", services.auth(alice)))["facts"]["totalCount"] == 1

    deleted = await ok(services, "DELETE", f"/memory/{record.record_id}", services.auth(alice))
    again = await services.app.delete(f"/memory/{record.record_id}", headers=services.auth(alice))

    assert deleted == {"deletedCount": 1, "message": f"Successfully deleted memory {record.record_id}"}
    assert again.status_code == 404
    assert (await ok(services, "GET", "/memory", services.auth(alice)))["facts"]["memories"] == []
    assert (
        await memory_service.search(
            services.app_asgi.state.storage.memories, user_id=alice, kinds=[MemoryKind.FACT], query="deploys", top_k=5
        )
        == []
    )


async def test_status_and_strategies_describe_this_deployment(services: Services) -> None:
    headers = services.auth(random_user_id())
    backend = services.settings.storage.storage_backend

    status = await ok(services, "GET", "/memory/status", headers)
    strategies = await ok(services, "GET", "/memory/strategies", headers)

    assert status["status"] == "available"
    assert status["available"] is True
    assert status["mode"] == ("cloud" if backend is StorageBackend.DYNAMODB else "local")
    assert status["memoryId"] == f"colloquy-{backend.value}"
    assert status["namespaces"] == {
        "preferences": "/preferences/{userId}",
        "facts": "/facts/{userId}",
        "summaries": "/summaries/{userId}/{sessionId}",
    }
    assert ("region" in status) is (backend is StorageBackend.DYNAMODB)
    assert strategies["memoryId"] == f"colloquy-{backend.value}"
    by_type = {strategy["strategyType"]: strategy for strategy in strategies["strategies"]}
    assert set(by_type) == {"user_preference", "semantic", "summary"}
    assert by_type["user_preference"]["namespace"] == "/preferences/{userId}"
    assert by_type["semantic"]["namespace"] == "/facts/{userId}"
    assert by_type["summary"]["namespace"] == "/summaries/{userId}/{sessionId}"
    assert by_type["user_preference"]["config"]["recallTopK"] == 5
    assert by_type["user_preference"]["config"]["recallMinScore"] == 0.5
    assert by_type["semantic"]["config"]["recallTopK"] == 10
    assert by_type["semantic"]["config"]["recallMinScore"] == 0.3
    assert {strategy["status"] for strategy in strategies["strategies"]} == {"ACTIVE"}


async def test_each_user_switches_memory_off_and_on_for_themselves(services: Services) -> None:
    alice, bob = random_user_id(), random_user_id()
    storage: Storage = services.app_asgi.state.storage
    assert await ok(services, "GET", "/memory/settings", services.auth(alice)) == {"enabled": True}

    assert await ok(services, "PUT", "/memory/settings", services.auth(alice), json={"enabled": False}) == {
        "enabled": False
    }

    assert await ok(services, "GET", "/memory/settings", services.auth(alice)) == {"enabled": False}
    assert await ok(services, "GET", "/memory/settings", services.auth(bob)) == {"enabled": True}
    memory = services.settings.memory
    assert await memory_service.enabled_for(storage.memories, user_id=alice, settings=memory) is False
    assert await memory_service.enabled_for(storage.memories, user_id=bob, settings=memory) is True
    await ok(services, "PUT", "/memory/settings", services.auth(alice), json={"enabled": True})
    assert await memory_service.enabled_for(storage.memories, user_id=alice, settings=memory) is True


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/memory?topK=0", None),
        ("GET", "/memory?topK=51", None),
        ("GET", "/memory/facts?topK=x", None),
        ("GET", "/memory/preferences?topK=100", None),
        ("GET", "/memory/summaries/bad%20id", None),
        ("POST", "/memory/search", {}),
        ("POST", "/memory/search", {"query": ""}),
        ("POST", "/memory/search", {"query": "   "}),
        ("POST", "/memory/search", {"query": "x", "topK": 0}),
        ("POST", "/memory/search", {"query": "x", "unknown": 1}),
        ("PUT", "/memory/settings", {"enabled": "maybe"}),
        ("PUT", "/memory/settings", {}),
        ("DELETE", "/memory/" + "x" * 300, None),
    ],
)
async def test_malformed_requests_are_422(services: Services, method: str, path: str, body: Any) -> None:
    response = await services.app.request(method, path, json=body, headers=services.auth(random_user_id()))

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


MEMORY_ROUTES = [
    ("GET", "/memory/status"),
    ("GET", "/memory"),
    ("GET", "/memory/preferences"),
    ("GET", "/memory/facts"),
    ("GET", "/memory/summaries/s1"),
    ("POST", "/memory/search"),
    ("GET", "/memory/strategies"),
    ("GET", "/memory/settings"),
    ("PUT", "/memory/settings"),
    ("DELETE", "/memory/r1"),
]


@pytest.mark.parametrize(("method", "path"), MEMORY_ROUTES)
async def test_every_memory_route_needs_a_token(services: Services, method: str, path: str) -> None:
    anonymous = await services.app.request(method, path)
    forged = await services.app.request(method, path, headers={"Authorization": "Bearer forged.token.here"})

    assert anonymous.status_code == 401
    assert forged.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")


@pytest.fixture
async def without_memory(tmp_path: Path) -> AsyncIterator[Services]:
    """Both services on SQLite in a deployment with MEMORY_ENABLED=false."""
    settings = service_settings(local_storage_settings(tmp_path))
    settings = settings.model_copy(update={"memory": MemorySettings.model_construct(memory_enabled=False)})
    async with open_services(settings) as services:
        yield services


async def test_a_deployment_without_memory_says_so_and_refuses_the_rest(without_memory: Services) -> None:
    headers = without_memory.auth(random_user_id())

    status = await without_memory.app.get("/memory/status", headers=headers)
    refused = [
        await without_memory.app.request(method, path, headers=headers, json={"query": "x", "enabled": True})
        for method, path in MEMORY_ROUTES[1:]
    ]
    anonymous = await without_memory.app.get("/memory")

    assert status.status_code == 200
    assert status.json() == {"status": "unavailable", "available": False, "mode": "local"}
    assert [response.status_code for response in refused] == [503] * len(refused)
    assert {response.json()["code"] for response in refused} == {"memory_unavailable"}
    assert "MEMORY_ENABLED" in refused[0].json()["detail"]
    assert anonymous.status_code == 401


@pytest.mark.dynamodb
async def test_every_memory_route_is_503_when_dynamodb_goes_away(
    services_on_own_moto: tuple[Services, SerializedMotoServer],
) -> None:
    services, server = services_on_own_moto
    user = random_user_id()
    headers = services.auth(user)
    record = await remember(services, user, "My team deploys on Fridays")
    assert (await services.app.get("/memory", headers=headers)).status_code == 200

    server.stop()
    responses = [
        await services.app.get("/memory", headers=headers),
        await services.app.get("/memory/preferences", headers=headers),
        await services.app.get("/memory/facts?query=deploys", headers=headers),
        await services.app.get(f"/memory/summaries/{random_session_id()}", headers=headers),
        await services.app.post("/memory/search", json={"query": "deploys"}, headers=headers),
        await services.app.get("/memory/settings", headers=headers),
        await services.app.put("/memory/settings", json={"enabled": False}, headers=headers),
        await services.app.delete(f"/memory/{record.record_id}", headers=headers),
    ]

    assert [response.status_code for response in responses] == [503] * len(responses)
    assert all(response.headers["retry-after"] for response in responses)
    assert {response.json()["code"] for response in responses} == {"storage_unavailable"}


async def test_memory_writes_under_a_held_lock_are_503_and_change_nothing(tmp_path: Path) -> None:
    settings = service_settings(local_storage_settings(tmp_path, sqlite_busy_timeout_ms=50))
    async with open_services(settings) as services:
        user = random_user_id()
        headers = services.auth(user)
        record = await remember(services, user, "My team deploys on Fridays")
        with write_locked(settings.storage.sqlite_path):
            responses = [
                await services.app.delete(f"/memory/{record.record_id}", headers=headers),
                await services.app.put("/memory/settings", json={"enabled": False}, headers=headers),
            ]
        after = await ok(services, "GET", "/memory", headers)
        switch = await ok(services, "GET", "/memory/settings", headers)

    assert [response.status_code for response in responses] == [503, 503]
    assert all(response.headers["retry-after"] for response in responses)
    assert [memory["recordId"] for memory in after["facts"]["memories"]] == [record.record_id]
    assert switch == {"enabled": True}
