"""The Gemini path's own stream reader against the Gemini fake on loopback (and, for what the fake does not send,
a loopback server playing hand-made events): what it yields to Strands (text, thoughts and their signatures,
function calls, finish reasons, usage with cached tokens, continuation hops), that it sends what the SDK sends,
how each failure is raised and then translated into the same `stream_error` codes, and that calls reuse one
connection."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from google import genai
from google.genai import types as genai_types
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route
from strands.types.exceptions import ContextWindowOverflowException, ModelThrottledException

from apis.shared.config import InferenceSettings, ProviderSettings
from apis.shared.models import ManagedModel
from apis.shared.providers.chat_models import TurnOptions, build_chat_model
from apis.shared.providers.failures import provider_failure
from apis.shared.providers.gemini_stream import GeminiStatusError, GeminiStreamModel
from tests.fakes.gemini_server import FakeGeminiState
from tests.fakes.scripts import Drop, Fail, MaxTokens, Reasoning, StreamError, Text, ToolCall, Usage
from tests.fakes.server import RunningFake, closed_port_url, serve

MODEL_ID = "gemini-fake"
MESSAGES: list[Any] = [{"role": "user", "content": [{"text": "Hello"}]}]
TOOLS: Any = [{"name": "add", "description": "adds", "inputSchema": {"json": {"type": "object"}}}]


def gemini_model(base_url: str, timeout_seconds: float = 5.0, **options: Any) -> GeminiStreamModel:
    managed = ManagedModel.model_validate(
        {
            "id": "m-gemini",
            "modelId": MODEL_ID,
            "modelName": "Gemini fake",
            "provider": "gemini",
            "createdAt": "2026-01-01T00:00:00.000000Z",
            "updatedAt": "2026-01-01T00:00:00.000000Z",
        }
    )
    providers = ProviderSettings.model_construct(
        gemini_api_key="gemini-key", gemini_base_url=base_url, provider_timeout_seconds=timeout_seconds
    )
    model = build_chat_model(
        managed, TurnOptions(**options), providers=providers, inference=InferenceSettings(), region="us-east-1"
    )
    assert isinstance(model, GeminiStreamModel)
    return model


async def events_of(model: GeminiStreamModel, **kwargs: Any) -> list[dict[str, Any]]:
    return [dict(event) async for event in model.stream(MESSAGES, **kwargs)]


def deltas(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["contentBlockDelta"]["delta"] for e in events if "contentBlockDelta" in e]


async def test_thoughts_text_and_usage_with_cached_tokens(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    gemini_fake.state.script.add(Reasoning("Pondering."), Text("Hello"), Text(", Ada."), Usage(100, 20, cache_read=40))

    events = await events_of(gemini_model(gemini_fake.url))

    kinds = [next(iter(event)) for event in events]
    assert kinds == [
        "messageStart",
        "contentBlockStart",
        "contentBlockDelta",
        "contentBlockStop",
        "contentBlockStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert deltas(events) == [{"reasoningContent": {"text": "Pondering."}}, {"text": "Hello"}, {"text": ", Ada."}]
    assert events[-2] == {"messageStop": {"stopReason": "end_turn"}}
    usage = events[-1]["metadata"]["usage"]
    assert usage == {"inputTokens": 140, "outputTokens": 20, "totalTokens": 160, "cacheReadInputTokens": 40}


async def test_the_request_is_what_the_sdk_sends(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    gemini_fake.state.script.add(Text("hi")).add(Text("hi"))
    config = genai_types.GenerateContentConfig(system_instruction="Brief.", temperature=0.2, max_output_tokens=50)
    client = genai.Client(api_key="gemini-key", http_options=genai_types.HttpOptions(base_url=gemini_fake.url))
    async for _ in await client.aio.models.generate_content_stream(model=MODEL_ID, contents="Hello", config=config):
        pass

    await events_of(gemini_model(gemini_fake.url, temperature=0.2, max_tokens=50), system_prompt="Brief.")

    sdk, ours = gemini_fake.state.chat_calls
    sdk_request, ours_request = gemini_fake.state.requests[-2:]
    assert ours.body == sdk.body
    assert (ours_request.path, ours_request.query) == (sdk_request.path, sdk_request.query)
    for header in ("x-goog-api-key", "x-goog-api-client", "content-type"):
        assert ours_request.headers[header] == sdk_request.headers[header]


async def test_each_call_sends_its_own_config_though_a_converted_one_is_kept(
    gemini_fake: RunningFake[FakeGeminiState],
) -> None:
    """The config's wire form is kept per config: the same instructions again, then other ones, then the first
    again each reach Gemini as asked."""
    for _ in range(3):
        gemini_fake.state.script.add(Text("hi"))
    model = gemini_model(gemini_fake.url)

    for prompt in ("Be brief.", "Be thorough.", "Be brief."):
        await events_of(model, system_prompt=prompt)

    sent = [call.body["systemInstruction"]["parts"][0]["text"] for call in gemini_fake.state.chat_calls]
    assert sent == ["Be brief.", "Be thorough.", "Be brief."]
    assert all(call.body["contents"][0]["parts"][0]["text"] for call in gemini_fake.state.chat_calls)


PICTURE = {"image": {"format": "png", "source": {"bytes": b"\x89PNG-1"}}}
RESULT = {"toolResult": {"toolUseId": "t-1", "status": "success", "content": [{"text": "5"}]}}
NOTES = {"document": {"format": "txt", "name": "notes", "source": {"bytes": b"ship it"}}}
CONVERSATION: list[Any] = [
    {"role": "user", "content": [{"text": "What is on this picture?"}, PICTURE]},
    {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t-1", "name": "add", "input": {"a": 2, "b": 3}}}]},
    {"role": "user", "content": [RESULT]},
    {"role": "assistant", "content": [{"text": "A chart; the sum is 5."}]},
    {"role": "user", "content": [NOTES]},
]


async def test_each_turn_of_a_conversation_sends_what_the_sdk_sends(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    """Wire forms of earlier messages are kept (gemini_wire.py): as the conversation grows, message by message and
    with instructions that change, every body is still the one the SDK sends for the same Strands request."""
    model = gemini_model(gemini_fake.url, temperature=0.3)
    client = genai.Client(api_key="gemini-key", http_options=genai_types.HttpOptions(base_url=gemini_fake.url))
    prompts = ["Be brief.", "Be brief.", "Be thorough.", "Be brief.", "Be brief."]
    for turn, prompt in enumerate(prompts, start=1):
        gemini_fake.state.script.add(Text("ok")).add(Text("ok"))
        request = model._format_request(CONVERSATION[:turn], TOOLS, prompt, model.config.get("params"))
        stream = await client.aio.models.generate_content_stream(
            model=MODEL_ID, contents=request["contents"], config=request["config"]
        )
        async for _ in stream:
            pass
        async for _ in model.stream(CONVERSATION[:turn], tool_specs=TOOLS, system_prompt=prompt):
            pass

        sdk, ours = gemini_fake.state.chat_calls[-2:]
        assert ours.body == sdk.body
        assert len(ours.body["contents"]) == turn
    assert gemini_fake.state.chat_calls[-1].body["contents"][0]["parts"][1]["inlineData"]["data"] == "iVBORy0x"


async def test_a_function_call_is_whole_with_its_id_or_a_made_up_one(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    gemini_fake.state.script.add(ToolCall(id="call-7", name="add", arguments={"a": 2}), Usage(10, 5))
    gemini_fake.state.script.add(ToolCall(id="call-8", name="add", arguments={"a": 3}), Usage(10, 5))
    model = gemini_model(gemini_fake.url)

    unnamed = await events_of(model, tool_specs=TOOLS)
    gemini_fake.state.function_call_ids = True
    named = await events_of(model, tool_specs=TOOLS)

    start = next(e["contentBlockStart"]["start"]["toolUse"] for e in unnamed if "contentBlockStart" in e)
    assert start["name"] == "add"
    assert start["toolUseId"].startswith("tooluse_")
    assert deltas(unnamed) == [{"toolUse": {"input": json.dumps({"a": 2})}}]
    assert {"messageStop": {"stopReason": "tool_use"}} in unnamed
    named_start = next(e["contentBlockStart"]["start"]["toolUse"] for e in named if "contentBlockStart" in e)
    assert named_start == {"name": "add", "toolUseId": "call-8"}
    declared = gemini_fake.state.chat_calls[0].body["tools"][0]["functionDeclarations"][0]
    assert declared["name"] == "add"


async def test_the_output_limit_is_a_max_tokens_stop(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    gemini_fake.state.script.add(Text("cut"), MaxTokens(), Usage(5, 5))

    events = await events_of(gemini_model(gemini_fake.url))

    assert {"messageStop": {"stopReason": "max_tokens"}} in events


@pytest.mark.parametrize(
    ("failure", "raised", "code"),
    [
        (Fail(status=429, message="Quota exceeded"), ModelThrottledException, "provider_throttled"),
        (
            Fail(status=400, message="The input token count exceeds the maximum number of tokens allowed"),
            ContextWindowOverflowException,
            "context_window_exceeded",
        ),
        (Fail(status=403, message="denied"), GeminiStatusError, "provider_auth_failed"),
        (Fail(status=503, message="overloaded"), GeminiStatusError, "provider_error"),
        (StreamError("slow down", status=429), ModelThrottledException, "provider_throttled"),
        (StreamError("broke off", status=500), GeminiStatusError, "provider_error"),
        (Drop(), aiohttp.ClientPayloadError, "provider_unreachable"),
    ],
)
async def test_failures_keep_their_stream_error_codes(
    gemini_fake: RunningFake[FakeGeminiState], failure: Any, raised: type[Exception], code: str
) -> None:
    if isinstance(failure, Fail):
        gemini_fake.state.script.add(failure)
    else:
        gemini_fake.state.script.add(Text("partial"), failure)

    with pytest.raises(raised) as caught:
        await events_of(gemini_model(gemini_fake.url))

    assert (translated := provider_failure(caught.value, "gemini")) is not None
    assert translated.code == code
    assert len(gemini_fake.state.chat_calls) == 1, "no retry: the client decides"


async def test_a_stalled_stream_times_out_as_unreachable(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    gemini_fake.state.script.add(Text("par"), Text("tial", delay_seconds=2.0))

    with pytest.raises(aiohttp.ServerTimeoutError) as caught:
        await events_of(gemini_model(gemini_fake.url, timeout_seconds=0.3))

    assert (translated := provider_failure(caught.value, "gemini")) is not None
    assert translated.code == "provider_unreachable"


async def test_an_unreachable_server_is_provider_unreachable() -> None:
    with pytest.raises(aiohttp.ClientConnectorError) as caught:
        await events_of(gemini_model(closed_port_url()))

    assert (translated := provider_failure(caught.value, "gemini")) is not None
    assert translated.code == "provider_unreachable"


async def test_calls_reuse_one_kept_alive_connection(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    for _ in range(3):
        gemini_fake.state.script.add(Text("hi"), Usage(1, 1))
    model = gemini_model(gemini_fake.url)

    for _ in range(3):
        await events_of(model)

    assert len({request.client_port for request in gemini_fake.state.requests}) == 1, "one connection, kept alive"


# Events the fake does not send, played in small pieces by a loopback server of the test's own -------------------


@pytest.fixture
def played() -> Iterator[tuple[str, list[list[str]], list[Any]]]:
    """A streamGenerateContent endpoint: each call answers the next list of raw SSE events, 5 bytes per chunk."""
    answers: list[list[str]] = []
    bodies: list[Any] = []

    async def stream(request: Request) -> StreamingResponse:
        bodies.append(json.loads(await request.body()))
        data = "".join(answers.pop(0)).encode()

        async def pieces() -> AsyncIterator[bytes]:
            for start in range(0, len(data), 5):
                yield data[start : start + 5]

        return StreamingResponse(pieces(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/v1beta/models/{target}", stream, methods=["POST"])])
    with serve(app) as url:
        yield url, answers, bodies


def sse(*parts: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None, **extra: Any) -> str:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, **extra}
    if finish:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {"candidates": [candidate]}
    if usage:
        body["usageMetadata"] = usage
    return f"data: {json.dumps(body)}\r\n\r\n"


async def test_thought_signatures_are_kept_in_standard_base64(played: tuple[str, list[list[str]], list[Any]]) -> None:
    url, answers, _ = played
    answers.append(
        [
            sse({"text": "Weighing it.", "thought": True}),
            sse({"text": "", "thoughtSignature": "c2lnLT8-"}),  # URL-safe alphabet, as Google may send bytes
            sse({"functionCall": {"name": "add", "args": {"a": 1}}, "thoughtSignature": "AQID"}),
            sse({"text": ""}, finish="STOP", usage={"promptTokenCount": 4, "totalTokenCount": 9}),
        ]
    )

    events = await events_of(gemini_model(url), tool_specs=TOOLS)

    assert deltas(events)[:2] == [
        {"reasoningContent": {"text": "Weighing it."}},
        {"reasoningContent": {"signature": "c2lnLT8+"}},
    ]
    start = next(e["contentBlockStart"]["start"] for e in events if e.get("contentBlockStart", {}).get("start"))
    assert start["toolUse"]["reasoningSignature"] == "AQID"
    assert {"messageStop": {"stopReason": "tool_use"}} in events
    assert events[-1]["metadata"]["usage"] == {"inputTokens": 4, "outputTokens": 5, "totalTokens": 9}


async def test_an_event_on_several_data_lines_is_one_chunk(played: tuple[str, list[list[str]], list[Any]]) -> None:
    url, answers, _ = played
    body = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hi"}]}, "finishReason": "STOP"}]}
    answers.append(
        [": keep-alive\r\n\r\n", "data: " + json.dumps(body, indent=1).replace("\n", "\ndata: ") + "\r\n\r\n"]
    )

    events = await events_of(gemini_model(url))

    assert deltas(events) == [{"text": "Hi"}]


async def test_a_continuation_is_followed_and_its_usage_summed(played: tuple[str, list[list[str]], list[Any]]) -> None:
    url, answers, bodies = played
    answers.append(
        [
            sse({"text": "Once upon"}),
            sse(
                {"text": " a"},
                finish="CONTINUATION",
                continuationToken="dG9rZW4",
                usage={"promptTokenCount": 10, "candidatesTokenCount": 2, "totalTokenCount": 12},
            ),
        ]
    )
    answers.append(
        [
            sse(
                {"text": " time."},
                finish="STOP",
                usage={"promptTokenCount": 1, "candidatesTokenCount": 3, "totalTokenCount": 4},
            )
        ]
    )

    events = await events_of(gemini_model(url))

    assert "".join(d["text"] for d in deltas(events)) == "Once upon a time."
    assert [next(iter(e)) for e in events].count("messageStart") == 1
    assert {"messageStop": {"stopReason": "end_turn"}} in events
    assert events[-1]["metadata"]["usage"] == {"inputTokens": 11, "outputTokens": 5, "totalTokens": 16}
    assert "continuationToken" not in json.dumps(bodies[0])
    assert "dG9rZW4" in json.dumps(bodies[1])


async def test_an_event_that_is_not_an_object_is_a_provider_error(
    played: tuple[str, list[list[str]], list[Any]],
) -> None:
    url, answers, _ = played
    answers.append([sse({"text": "par"}), "data: [1, 2]\r\n\r\n"])

    with pytest.raises(GeminiStatusError) as caught:
        await events_of(gemini_model(url))

    assert (translated := provider_failure(caught.value, "gemini")) is not None
    assert translated.code == "provider_error"
