"""The Bedrock path's own ConverseStream client against the Bedrock fake on loopback (and, for what the fake does not
send, a loopback server playing hand-made frames): what it yields to Strands (text, reasoning with its signature,
tool use, stop reasons, usage with cache tokens), what it signs and sends, how each failure is raised and then
translated into the same `stream_error` codes, and that calls reuse one connection."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route
from strands.models.bedrock import _TOOL_RESULT_TURN_VALIDATION_MESSAGE
from strands.types.exceptions import ContextWindowOverflowException, ModelThrottledException

from apis.shared.config import InferenceSettings, ProviderSettings
from apis.shared.errors import ProviderError
from apis.shared.models import ManagedModel
from apis.shared.providers.bedrock_stream import BedrockStatusError, BedrockStreamModel
from apis.shared.providers.chat_models import TurnOptions, build_chat_model
from apis.shared.providers.failures import provider_failure
from tests.fakes.bedrock_server import FakeBedrockState
from tests.fakes.eventstream import encode_message, event_message
from tests.fakes.scripts import Drop, Fail, MaxTokens, Reasoning, StreamError, Text, ToolCall, Usage
from tests.fakes.server import RunningFake, closed_port_url, serve
from tests.shared.providers.listing_helpers import FAKE_ACCESS_KEY_ID

MODEL_ID = "anthropic.claude-fake-v1:0"
MESSAGES: list[Any] = [{"role": "user", "content": [{"text": "Hello"}]}]
TOOLS = [{"name": "add", "description": "adds", "inputSchema": {"json": {"type": "object"}}}]


def bedrock_model(timeout_seconds: float = 5.0, **options: Any) -> BedrockStreamModel:
    managed = ManagedModel.model_validate(
        {
            "id": "m-bedrock",
            "modelId": MODEL_ID,
            "modelName": "Claude fake",
            "provider": "bedrock",
            "createdAt": "2026-01-01T00:00:00.000000Z",
            "updatedAt": "2026-01-01T00:00:00.000000Z",
        }
    )
    providers = ProviderSettings.model_construct(bedrock_region="us-east-1", provider_timeout_seconds=timeout_seconds)
    model = build_chat_model(
        managed, TurnOptions(**options), providers=providers, inference=InferenceSettings(), region="us-east-1"
    )
    assert isinstance(model, BedrockStreamModel)
    return model


async def events_of(model: BedrockStreamModel, messages: list[Any] = MESSAGES, **kwargs: Any) -> list[dict[str, Any]]:
    return [dict(event) async for event in model.stream(messages, **kwargs)]


async def test_text_reasoning_and_tool_use_stream_with_usage_and_cache_tokens(
    bedrock_fake: RunningFake[FakeBedrockState],
) -> None:
    bedrock_fake.state.script.add(
        Reasoning("Adding."),
        Text("Let me add."),
        ToolCall(id="tool-1", name="add", arguments={"a": 2, "b": 3}),
        Usage(100, 20, cache_read=40, cache_write=7),
    )

    events = await events_of(bedrock_model(temperature=0.2, max_tokens=50), tool_specs=TOOLS, system_prompt="Brief.")

    assert events[0] == {"messageStart": {"role": "assistant"}}
    deltas = [e["contentBlockDelta"]["delta"] for e in events if "contentBlockDelta" in e]
    assert deltas[0] == {"reasoningContent": {"text": "Adding."}}
    assert deltas[1] == {"text": "Let me add."}
    start = next(e["contentBlockStart"]["start"] for e in events if "contentBlockStart" in e)
    assert start == {"toolUse": {"toolUseId": "tool-1", "name": "add"}}
    assert json.loads("".join(d["toolUse"]["input"] for d in deltas if "toolUse" in d)) == {"a": 2, "b": 3}
    assert events[-2] == {"messageStop": {"stopReason": "tool_use"}}
    assert events[-1]["metadata"]["usage"] == {
        "inputTokens": 100,
        "outputTokens": 20,
        "totalTokens": 167,
        "cacheReadInputTokens": 40,
        "cacheWriteInputTokens": 7,
    }
    [call] = bedrock_fake.state.chat_calls
    assert (call.model, call.stream) == (MODEL_ID, True)
    assert call.body["inferenceConfig"] == {"maxTokens": 50, "temperature": 0.2}
    assert call.body["system"] == [{"text": "Brief."}]
    assert call.body["toolConfig"]["tools"][0]["toolSpec"]["name"] == "add"
    assert f"Credential={FAKE_ACCESS_KEY_ID}/" in call.headers["authorization"]
    assert "x-amz-date" in call.headers


async def test_the_output_limit_is_a_max_tokens_stop(bedrock_fake: RunningFake[FakeBedrockState]) -> None:
    bedrock_fake.state.script.add(Text("cut"), MaxTokens(), Usage(5, 5))

    events = await events_of(bedrock_model())

    assert {"messageStop": {"stopReason": "max_tokens"}} in events


async def test_an_image_is_sent_as_base64_as_botocore_sends_blobs(bedrock_fake: RunningFake[FakeBedrockState]) -> None:
    bedrock_fake.state.script.add(Text("A cat."), Usage(5, 2))
    image = {"image": {"format": "png", "source": {"bytes": b"\x89PNG-bytes"}}}

    await events_of(bedrock_model(), [{"role": "user", "content": [{"text": "What is it?"}, image]}])

    sent = bedrock_fake.state.chat_calls[0].body["messages"][0]["content"][1]
    assert base64.b64decode(sent["image"]["source"]["bytes"]) == b"\x89PNG-bytes"


@pytest.mark.parametrize(
    ("failure", "raised", "code"),
    [
        (Fail(status=429, message="slow down"), ModelThrottledException, "provider_throttled"),
        (Fail(status=400, message="Input is too long for requested model"), ContextWindowOverflowException, None),
        (Fail(status=403, message="denied"), BedrockStatusError, "provider_auth_failed"),
        (Fail(status=500, message="boom"), BedrockStatusError, "provider_error"),
        (StreamError("slow down", status=429), ModelThrottledException, "provider_throttled"),
        (StreamError("prompt is too long", status=400), ContextWindowOverflowException, None),
        (StreamError("broke off", status=500), BedrockStatusError, "provider_error"),
        (Drop(), aiohttp.ClientPayloadError, "provider_unreachable"),
    ],
)
async def test_failures_keep_their_stream_error_codes(
    bedrock_fake: RunningFake[FakeBedrockState], failure: Any, raised: type[Exception], code: str | None
) -> None:
    if isinstance(failure, Fail):
        bedrock_fake.state.script.add(failure)
    else:
        bedrock_fake.state.script.add(Text("partial"), failure)

    with pytest.raises(raised) as caught:
        await events_of(bedrock_model())

    translated = provider_failure(caught.value, "bedrock")
    assert translated is not None
    assert translated.code == (code or "context_window_exceeded")
    assert len(bedrock_fake.state.chat_calls) == 1, "no retry: the client decides"


async def test_a_stalled_stream_times_out_as_unreachable(bedrock_fake: RunningFake[FakeBedrockState]) -> None:
    bedrock_fake.state.script.add(Text("par"), Text("tial", delay_seconds=2.0))

    # Any of aiohttp's timeouts: on a loaded machine the first connection can be what runs out of time.
    with pytest.raises(aiohttp.ServerTimeoutError) as caught:
        await events_of(bedrock_model(timeout_seconds=0.5))

    assert (translated := provider_failure(caught.value, "bedrock")) is not None
    assert translated.code == "provider_unreachable"


async def test_an_unreachable_endpoint_is_provider_unreachable(
    bedrock_fake: RunningFake[FakeBedrockState], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", closed_port_url())

    with pytest.raises(aiohttp.ClientConnectorError) as caught:
        await events_of(bedrock_model())

    assert (translated := provider_failure(caught.value, "bedrock")) is not None
    assert translated.code == "provider_unreachable"


async def test_a_mixed_tool_result_turn_is_sent_again_separated_as_strands_does(
    bedrock_fake: RunningFake[FakeBedrockState],
) -> None:
    bedrock_fake.state.script.add(Fail(400, _TOOL_RESULT_TURN_VALIDATION_MESSAGE)).add(Text("Five."), Usage(9, 1))
    messages = [
        {"role": "user", "content": [{"text": "Add 2 and 3"}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "add", "input": {"a": 2}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "5"}]}}]},
        {"role": "user", "content": [{"text": "and so?"}]},
    ]

    events = await events_of(bedrock_model(), messages, tool_specs=TOOLS)

    assert {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "Five."}}} in events
    first, second = (call.body["messages"] for call in bedrock_fake.state.chat_calls)
    assert [m["role"] for m in first][-2:] == ["user", "user"]
    assert second[-2] == {"role": "assistant", "content": [{"text": "Tool result received."}]}


async def test_calls_reuse_one_kept_alive_connection(bedrock_fake: RunningFake[FakeBedrockState]) -> None:
    for _ in range(3):
        bedrock_fake.state.script.add(Text("hi"), Usage(1, 1))
    model = bedrock_model()

    for _ in range(3):
        await events_of(model)

    assert len({request.client_port for request in bedrock_fake.state.requests}) == 1, "one connection, kept alive"


# Frames the fake does not send, played in small pieces by a loopback server of the test's own ------------------


@pytest.fixture
def played(monkeypatch: pytest.MonkeyPatch, no_provider_environment: None) -> Iterator[list[bytes]]:
    """A ConverseStream endpoint answering the frames the test puts in the list, 7 bytes per HTTP chunk."""
    frames: list[bytes] = []

    async def converse_stream(request: Request) -> StreamingResponse:
        data = b"".join(frames)

        async def pieces() -> AsyncIterator[bytes]:
            for start in range(0, len(data), 7):
                yield data[start : start + 7]

        return StreamingResponse(pieces(), media_type="application/vnd.amazon.eventstream")

    app = Starlette(routes=[Route("/model/{model_id:path}/converse-stream", converse_stream, methods=["POST"])])
    with serve(app) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
        yield frames


def delta(delta: dict[str, Any]) -> bytes:
    return event_message("contentBlockDelta", {"contentBlockIndex": 0, "delta": delta})


async def test_reasoning_keeps_its_signature_and_redacted_content_across_split_reads(played: list[bytes]) -> None:
    played += [
        event_message("messageStart", {"role": "assistant"}),
        delta({"reasoningContent": {"text": "Thinking."}}),
        delta({"reasoningContent": {"signature": "sig-123"}}),
        delta({"reasoningContent": {"redactedContent": base64.b64encode(b"\x00secret").decode()}}),
        event_message("contentBlockStop", {"contentBlockIndex": 0}),
        event_message("messageStop", {"stopReason": "end_turn"}),
    ]

    events = await events_of(bedrock_model())

    deltas = [e["contentBlockDelta"]["delta"]["reasoningContent"] for e in events if "contentBlockDelta" in e]
    assert deltas == [{"text": "Thinking."}, {"signature": "sig-123"}, {"redactedContent": b"\x00secret"}]
    assert events[-1] == {"messageStop": {"stopReason": "end_turn"}}


async def test_an_error_message_mid_stream_is_a_provider_error(played: list[bytes]) -> None:
    error = encode_message({":message-type": "error", ":error-code": "InternalFailure", ":error-message": "oops"}, b"")
    played += [event_message("messageStart", {"role": "assistant"}), delta({"text": "par"}), error]

    with pytest.raises(BedrockStatusError) as caught:
        await events_of(bedrock_model())

    assert (translated := provider_failure(caught.value, "bedrock")) is not None
    assert translated.code == "provider_error"


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(lambda frame: frame[:-1] + bytes([frame[-1] ^ 0xFF]), id="bad checksum"),
        pytest.param(lambda frame: frame[:-3], id="stream ends inside a message"),
    ],
)
async def test_a_malformed_stream_is_a_provider_error(played: list[bytes], broken: Any) -> None:
    played += [event_message("messageStart", {"role": "assistant"}), broken(delta({"text": "par"}))]

    with pytest.raises(ProviderError) as caught:
        await events_of(bedrock_model())

    assert caught.value.code == "provider_error"
