"""The chat fakes as Strands drives them, their framing as botocore reads it, and what a client going away leaves.

Strands' own `process_stream` aggregates each model's events here, as an agent would, so these tests prove
the fakes are good enough for BedrockModel, OpenAIModel and GeminiModel.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx
import pytest
from botocore.config import Config
from botocore.eventstream import EventStreamBuffer
from strands.event_loop.streaming import process_stream
from strands.models.bedrock import BedrockModel
from strands.models.gemini import GeminiModel
from strands.models.model import Model
from strands.models.openai import OpenAIModel
from strands.types.content import Messages
from strands.types.events import ModelStopReason
from strands.types.tools import ToolSpec

from tests.fakes.eventstream import event_message, exception_message
from tests.fakes.openai_server import FakeOpenAIState, running_openai
from tests.fakes.scripts import Text, ToolCall, Usage, argument_fragments, stop_reason
from tests.fakes.server import FakeProviderState, RunningFake

pytestmark = pytest.mark.usefixtures("no_provider_environment")

ARGUMENTS = {"expression": "2+2"}
TOOL_TURN = (Text("Let me compute."), ToolCall("t1", "calculator", ARGUMENTS), Usage(20, 8))
ANSWER_TURN = (Text("It is "), Text("4."), Usage(30, 4, cache_read=6))
CALCULATOR: ToolSpec = {
    "name": "calculator",
    "description": "Evaluates an arithmetic expression.",
    "inputSchema": {"json": {"type": "object", "properties": {"expression": {"type": "string"}}}},
}
QUESTION: Messages = [{"role": "user", "content": [{"text": "What is 2+2?"}]}]
DISCONNECT_POLLS = 500
POLL_SECONDS = 0.01


async def model_answer(model: Model, messages: Messages) -> ModelStopReason:
    """What Strands makes of one model call: the stop reason, the assembled message and the usage."""
    final: ModelStopReason | None = None
    async for event in process_stream(model.stream(messages, [CALCULATOR], "Be brief.")):
        if isinstance(event, ModelStopReason):
            final = event
    assert final is not None
    return final


def tool_round_trip(answer: ModelStopReason) -> Messages:
    """The conversation after the model's tool call and the tool's result, as an agent continues it."""
    [tool_use] = [block["toolUse"] for block in answer.message["content"] if "toolUse" in block]
    result: Messages = [
        {
            "role": "user",
            "content": [
                {"toolResult": {"toolUseId": tool_use["toolUseId"], "status": "success", "content": [{"text": "4"}]}}
            ],
        }
    ]
    return [*QUESTION, answer.message, *result]


async def assert_tool_conversation(model: Model, state: FakeProviderState) -> None:
    """A tool call turn, then the answer turn, through Strands: what an agent's loop would see."""
    state.script.add(*TOOL_TURN).add(*ANSWER_TURN)

    first = await model_answer(model, QUESTION)
    assert first.stop_reason == "tool_use"
    assert first.message["content"][0] == {"text": "Let me compute."}
    [tool_use] = [block["toolUse"] for block in first.message["content"] if "toolUse" in block]
    assert (tool_use["name"], tool_use["input"]) == ("calculator", ARGUMENTS)

    second = await model_answer(model, tool_round_trip(first))
    assert second.stop_reason == "end_turn"
    assert second.message["content"] == [{"text": "It is 4."}]
    assert second.usage["outputTokens"] == 4
    assert second.usage.get("cacheReadInputTokens") == 6
    assert len(state.chat_calls) == 2


async def test_strands_openai_model_runs_a_tool_conversation_on_the_fake() -> None:
    with running_openai() as fake:
        client_args = {"base_url": fake.url, "api_key": "sk-test", "max_retries": 0}
        model = OpenAIModel(client_args=client_args, model_id="gpt-fake-1", params={"temperature": 0.25})
        await assert_tool_conversation(model, fake.state)

    [first, second] = fake.state.chat_calls
    assert first.body["tools"][0]["function"]["name"] == "calculator"
    assert first.body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert (first.body["temperature"], first.body["stream_options"]) == (0.25, {"include_usage": True})
    assert second.body["messages"][-1]["role"] == "tool"


