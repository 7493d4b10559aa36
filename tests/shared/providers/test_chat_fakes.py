"""The chat fakes through the providers' raw SDKs: what streams, what fails and what the fake was sent.

These double as references for each provider's wire format: what the SDK yields for a scripted turn.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from typing import Any

import anyio
import boto3
import httpx
import openai
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from openai.types.chat import (
    ChatCompletionChunk,
    ChatCompletionMessageFunctionToolCallParam,
    ChatCompletionMessageParam,
)

from apis.shared.providers.genai_transport import httpx_client_args
from tests.fakes.bedrock_server import FakeBedrockState
from tests.fakes.gemini_server import FakeGeminiState
from tests.fakes.openai_server import FakeOpenAIState
from tests.fakes.scripts import Drop, Fail, StreamError, Text, ToolCall, Usage
from tests.fakes.server import RunningFake
from tests.shared.providers.listing_helpers import FAKE_ACCESS_KEY_ID

OPENAI_MODEL = "gpt-fake-1"
BEDROCK_MODEL = "anthropic.claude-sonnet-4-20250514-v1:0"
GEMINI_MODEL = "gemini-fake-flash"

TEXT_TURN = (Text("Hel"), Text("lo"), Usage(12, 5, cache_read=3))
TOOL_TURN = (Text("Let me compute."), ToolCall("t1", "calculator", {"expression": "2+2"}), Usage(20, 8))
ANSWER_TURN = (Text("It is "), Text("4."), Usage(30, 4))
ARGUMENTS = {"expression": "2+2"}


# OpenAI ---------------------------------------------------------------------------------------------------------


def openai_client(fake: RunningFake[FakeOpenAIState]) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=fake.url, api_key="sk-test", max_retries=0)


async def openai_chunks(
    client: openai.AsyncOpenAI, messages: list[ChatCompletionMessageParam], received: list[ChatCompletionChunk]
) -> None:
    """Stream one completion into `received`, so a test still sees what came before an error."""
    stream = await client.chat.completions.create(
        model=OPENAI_MODEL,
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
        temperature=0.25,
        max_tokens=256,
    )
    async for chunk in stream:
        received.append(chunk)


def openai_texts(chunks: list[ChatCompletionChunk]) -> list[str]:
    return [chunk.choices[0].delta.content for chunk in chunks if chunk.choices and chunk.choices[0].delta.content]


async def test_openai_streams_text_deltas_then_finish_reason_and_usage(
    openai_fake: RunningFake[FakeOpenAIState],
) -> None:
    openai_fake.state.script.add(*TEXT_TURN)
    chunks: list[ChatCompletionChunk] = []

    await openai_chunks(openai_client(openai_fake), [{"role": "user", "content": "hi"}], chunks)

    assert openai_texts(chunks) == ["Hel", "lo"]
    assert [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices][-1] == "stop"
    usage = chunks[-1].usage
    assert usage is not None
    assert chunks[-1].choices == []
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (15, 5, 20)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 3
    assert openai_fake.state.stream_outcomes == ["completed"]


async def test_openai_streams_a_tool_call_in_fragments_then_answers_the_next_turn(
    openai_fake: RunningFake[FakeOpenAIState],
) -> None:
    openai_fake.state.script.add(*TOOL_TURN).add(*ANSWER_TURN)
    client = openai_client(openai_fake)
    first: list[ChatCompletionChunk] = []
    await openai_chunks(client, [{"role": "user", "content": "What is 2+2?"}], first)

    calls = [call for chunk in first if chunk.choices for call in chunk.choices[0].delta.tool_calls or []]
    assert (calls[0].index, calls[0].id, calls[0].function and calls[0].function.name) == (0, "t1", "calculator")
    fragments = [call.function.arguments for call in calls[1:] if call.function and call.function.arguments]
    assert len(fragments) >= 2
    assert json.loads("".join(fragments)) == ARGUMENTS
    assert [chunk.choices[0].finish_reason for chunk in first if chunk.choices][-1] == "tool_calls"

    second: list[ChatCompletionChunk] = []
    tool_call: ChatCompletionMessageFunctionToolCallParam = {
        "id": "t1",
        "type": "function",
        "function": {"name": "calculator", "arguments": json.dumps(ARGUMENTS)},
    }
    history: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "Let me compute.", "tool_calls": [tool_call]},
        {"role": "tool", "tool_call_id": "t1", "content": "4"},
    ]
    await openai_chunks(client, history, second)

    assert "".join(openai_texts(second)) == "It is 4."
    assert openai_fake.state.chat_calls[1].body["messages"][2] == {"role": "tool", "tool_call_id": "t1", "content": "4"}


async def test_openai_records_what_the_model_was_sent(openai_fake: RunningFake[FakeOpenAIState]) -> None:
    openai_fake.state.script.add(*TEXT_TURN)

    await openai_chunks(
        openai_client(openai_fake), [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}], []
    )

    [call] = openai_fake.state.chat_calls
    assert (call.model, call.stream) == (OPENAI_MODEL, True)
    assert call.body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert (call.body["temperature"], call.body["max_tokens"]) == (0.25, 256)
    assert call.headers["authorization"] == "Bearer sk-test"


async def test_openai_fails_before_the_first_byte_with_the_scripted_status(
    openai_fake: RunningFake[FakeOpenAIState],
) -> None:
    openai_fake.state.script.add(Fail(status=429, message="Rate limit reached", code="rate_limit_exceeded"))

    with pytest.raises(openai.RateLimitError) as raised:
        await openai_chunks(openai_client(openai_fake), [{"role": "user", "content": "hi"}], [])

    assert raised.value.status_code == 429
    assert raised.value.code == "rate_limit_exceeded"
    assert openai_fake.state.stream_outcomes == []


async def test_openai_raises_mid_stream_on_an_error_event_or_a_cut(openai_fake: RunningFake[FakeOpenAIState]) -> None:
    openai_fake.state.script.add(Text("par"), StreamError("overloaded")).add(Text("tial"), Drop())
    client = openai_client(openai_fake)
    errored: list[ChatCompletionChunk] = []
    cut: list[ChatCompletionChunk] = []

    with pytest.raises(openai.APIError, match="overloaded"):
        await openai_chunks(client, [{"role": "user", "content": "hi"}], errored)
    with pytest.raises(httpx.RemoteProtocolError):
        await openai_chunks(client, [{"role": "user", "content": "hi"}], cut)

    assert (openai_texts(errored), openai_texts(cut)) == (["par"], ["tial"])
    assert openai_fake.state.stream_outcomes == ["stream_error", "dropped"]


async def test_openai_answers_a_call_without_stream_in_one_completion(
    openai_fake: RunningFake[FakeOpenAIState],
) -> None:
    openai_fake.state.script.add(Text("A short "), Text("title"), Usage(7, 2))

    completion = await openai_client(openai_fake).chat.completions.create(
        model=OPENAI_MODEL, messages=[{"role": "user", "content": "Name this chat"}]
    )

    assert completion.choices[0].message.content == "A short title"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 7
    assert openai_fake.state.chat_calls[0].stream is False


# Bedrock --------------------------------------------------------------------------------------------------------


@pytest.fixture
def bedrock_runtime(bedrock_fake: RunningFake[FakeBedrockState]) -> Iterator[Any]:
    """A `bedrock-runtime` client on the fake, without retries, so each call takes exactly one turn."""
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=bedrock_fake.url,
        region_name="us-east-1",
        aws_access_key_id=FAKE_ACCESS_KEY_ID,
        aws_secret_access_key="fake-secret",
        config=Config(retries={"total_max_attempts": 1}),
    )
    yield client
    client.close()


def converse_events(client: Any, messages: list[dict[str, Any]], received: list[dict[str, Any]]) -> None:
    """Run ConverseStream and collect its events into `received`, so a test sees what came before an error."""
    response = client.converse_stream(
        modelId=BEDROCK_MODEL,
        messages=messages,
        system=[{"text": "Be brief."}],
        inferenceConfig={"temperature": 0.25, "maxTokens": 256},
    )
    for event in response["stream"]:
        received.append(event)


async def converse(client: Any, messages: list[dict[str, Any]], received: list[dict[str, Any]]) -> None:
    await anyio.to_thread.run_sync(partial(converse_events, client, messages, received))


def bedrock_texts(events: list[dict[str, Any]]) -> list[str]:
    return [
        event["contentBlockDelta"]["delta"]["text"]
        for event in events
        if "text" in event.get("contentBlockDelta", {}).get("delta", {})
    ]


USER_HI = [{"role": "user", "content": [{"text": "hi"}]}]


async def test_bedrock_streams_text_deltas_then_stop_reason_and_usage(
    bedrock_fake: RunningFake[FakeBedrockState], bedrock_runtime: Any
) -> None:
    bedrock_fake.state.script.add(*TEXT_TURN)
    events: list[dict[str, Any]] = []

    await converse(bedrock_runtime, USER_HI, events)

    assert [next(iter(event)) for event in events] == [
        "messageStart", "contentBlockDelta", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"
    ]  # fmt: skip
    assert bedrock_texts(events) == ["Hel", "lo"]
    assert events[-2] == {"messageStop": {"stopReason": "end_turn"}}
    usage = events[-1]["metadata"]["usage"]
    assert (usage["inputTokens"], usage["outputTokens"], usage["cacheReadInputTokens"]) == (12, 5, 3)
    assert usage["totalTokens"] == 20


async def test_bedrock_streams_a_tool_use_in_fragments_then_answers_the_next_turn(
    bedrock_fake: RunningFake[FakeBedrockState], bedrock_runtime: Any
) -> None:
    bedrock_fake.state.script.add(*TOOL_TURN).add(*ANSWER_TURN)
    first: list[dict[str, Any]] = []
    await converse(bedrock_runtime, USER_HI, first)

    [start] = [event["contentBlockStart"] for event in first if "contentBlockStart" in event]
    assert start == {"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t1", "name": "calculator"}}}
    deltas = [event["contentBlockDelta"] for event in first if "contentBlockDelta" in event]
    fragments = [delta["delta"]["toolUse"]["input"] for delta in deltas if "toolUse" in delta["delta"]]
    assert len(fragments) >= 2
    assert json.loads("".join(fragments)) == ARGUMENTS
    assert {"messageStop": {"stopReason": "tool_use"}} in first

    tool_use = {"toolUse": {"toolUseId": "t1", "name": "calculator", "input": ARGUMENTS}}
    result = {"toolResult": {"toolUseId": "t1", "content": [{"text": "4"}]}}
    second: list[dict[str, Any]] = []
    history = [*USER_HI, {"role": "assistant", "content": [tool_use]}, {"role": "user", "content": [result]}]
    await converse(bedrock_runtime, history, second)

    assert "".join(bedrock_texts(second)) == "It is 4."
    assert bedrock_fake.state.chat_calls[1].body["messages"][2] == {"role": "user", "content": [result]}


async def test_bedrock_records_what_the_model_was_sent(
    bedrock_fake: RunningFake[FakeBedrockState], bedrock_runtime: Any
) -> None:
    bedrock_fake.state.script.add(*TEXT_TURN)

    await converse(bedrock_runtime, USER_HI, [])

    [call] = bedrock_fake.state.chat_calls
    assert (call.model, call.stream) == (BEDROCK_MODEL, True)
    assert call.body["messages"] == USER_HI
    assert call.body["system"] == [{"text": "Be brief."}]
    assert call.body["inferenceConfig"] == {"temperature": 0.25, "maxTokens": 256}
    assert f"Credential={FAKE_ACCESS_KEY_ID}/" in call.headers["authorization"]


@pytest.mark.parametrize(
    ("status", "code"), [(400, "ValidationException"), (429, "ThrottlingException"), (500, "InternalServerException")]
)
async def test_bedrock_fails_before_the_first_byte_with_the_status_and_error_type(
    bedrock_fake: RunningFake[FakeBedrockState], bedrock_runtime: Any, status: int, code: str
) -> None:
    bedrock_fake.state.script.add(Fail(status=status, message="scripted refusal"))

    with pytest.raises(ClientError) as raised:
        await converse(bedrock_runtime, USER_HI, [])

    error = raised.value.response
    assert (error["Error"]["Code"], error["Error"]["Message"]) == (code, "scripted refusal")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status


async def test_bedrock_raises_mid_stream_on_an_exception_event_or_a_cut(
    bedrock_fake: RunningFake[FakeBedrockState], bedrock_runtime: Any
) -> None:
    bedrock_fake.state.script.add(Text("par"), StreamError("slow down", status=429)).add(Text("tial"), Drop())
    errored: list[dict[str, Any]] = []
    cut: list[dict[str, Any]] = []

    with pytest.raises(EventStreamError) as raised:
        await converse(bedrock_runtime, USER_HI, errored)
    with pytest.raises(urllib3.exceptions.ProtocolError):
        await converse(bedrock_runtime, USER_HI, cut)

    assert raised.value.response["Error"] == {"Code": "throttlingException", "Message": "slow down"}
    assert (bedrock_texts(errored), bedrock_texts(cut)) == (["par"], ["tial"])


async def test_bedrock_answers_converse_in_one_message_for_an_inference_profile_arn(
    bedrock_fake: RunningFake[FakeBedrockState], bedrock_runtime: Any
) -> None:
    bedrock_fake.state.script.add(Text("A short "), Text("title"), Usage(7, 2))
    profile = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-v1:0"

    response = await anyio.to_thread.run_sync(partial(bedrock_runtime.converse, modelId=profile, messages=USER_HI))

    assert response["output"]["message"] == {"role": "assistant", "content": [{"text": "A short title"}]}
    assert (response["stopReason"], response["usage"]["inputTokens"]) == ("end_turn", 7)
    assert (bedrock_fake.state.chat_calls[0].model, bedrock_fake.state.chat_calls[0].stream) == (profile, False)


# Gemini ---------------------------------------------------------------------------------------------------------


def gemini_client(fake: RunningFake[FakeGeminiState]) -> genai.Client:
    options = genai_types.HttpOptions(base_url=fake.url, async_client_args=httpx_client_args())
    return genai.Client(api_key="gemini-test", http_options=options)


GEMINI_CONFIG = genai_types.GenerateContentConfig(
    system_instruction="Be brief.", temperature=0.25, max_output_tokens=256
)


async def gemini_responses(
    client: genai.Client, contents: list[genai_types.Content], received: list[genai_types.GenerateContentResponse]
) -> None:
    """Stream one answer into `received`, so a test still sees what came before an error."""
    stream = await client.aio.models.generate_content_stream(
        model=GEMINI_MODEL, contents=contents, config=GEMINI_CONFIG
    )
    async for response in stream:
        received.append(response)


def gemini_parts(responses: list[genai_types.GenerateContentResponse]) -> list[genai_types.Part]:
    parts: list[genai_types.Part] = []
    for response in responses:
        for candidate in response.candidates or []:
            parts.extend(candidate.content.parts or [] if candidate.content else [])
    return parts


def gemini_texts(responses: list[genai_types.GenerateContentResponse]) -> list[str]:
    return [part.text for part in gemini_parts(responses) if part.text]


USER_CONTENT = [genai_types.Content(role="user", parts=[genai_types.Part(text="hi")])]


async def test_gemini_streams_text_parts_then_finish_reason_and_usage(
    gemini_fake: RunningFake[FakeGeminiState],
) -> None:
    gemini_fake.state.script.add(*TEXT_TURN)
    responses: list[genai_types.GenerateContentResponse] = []

    await gemini_responses(gemini_client(gemini_fake), USER_CONTENT, responses)

    assert gemini_texts(responses) == ["Hel", "lo"]
    last = responses[-1]
    assert last.candidates
    assert last.candidates[0].finish_reason == genai_types.FinishReason.STOP
    usage = last.usage_metadata
    assert usage is not None
    assert (usage.prompt_token_count, usage.candidates_token_count, usage.total_token_count) == (15, 5, 20)
    assert usage.cached_content_token_count == 3


async def test_gemini_streams_a_function_call_whole_then_answers_the_next_turn(
    gemini_fake: RunningFake[FakeGeminiState],
) -> None:
    gemini_fake.state.script.add(*TOOL_TURN).add(*ANSWER_TURN)
    client = gemini_client(gemini_fake)
    first: list[genai_types.GenerateContentResponse] = []
    await gemini_responses(client, USER_CONTENT, first)

    [call] = [part.function_call for part in gemini_parts(first) if part.function_call]
    assert (call.name, call.args, call.id) == ("calculator", ARGUMENTS, None)

    history = [
        *USER_CONTENT,
        genai_types.Content(role="model", parts=[genai_types.Part(function_call=call)]),
        genai_types.Content(
            role="user",
            parts=[genai_types.Part.from_function_response(name="calculator", response={"result": "4"})],
        ),
    ]
    second: list[genai_types.GenerateContentResponse] = []
    await gemini_responses(client, history, second)

    assert "".join(gemini_texts(second)) == "It is 4."
    sent = gemini_fake.state.chat_calls[1].body["contents"][2]
    assert sent["parts"][0]["functionResponse"] == {"name": "calculator", "response": {"result": "4"}}


async def test_gemini_records_what_the_model_was_sent(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    gemini_fake.state.script.add(*TEXT_TURN)

    await gemini_responses(gemini_client(gemini_fake), USER_CONTENT, [])

    [call] = gemini_fake.state.chat_calls
    assert (call.model, call.stream) == (GEMINI_MODEL, True)
    assert call.body["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]
    assert call.body["systemInstruction"]["parts"] == [{"text": "Be brief."}]
    assert call.body["generationConfig"] == {"temperature": 0.25, "maxOutputTokens": 256}
    assert call.headers["x-goog-api-key"] == "gemini-test"


async def test_gemini_fails_before_the_first_byte_with_googles_error(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    gemini_fake.state.script.add(Fail(status=429, message="Quota exceeded")).add(Fail(status=503))

    with pytest.raises(genai_errors.ClientError) as client_error:
        await gemini_responses(gemini_client(gemini_fake), USER_CONTENT, [])
    with pytest.raises(genai_errors.ServerError) as server_error:
        await gemini_responses(gemini_client(gemini_fake), USER_CONTENT, [])

    assert (client_error.value.code, client_error.value.status) == (429, "RESOURCE_EXHAUSTED")
    assert client_error.value.message == "Quota exceeded"
    assert (server_error.value.code, server_error.value.status) == (503, "UNAVAILABLE")


async def test_gemini_raises_mid_stream_on_an_error_event_or_a_cut(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    gemini_fake.state.script.add(Text("par"), StreamError("overloaded", status=503)).add(Text("tial"), Drop())
    client = gemini_client(gemini_fake)
    errored: list[genai_types.GenerateContentResponse] = []
    cut: list[genai_types.GenerateContentResponse] = []

    with pytest.raises(genai_errors.ServerError) as raised:
        await gemini_responses(client, USER_CONTENT, errored)
    with pytest.raises(httpx.RemoteProtocolError):
        await gemini_responses(client, USER_CONTENT, cut)

    assert (raised.value.code, raised.value.message) == (503, "overloaded")
    assert (gemini_texts(errored), gemini_texts(cut)) == (["par"], ["tial"])


async def test_gemini_answers_generate_content_in_one_response(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    gemini_fake.state.script.add(Text("A short "), Text("title"), Usage(7, 2))

    response = await gemini_client(gemini_fake).aio.models.generate_content(model=GEMINI_MODEL, contents="Name it")

    assert response.text == "A short title"
    assert response.usage_metadata is not None
    assert response.usage_metadata.prompt_token_count == 7
    assert gemini_fake.state.chat_calls[0].stream is False
