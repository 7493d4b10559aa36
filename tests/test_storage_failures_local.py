"""The embedded backend failing under the services: locked by another process, or unreadable at start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.app_api.main import create_app
from apis.shared.errors import StorageError
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings, parse_sse, random_session_id, random_user_id
from tests.storage_locks import write_locked


@pytest.fixture
async def impatient_services(tmp_path: Path) -> AsyncIterator[Services]:
    """Services whose SQLite busy timeout is short, so a held lock fails fast."""
    settings = service_settings(local_storage_settings(tmp_path, sqlite_busy_timeout_ms=50))
    async with open_services(settings) as opened:
        yield opened


async def test_writes_under_a_held_lock_are_503_and_change_nothing(impatient_services: Services) -> None:
    services = impatient_services
    user, session_id = random_user_id(), random_session_id()
    headers = services.auth(user)
    created = await services.app.put(f"/sessions/{session_id}/metadata", json={"title": "Kept"}, headers=headers)
    database = services.settings.storage.sqlite_path

    with write_locked(database):
        responses = [
            await services.app.put(f"/sessions/{session_id}/metadata", json={"title": "Lost"}, headers=headers),
            await services.app.delete(f"/sessions/{session_id}", headers=headers),
            await services.app.post("/sessions/bulk-delete", json={"sessionIds": [session_id]}, headers=headers),
            await services.inference.post(
                "/invocations", json={"session_id": session_id, "message": "hi"}, headers=headers
            ),
            await services.inference.post(
                "/invocations", json={"session_id": random_session_id(), "message": "new"}, headers=headers
            ),
        ]
        # WAL: readers are never blocked by a writer, so reading goes on while writes wait.
        listed = await services.app.get("/sessions", headers=headers)

    assert [r.status_code for r in responses] == [503] * 5
    assert all(r.headers["retry-after"] == "2" for r in responses)
    assert {r.json()["code"] for r in responses} == {"storage_unavailable"}
    assert listed.status_code == 200
    after = await services.app.get("/sessions", headers=headers)
    assert after.json()["sessions"] == [created.json()]
    history = await services.app.get(f"/sessions/{session_id}/messages", headers=headers)
    assert history.json()["messages"] == []


async def test_the_service_recovers_once_the_lock_is_gone(impatient_services: Services) -> None:
    services = impatient_services
    user, session_id = random_user_id(), random_session_id()
    with write_locked(services.settings.storage.sqlite_path):
        refused = await services.inference.post(
            "/invocations", json={"session_id": session_id, "message": "hi"}, headers=services.auth(user)
        )

    accepted = await services.inference.post(
        "/invocations", json={"session_id": session_id, "message": "hi"}, headers=services.auth(user)
    )

    assert refused.status_code == 503
    assert parse_sse(accepted.text)[-1][0] == "done"
    session = await services.app.get(f"/sessions/{session_id}/metadata", headers=services.auth(user))
    assert session.json()["messageCount"] == 2


async def test_health_is_degraded_while_writes_fail_and_recovers_after_a_write(impatient_services: Services) -> None:
    services = impatient_services
    headers, session_id = services.auth(random_user_id()), random_session_id()
    assert (await services.app.get("/health")).status_code == 200

    with write_locked(services.settings.storage.sqlite_path):
        refused = await services.app.put(f"/sessions/{session_id}/metadata", json={"title": "x"}, headers=headers)
        during = await services.app.get("/health")
    after_the_lock = await services.app.get("/health")
    written = await services.app.put(f"/sessions/{session_id}/metadata", json={"title": "x"}, headers=headers)
    recovered = await services.app.get("/health")

    assert refused.status_code == 503
    assert during.status_code == 503
    assert during.json()["status"] == "degraded"
    assert during.json()["checks"]["storage"] == "ok", "reads still work"
    assert during.json()["checks"]["storageWrites"].startswith("failing: SQLITE_BUSY")
    assert after_the_lock.json()["status"] == "degraded", "nothing has been written since the failure"
    assert written.status_code == 200
    assert recovered.status_code == 200
    assert recovered.json()["checks"] == {"storage": "ok", "storageWrites": "ok"}


async def test_an_unreadable_database_stops_the_service_at_start(tmp_path: Path) -> None:
    (tmp_path / "colloquy.sqlite3").write_bytes(b"this is not a database, just bytes " * 200)
    app = create_app(service_settings(local_storage_settings(tmp_path)))

    with pytest.raises(StorageError):
        async with app.router.lifespan_context(app):
            pass


async def test_assistant_writes_under_a_held_lock_are_503_and_a_retry_finishes(impatient_services: Services) -> None:
    services = impatient_services
    headers = services.auth(random_user_id())
    body = {"name": "Kept", "visibility": "SHARED"}
    assistant_id = (await services.app.post("/assistants", json=body, headers=headers)).json()["assistantId"]
    path = f"/assistants/{assistant_id}"
    await services.app.post(f"{path}/shares", json={"emails": ["friend@example.edu"]}, headers=headers)

    with write_locked(services.settings.storage.sqlite_path):
        responses = [
            await services.app.put(path, json={"name": "Lost"}, headers=headers),
            await services.app.delete(path, headers=headers),
            await services.app.post(f"{path}/shares", json={"emails": ["other@example.edu"]}, headers=headers),
        ]
        read = await services.app.get(path, headers=headers)
    retried = await services.app.delete(path, headers=headers)

    assert [r.status_code for r in responses] == [503, 503, 503]
    assert all("retry-after" in r.headers for r in responses)
    assert read.json()["name"] == "Kept"
    assert retried.status_code == 204
    assert (await services.app.get(path, headers=headers)).status_code == 404
