"""A turn beyond a single answer: tools, history, costs, keep-alives, and a client that goes away."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from apis.inference_api.main import create_app
from apis.shared.auth import mint_local_token
from apis.shared.clock import now_iso
from apis.shared.config import InferenceSettings
from apis.shared.costs import period_of
from apis.shared.storage import open_storage
from tests.fixtures.services import Services, live_server, service_settings
from tests.helpers import local_storage_settings, parse_sse, random_session_id, random_user_id


async def grant_calculator(services: Services) -> dict[str, str]:
    """Headers of a user whose role grants the calculator tool."""
    admin = services.auth_as("root", roles=["admin"])
    await services.app.post(
        "/admin/roles",
        json={
            "roleId": "math_role",
            "displayName": "Math",
            "jwtRoleMappings": ["math"],
            "grantedTools": ["calculator"],
        },
        headers=admin,
    )
    return services.auth_as(random_user_id(), roles=["math"])


async def test_a_tool_turn_streams_and_stores_the_call_and_its_result(local_services: Services) -> None:
    headers = await grant_calculator(local_services)
    session_id = random_session_id()

    response = await local_services.inference.post(
        "/invocations",
        json={"session_id": session_id, "message": "Please calculate 6 * 7", "enabled_tools": ["calculator"]},
        headers=headers,
    )

    events = parse_sse(response.text)
    names = [name for name, _ in events]
    assert names.count("message_start") == 2
    tool_use = next(data["tool_use"] for name, data in events if name == "tool_use")
    tool_result = next(data["tool_result"] for name, data in events if name == "tool_result")
    assert tool_use["name"] == "calculator"
    assert tool_use["input"] == {"expression": "6 * 7"}
    assert tool_result["toolUseId"] == tool_use["tool_use_id"]
    assert tool_result["status"] == "success"
    assert tool_result["content"] == [{"text": "42"}]
    assert "42" in "".join(str(d.get("text", "")) for n, d in events if n == "content_block_delta")
    per_call = [data for name, data in events if name == "metadata"][:-1]
    final = [data for name, data in events if name == "metadata"][-1]
    assert len(per_call) == 2
    assert final["usage"]["totalTokens"] == sum(m["usage"]["totalTokens"] for m in per_call)
    assert names[-1] == "done"

    history = (await local_services.app.get(f"/sessions/{session_id}/messages", headers=headers)).json()["messages"]
    assert [(m["role"], m["content"][0]["type"]) for m in history] == [
        ("user", "text"),
        ("assistant", "toolUse"),
        ("user", "toolResult"),
        ("assistant", "text"),
    ]
    session = (await local_services.app.get(f"/sessions/{session_id}/metadata", headers=headers)).json()
    assert session["messageCount"] == 4
    assert session["preferences"]["enabledTools"] == ["calculator"]
    assert session["preferences"]["lastModel"] == "local-echo"


async def test_tools_must_be_granted_and_known(local_services: Services) -> None:
    plain = local_services.auth(random_user_id())
    admin = local_services.auth_as("root", roles=["admin"])

    refused = await local_services.inference.post(
        "/invocations",
        json={"session_id": random_session_id(), "message": "x", "enabled_tools": ["calculator"]},
        headers=plain,
    )
    unknown = await local_services.inference.post(
        "/invocations",
        json={"session_id": random_session_id(), "message": "x", "enabled_tools": ["shell"]},
        headers=admin,
    )

    assert (refused.status_code, refused.json()["code"]) == (403, "tool_not_allowed")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_tool")


async def test_the_next_turn_sees_the_history(local_services: Services) -> None:
    headers, session_id = local_services.auth(random_user_id()), random_session_id()
    for message in ("first question", "second question"):
        response = await local_services.inference.post(
            "/invocations", json={"session_id": session_id, "message": message}, headers=headers
        )

    answer = "".join(str(d.get("text", "")) for n, d in parse_sse(response.text) if n == "content_block_delta")
    assert "after 1 earlier message" in answer


async def test_each_turn_adds_to_the_monthly_cost_summary(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])
    await local_services.app.post(
        "/admin/managed-models",
        json={
            "modelId": "local-paid",
            "modelName": "Paid",
            "provider": "local",
            "inputPricePerMillionTokens": 1000,
            "outputPricePerMillionTokens": 2000,
        },
        headers=admin,
    )
    user = random_user_id()
    costs = []
    for _ in range(2):
        response = await local_services.inference.post(
            "/invocations",
            json={"session_id": random_session_id(), "message": "hi", "model_id": "local-paid"},
            headers=local_services.auth(user),
        )
        costs.append(parse_sse(response.text)[-2][1]["cost"])

    storage = local_services.inference_asgi.state.storage
    summary = await storage.costs.get_summary(user, period_of(now_iso()))
    assert summary.total_requests == 2
    assert summary.total_cost == sum(costs) > 0
    assert [m.model_id for m in summary.models] == ["local-paid"]


def slow_settings(tmp_path: Path, **inference: Any) -> Any:
    return service_settings(local_storage_settings(tmp_path)).model_copy(
        update={"inference": InferenceSettings(**inference)}
    )


def test_keep_alive_comments_flow_while_the_model_is_slow(tmp_path: Path) -> None:
    # The route stops waiting for the model's first output after 0.1 s and opens the stream; the model's
    # first words come at 0.6 s; meanwhile the client gets a comment every 0.2 s.
    settings = slow_settings(
        tmp_path,
        local_provider_delta_delay_ms=600,
        local_provider_delta_words=100,
        keepalive_seconds=0.2,
        provider_first_event_wait_seconds=0.1,
    )
    token = mint_local_token(settings=settings.auth, data_dir=tmp_path, user_id="patient")
    with live_server(lambda: create_app(settings)) as base_url:
        response = httpx.post(
            f"{base_url}/invocations",
            json={"session_id": random_session_id(), "message": "take your time"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    assert ": keep-alive" in response.text
    assert parse_sse(response.text)[-1][0] == "done"


def test_a_client_that_goes_away_leaves_an_interrupted_message(tmp_path: Path) -> None:
    settings = slow_settings(tmp_path, local_provider_delta_delay_ms=300, local_provider_delta_words=2)
    token = mint_local_token(settings=settings.auth, data_dir=tmp_path, user_id="impatient")
    session_id = random_session_id()
    with live_server(lambda: create_app(settings)) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        with client.stream(
            "POST",
            "/invocations",
            json={"session_id": session_id, "message": "tell me a long story"},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            for line in response.iter_lines():
                if line.startswith("event: content_block_delta"):
                    break  # leave after the first words
        messages = asyncio.run(stored_answer(settings, "impatient", session_id))

    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].status == "interrupted"
    assert messages[1].content[0]["text"].startswith("[local offline")
    assert len(messages[1].content[0]["text"]) < 60, "only the words streamed before the client left"


async def stored_answer(settings: Any, user_id: str, session_id: str) -> list[Any]:
    """The session's messages once the answer is stored (the turn stores it as soon as it notices)."""
    storage = await open_storage(settings.storage)
    try:
        for _ in range(100):
            messages = await storage.sessions.list_recent_messages(user_id, session_id, limit=10)
            if len(messages) >= 2:
                return messages
            await asyncio.sleep(0.05)
    finally:
        await storage.close()
    raise AssertionError("the interrupted answer was never stored")
