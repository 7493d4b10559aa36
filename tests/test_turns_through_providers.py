"""Chat turns through each cloud provider's real SDK (via Strands) against its fake on loopback.

The same scripted conversation runs on OpenAI, Bedrock and Gemini: the events of API.md stream, every
message is stored with usage and cost, a tool call stores the call and its result, and failures before and
after the first byte are told apart.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.scripts import Fail, MaxTokens, Reasoning, StreamError, Text, ToolCall, Usage
from tests.fakes.server import FakeProviderState
from tests.fixtures.providers import MODEL_IDS, PROVIDERS
from tests.fixtures.services import Services
from tests.helpers import parse_sse, random_session_id, random_user_id


async def turn(services: Services, headers: dict[str, str], provider: str, **body: Any) -> tuple[Any, str]:
    session_id = random_session_id()
    response = await services.inference.post(
        "/invocations",
        json={"session_id": session_id, "message": "Hello there", "model_id": MODEL_IDS[provider], **body},
        headers=headers,
    )
    return response, session_id


def text_of(events: list[tuple[str, dict[str, Any]]]) -> str:
    return "".join(str(data.get("text", "")) for name, data in events if name == "content_block_delta")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_text_turn_streams_and_is_stored_with_usage_and_cost(
    cloud: tuple[Services, dict[str, FakeProviderState]], provider: str
) -> None:
    services, fakes = cloud
    fakes[provider].script.add(Text("Hello"), Text(", "), Text("Ada."), Usage(input_tokens=120, output_tokens=30))
    headers = services.auth(random_user_id())

    response, session_id = await turn(services, headers, provider, temperature=0.3, max_tokens=200)

    assert response.status_code == 200, response.text
    events = parse_sse(response.text)
    names = [name for name, _ in events]
    assert names[0] == "message_start"
    assert names[-5:] == ["content_block_stop", "message_stop", "metadata", "metadata", "done"]
    assert text_of(events) == "Hello, Ada."
    final = events[-2][1]
    expected_cost = (120 * 3.0 + 30 * 15.0) / 1_000_000
    assert final["usage"]["inputTokens"] == 120
    assert final["usage"]["outputTokens"] == 30
    assert final["cost"] == pytest.approx(expected_cost)
    [call] = fakes[provider].chat_calls
    assert "Hello there" in str(call.body)
    assert "0.3" in str(call.body)

    history = (await services.app.get(f"/sessions/{session_id}/messages", headers=headers)).json()["messages"]
    answer = history[1]
    assert answer["content"] == [{"type": "text", "text": "Hello, Ada."}]
    assert answer["status"] == "complete"
    assert answer["metadata"]["modelInfo"]["provider"] == provider
    assert answer["metadata"]["cost"] == pytest.approx(expected_cost)
    session = (await services.app.get(f"/sessions/{session_id}/metadata", headers=headers)).json()
    assert session["totalCost"] == pytest.approx(expected_cost)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_tool_call_and_its_result_are_stored(
    cloud: tuple[Services, dict[str, FakeProviderState]], provider: str
) -> None:
    services, fakes = cloud
    fakes[provider].script.add(ToolCall(id="call-1", name="calculator", arguments={"expression": "6*7"}), Usage(50, 10))
    fakes[provider].script.add(Text("It is 42."), Usage(80, 5))
    headers = services.auth_as("root", roles=["admin"])

    response, session_id = await turn(services, headers, provider, enabled_tools=["calculator"])

    events = parse_sse(response.text)
    tool_use = next(data["tool_use"] for name, data in events if name == "tool_use")
    tool_result = next(data["tool_result"] for name, data in events if name == "tool_result")
    assert tool_use["name"] == "calculator"
    assert tool_use["input"] == {"expression": "6*7"}
    assert tool_result["content"] == [{"text": "42"}]
    assert text_of(events).endswith("It is 42.")
    assert events[-2][1]["usage"]["inputTokens"] == 130
    second_call = fakes[provider].chat_calls[1]
    assert "42" in str(second_call.body), "the tool's result went back to the model"
    history = (await services.app.get(f"/sessions/{session_id}/messages", headers=headers)).json()["messages"]
    kinds = [(m["role"], m["content"][0]["type"]) for m in history]
    assert kinds == [("user", "text"), ("assistant", "toolUse"), ("user", "toolResult"), ("assistant", "text")]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_failure_before_the_first_byte_is_a_plain_502(
    cloud: tuple[Services, dict[str, FakeProviderState]], provider: str
) -> None:
    services, fakes = cloud
    fakes[provider].script.add(Fail(status=500))
    headers = services.auth(random_user_id())

    response, session_id = await turn(services, headers, provider)

    assert response.status_code == 502
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == "provider_error"
    history = (await services.app.get(f"/sessions/{session_id}/messages", headers=headers)).json()["messages"]
    assert [m["role"] for m in history] == ["user"], "the question is kept; there is no answer to store"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_failure_mid_stream_keeps_the_partial_answer_as_an_error(
    cloud: tuple[Services, dict[str, FakeProviderState]], provider: str
) -> None:
    services, fakes = cloud
    fakes[provider].script.add(Text("The answer is"), Text(" partly"), StreamError("the model fell over"))
    headers = services.auth(random_user_id())

    response, session_id = await turn(services, headers, provider)

    events = parse_sse(response.text)
    assert response.status_code == 200
    assert [name for name, _ in events][-2:] == ["stream_error", "done"]
    assert events[-2][1]["code"].startswith("provider")
    assert "fell over" not in response.text.split("stream_error")[-1], "the provider's own text is not passed on"
    history = (await services.app.get(f"/sessions/{session_id}/messages", headers=headers)).json()["messages"]
    assert history[1]["status"] == "error"
    assert history[1]["content"][0]["text"].startswith("The answer is")


async def test_a_later_turn_sends_the_history(cloud: tuple[Services, dict[str, FakeProviderState]]) -> None:
    services, fakes = cloud
    fakes["openai"].script.add(Text("First answer."), Usage(10, 3)).add(Text("Second answer."), Usage(20, 3))
    headers = services.auth(random_user_id())
    session_id = random_session_id()
    for message in ("first question", "second question"):
        await services.inference.post(
            "/invocations",
            json={"session_id": session_id, "message": message, "model_id": MODEL_IDS["openai"]},
            headers=headers,
        )

    second = str(fakes["openai"].chat_calls[1].body)
    assert "first question" in second
    assert "First answer." in second
    assert "second question" in second


# A turn without tools is one model call (turn_events.py); with tools it runs in Strands' agent loop. What a
# client sees and what is stored must not tell them apart.
TOOLS_OR_NOT = [pytest.param([], id="one-call"), pytest.param(["calculator"], id="agent-loop")]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("enabled_tools", TOOLS_OR_NOT)
async def test_an_answer_cut_at_the_output_limit_is_stored_and_reported(
    cloud: tuple[Services, dict[str, FakeProviderState]], provider: str, enabled_tools: list[str]
) -> None:
    services, fakes = cloud
    fakes[provider].script.add(Text("A long answer that"), MaxTokens(), Usage(40, 200))
    headers = services.auth_as("root", roles=["admin"])

    response, session_id = await turn(services, headers, provider, enabled_tools=enabled_tools)

    assert response.status_code == 200, response.text
    events = parse_sse(response.text)
    names = [name for name, _ in events]
    assert names[-2:] == ["stream_error", "done"], response.text
    assert events[-2][1]["code"] == "max_tokens_reached"
    assert ("message_stop", {"stopReason": "max_tokens"}) in events
    assert text_of(events) == "A long answer that"
    history = (await services.app.get(f"/sessions/{session_id}/messages", headers=headers)).json()["messages"]
    answer = history[1]
    assert answer["content"] == [{"type": "text", "text": "A long answer that"}]
    assert answer["metadata"]["tokenUsage"]["outputTokens"] == 200
    assert answer["metadata"]["cost"] > 0


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_one_call_and_the_agent_loop_stream_and_store_the_same_answer(
    cloud: tuple[Services, dict[str, FakeProviderState]], provider: str
) -> None:
    services, fakes = cloud
    headers = services.auth_as("root", roles=["admin"])
    seen = []
    for enabled_tools in ([], ["calculator"]):
        fakes[provider].script.add(
            Reasoning("Think first."), Text("Then "), Text("answer."), Usage(30, 12, cache_read=5)
        )
        response, session_id = await turn(services, headers, provider, enabled_tools=enabled_tools)
        assert response.status_code == 200, response.text
        events = [(name, data) for name, data in parse_sse(response.text) if name != "message_start"]
        metadata = [data for name, data in events if name == "metadata"]
        for data in metadata:
            data["metrics"] = {}  # timings differ from run to run
        history = (await services.app.get(f"/sessions/{session_id}/messages", headers=headers)).json()["messages"]
        stored = {key: history[1][key] for key in ("role", "content", "status")}
        stored["usage"] = history[1]["metadata"]["tokenUsage"]
        stored["cost"] = history[1]["metadata"]["cost"]
        seen.append((events, stored))
    assert seen[0] == seen[1]
    assert any(block["type"] == "reasoningContent" for block in seen[0][1]["content"])
