"""Session titles: POST /chat/generate-title, and the automatic title after a new session's first turn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.clock import now_iso
from apis.shared.config import InferenceSettings, ProviderSettings
from apis.shared.observability import SUPPRESSED_ERRORS
from tests.fakes.openai_server import FakeOpenAIState
from tests.fakes.scripts import Fail, Text, Usage
from tests.fakes.server import RunningFake
from tests.fixtures.services import Services, eventually_titled, open_services, service_settings, title_of
from tests.helpers import local_storage_settings, random_session_id, random_user_id


async def test_a_new_session_is_named_after_its_first_turn(local_services: Services) -> None:
    headers, session_id = local_services.auth(random_user_id()), random_session_id()

    await local_services.inference.post(
        "/invocations",
        json={"session_id": session_id, "message": "Plan a three day trip to Lisbon in May"},
        headers=headers,
    )

    assert await eventually_titled(local_services, session_id, headers) == "Plan a three day trip to Lisbon in"


@pytest.fixture
async def slow_local_services(tmp_path: Path) -> AsyncIterator[Services]:
    """Services whose offline model streams a word every 50 ms: a turn lasts long enough to be read mid-way."""
    settings = service_settings(local_storage_settings(tmp_path)).model_copy(
        update={"inference": InferenceSettings(local_provider_delta_words=1, local_provider_delta_delay_ms=50)}
    )
    async with open_services(settings) as services:
        yield services


async def test_with_the_offline_title_model_a_new_session_is_stored_named(slow_local_services: Services) -> None:
    """Its title needs no model call, so it is written with the session: named from the first moment anyone can
    read it, while its first answer still streams and before any work after the turn has run."""
    services = slow_local_services
    headers, session_id = services.auth(random_user_id()), random_session_id()
    body = {"session_id": session_id, "message": "Plan a three day trip to Lisbon in May"}
    turn = asyncio.create_task(services.inference.post("/invocations", json=body, headers=headers))
    for _ in range(500):  # the session appears once the turn stored its first message
        read = await services.app.get(f"/sessions/{session_id}/metadata", headers=headers)
        if read.status_code != 404:
            break
        await asyncio.sleep(0.01)
    still_streaming = not turn.done()

    assert (await turn).status_code == 200
    assert still_streaming
    assert read.json()["title"] == "Plan a three day trip to Lisbon in"


async def test_a_session_named_by_its_user_keeps_its_name(local_services: Services) -> None:
    headers, session_id = local_services.auth(random_user_id()), random_session_id()
    await local_services.app.put(f"/sessions/{session_id}/metadata", json={"title": "Mine"}, headers=headers)

    await local_services.inference.post(
        "/invocations", json={"session_id": session_id, "message": "hello"}, headers=headers
    )
    await asyncio.sleep(0.1)

    assert await title_of(local_services, session_id, headers) == "Mine"


async def test_generate_title_names_and_stores(local_services: Services) -> None:
    headers, session_id = local_services.auth(random_user_id()), random_session_id()
    await local_services.app.put(f"/sessions/{session_id}/metadata", json={}, headers=headers)

    response = await local_services.app.post(
        "/chat/generate-title",
        json={"session_id": session_id, "input": "Why is the sky blue at noon?"},
        headers=headers,
    )

    assert response.json() == {"title": "Why is the sky blue at noon", "sessionId": session_id}
    assert await title_of(local_services, session_id, headers) == "Why is the sky blue at noon"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"session_id": "someone-elses", "input": "x"}, 404),
        ({"session_id": "s1", "input": ""}, 422),
        ({"input": "x"}, 422),
    ],
)
async def test_generate_title_refuses_bad_requests(local_services: Services, body: dict[str, str], status: int) -> None:
    owner = local_services.auth(random_user_id())
    await local_services.app.put("/sessions/someone-elses/metadata", json={}, headers=owner)

    response = await local_services.app.post(
        "/chat/generate-title", json=body, headers=local_services.auth(random_user_id())
    )

    assert response.status_code == status


@pytest.fixture
async def openai_titles(
    tmp_path: Path, no_provider_environment: None, openai_fake: RunningFake[FakeOpenAIState]
) -> AsyncIterator[Services]:
    """Services whose titles come from a model on the OpenAI fake."""
    settings = service_settings(local_storage_settings(tmp_path)).model_copy(
        update={
            "providers": ProviderSettings.model_construct(openai_api_key="sk-t", openai_base_url=openai_fake.url),
            "inference": InferenceSettings(title_model_id="gpt-titles"),
        }
    )
    async with open_services(settings) as services:
        body = {"modelId": "gpt-titles", "modelName": "Titles", "provider": "openai"}
        await services.app.post("/admin/managed-models", json=body, headers=services.auth_as("root", roles=["admin"]))
        yield services


async def test_titles_come_from_the_title_model(
    openai_titles: Services, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    openai_fake.state.script.add(Text('"Sky colour'), Text(' explained"\n'))
    headers, session_id = openai_titles.auth(random_user_id()), random_session_id()
    await openai_titles.app.put(f"/sessions/{session_id}/metadata", json={}, headers=headers)

    response = await openai_titles.app.post(
        "/chat/generate-title", json={"session_id": session_id, "input": "Why is the sky blue?"}, headers=headers
    )

    assert response.json()["title"] == "Sky colour explained"
    assert "Why is the sky blue?" in str(openai_fake.state.chat_calls[0].body)


async def test_a_provider_failure_is_502_and_keeps_the_old_title(
    openai_titles: Services, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    openai_fake.state.script.add(Fail(status=500))
    headers, session_id = openai_titles.auth(random_user_id()), random_session_id()
    await openai_titles.app.put(f"/sessions/{session_id}/metadata", json={"title": "Old title"}, headers=headers)

    response = await openai_titles.app.post(
        "/chat/generate-title", json={"session_id": session_id, "input": "anything"}, headers=headers
    )

    assert response.status_code == 502
    assert await title_of(openai_titles, session_id, headers) == "Old title"


async def test_a_failed_automatic_title_is_counted_and_the_turn_unharmed(
    openai_titles: Services, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    openai_fake.state.script.add(Fail(status=500))  # the title call; the turn itself runs on the local model
    before = SUPPRESSED_ERRORS.labels(where="sessions.auto_title")._value.get()
    headers, session_id = openai_titles.auth(random_user_id()), random_session_id()

    turn = await openai_titles.inference.post(
        "/invocations", json={"session_id": session_id, "message": "hi"}, headers=headers
    )
    for _ in range(100):
        if SUPPRESSED_ERRORS.labels(where="sessions.auto_title")._value.get() > before:
            break
        await asyncio.sleep(0.02)

    assert turn.status_code == 200
    assert SUPPRESSED_ERRORS.labels(where="sessions.auto_title")._value.get() == before + 1
    assert await title_of(openai_titles, session_id, headers) == "New conversation"


async def test_a_title_call_is_metered_for_the_user_it_names_a_conversation_for(
    openai_titles: Services, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    prices = {"inputPricePerMillionTokens": 2.0, "outputPricePerMillionTokens": 8.0}
    admin = openai_titles.auth_as("root", roles=["admin"])
    model = (await openai_titles.app.get("/admin/managed-models", headers=admin)).json()
    [titles_model] = [m for m in model["models"] if m["modelId"] == "gpt-titles"]
    await openai_titles.app.put(f"/admin/managed-models/{titles_model['id']}", json=prices, headers=admin)
    openai_fake.state.script.add(Text("Sky colour"), Usage(input_tokens=1000, output_tokens=100))
    user, session_id = random_user_id(), random_session_id()
    headers = openai_titles.auth(user)
    await openai_titles.app.put(f"/sessions/{session_id}/metadata", json={}, headers=headers)

    response = await openai_titles.app.post(
        "/chat/generate-title", json={"session_id": session_id, "input": "Why is the sky blue?"}, headers=headers
    )
    costs = openai_titles.app_asgi.state.storage.costs
    summary = await costs.get_summary(user, now_iso()[:7])

    assert response.status_code == 200
    assert summary.total_requests == 1
    assert summary.input_tokens == 1000
    assert summary.total_cost == pytest.approx((1000 * 2.0 + 100 * 8.0) / 1_000_000)
    assert [m.model_id for m in summary.models] == ["gpt-titles"]
