"""TURN_RATE_LIMIT_PER_MINUTE through HTTP: a turn over the limit is a stream's error event with Retry-After;
the app's model-calling JSON routes answer 429."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.config import InferenceSettings
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings, parse_sse, random_session_id, random_user_id


@pytest.fixture
async def limited_services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = service_settings(local_storage_settings(tmp_path)).model_copy(
        update={"inference": InferenceSettings(turn_rate_limit_per_minute=2)}
    )
    async with open_services(settings) as opened:
        yield opened


async def test_a_turn_over_the_limit_is_refused_in_the_stream_and_stores_nothing(limited_services: Services) -> None:
    services = limited_services
    user, other = random_user_id(), random_user_id()
    sessions = [random_session_id() for _ in range(3)]
    responses = [
        await services.inference.post(
            "/invocations", json={"session_id": session, "message": "hi"}, headers=services.auth(user)
        )
        for session in sessions
    ]
    someone_else = await services.inference.post(
        "/invocations", json={"session_id": random_session_id(), "message": "hi"}, headers=services.auth(other)
    )
    refused_session = await services.app.get(f"/sessions/{sessions[2]}/metadata", headers=services.auth(user))

    assert [r.status_code for r in responses] == [200, 200, 200]
    events = parse_sse(responses[2].text)
    assert [name for name, _ in events] == ["stream_error", "done"]
    assert events[0][1]["code"] == "rate_limited"
    assert events[0][1]["recoverable"] is True
    assert 1 <= int(responses[2].headers["retry-after"]) <= 60
    assert "message_start" in responses[0].text
    assert someone_else.status_code == 200
    assert "message_start" in someone_else.text
    assert refused_session.status_code == 404


async def test_the_apps_model_routes_answer_429_over_the_limit(limited_services: Services) -> None:
    services = limited_services
    user = random_user_id()
    session = random_session_id()
    await services.app.put(f"/sessions/{session}/metadata", json={"title": "x"}, headers=services.auth(user))
    body = {"session_id": session, "input": "Plan a trip to Lisbon"}
    answers = [
        await services.app.post("/chat/generate-title", json=body, headers=services.auth(user)) for _ in range(3)
    ]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["code"] == "rate_limited"
    assert 1 <= int(answers[2].headers["retry-after"]) <= 60