async def test_strands_bedrock_model_runs_a_tool_conversation_on_the_fake(bedrock_fake: RunningFake[Any]) -> None:
    model = BedrockModel(
        model_id="anthropic.claude-sonnet-4-20250514-v1:0",
        region_name="us-east-1",
        boto_client_config=Config(retries={"total_max_attempts": 1}),
        max_tokens=256,
    )

    await assert_tool_conversation(model, bedrock_fake.state)

    [first, second] = bedrock_fake.state.chat_calls
    assert first.body["toolConfig"]["tools"][0]["toolSpec"]["name"] == "calculator"
    assert first.body["system"][0] == {"text": "Be brief."}
    assert first.body["inferenceConfig"]["maxTokens"] == 256
    assert "toolResult" in second.body["messages"][-1]["content"][0]


async def test_strands_gemini_model_runs_a_tool_conversation_on_the_fake(gemini_fake: RunningFake[Any]) -> None:
    gemini_fake.state.function_call_ids = True
    client_args = {"api_key": "gemini-test", "http_options": {"base_url": gemini_fake.url}}
    model = GeminiModel(client_args=client_args, model_id="gemini-fake-flash", params={"temperature": 0.25})

    await assert_tool_conversation(model, gemini_fake.state)

    [first, second] = gemini_fake.state.chat_calls
    assert first.body["tools"][0]["functionDeclarations"][0]["name"] == "calculator"
    assert first.body["generationConfig"]["temperature"] == 0.25
    assert "functionResponse" in second.body["contents"][-1]["parts"][0]


def test_event_messages_pass_botocores_checks_and_parse_back() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(event_message("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "héllo"}}))
    buffer.add_data(exception_message("throttlingException", "slow down"))

    event, exception = list(buffer)

    # botocore-stubs types `headers` as int; at run time it is the parsed dict.
    event_headers: Any = event.headers
    exception_headers: Any = exception.headers
    assert event_headers == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(event.payload) == {"contentBlockIndex": 0, "delta": {"text": "héllo"}}
    assert exception_headers[":exception-type"] == "throttlingException"
    assert exception.to_response_dict()["status_code"] == 400


@pytest.mark.parametrize("arguments", [{}, {"a": 1}, ARGUMENTS, {"text": "x" * 100, "n": [1, 2, 3]}])
def test_tool_arguments_stream_in_at_least_two_fragments_that_reassemble(arguments: dict[str, Any]) -> None:
    fragments = argument_fragments(arguments)

    assert len(fragments) >= 2
    assert json.loads("".join(fragments)) == arguments


def test_the_stop_reason_follows_the_last_content_step() -> None:
    assert stop_reason([Text("a"), Usage(1, 1)]) == "end_turn"
    assert stop_reason([Text("a"), ToolCall("t", "f", {}), Usage(1, 1)]) == "tool_use"
    assert stop_reason([ToolCall("t", "f", {}), Text("done")]) == "end_turn"


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait until the fake's thread has caught up with what the client did."""
    for _ in range(DISCONNECT_POLLS):
        if condition():
            return
        await anyio.sleep(POLL_SECONDS)
    raise AssertionError("the fake never got there")


async def stream_lines(client: httpx.AsyncClient, received: list[str]) -> None:
    body = {"model": "m", "messages": [], "stream": True}
    async with client.stream("POST", "/chat/completions", json=body) as response:
        lines: AsyncIterator[str] = response.aiter_lines()
        async for line in lines:
            if line:
                received.append(line)


async def test_a_client_that_gives_up_during_a_delay_leaves_a_disconnected_stream() -> None:
    with running_openai(FakeOpenAIState()) as fake:
        fake.state.script.add(Text("first"), Text("late", delay_seconds=30))
        received: list[str] = []
        async with httpx.AsyncClient(base_url=fake.url, timeout=httpx.Timeout(5.0, read=0.3)) as client:
            with pytest.raises(httpx.ReadTimeout):
                await stream_lines(client, received)

        await eventually(lambda: bool(fake.state.stream_outcomes))

    assert fake.state.stream_outcomes == ["disconnected"]
    assert any('"first"' in line for line in received)
    assert not any('"late"' in line for line in received)


async def test_a_delay_holds_a_step_back_without_losing_it() -> None:
    with running_openai() as fake:
        fake.state.script.add(Text("soon"), Text("later", delay_seconds=0.2))
        received: list[str] = []
        async with httpx.AsyncClient(base_url=fake.url) as client:
            await stream_lines(client, received)

    contents = [json.loads(line[len("data: ") :])["choices"][0]["delta"].get("content") for line in received[:-1]]
    assert [content for content in contents if content] == ["soon", "later"]
    assert (received[-1], fake.state.stream_outcomes) == ("data: [DONE]", ["completed"])
