"""The OpenAI path's own stream parser against the OpenAI fake on loopback: what it yields to Strands (text,
reasoning, tool calls, stop reasons, usage with cached tokens), how each failure is raised and then translated
into the same `stream_error` codes, and that turns reuse one connection to the provider."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from strands.types.exceptions import ContextWindowOverflowException, ModelThrottledException

from apis.shared.config import InferenceSettings, ProviderSettings
from apis.shared.errors import ProviderError
from apis.shared.models import ManagedModel
from apis.shared.providers.chat_models import TurnOptions, build_chat_model
from apis.shared.providers.failures import provider_failure
from apis.shared.providers.openai_stream import OpenAIStreamModel
from apis.shared.providers.provider_http import ProviderHttp
from tests.fakes.openai_server import FakeOpenAIState
from tests.fakes.scripts import Fail, MaxTokens, Reasoning, StreamError, Text, ToolCall, Usage
from tests.fakes.server import RunningFake

MESSAGES: list[Any] = [{"role": "user", "content": [{"text": "Hello"}]}]


def openai_model(fake: RunningFake[FakeOpenAIState], **options: Any) -> OpenAIStreamModel:
    managed = ManagedModel.model_validate(
        {
            "id": "m-openai",
            "modelId": "gpt-fake",
            "modelName": "GPT fake",
            "provider": "openai",
            "createdAt": "2026-01-01T00:00:00.000000Z",
            "updatedAt": "2026-01-01T00:00:00.000000Z",
        }
    )
    providers = ProviderSettings.model_construct(
        openai_api_key="sk-fake", openai_base_url=fake.url, provider_timeout_seconds=5.0
    )
    model = build_chat_model(
        managed, TurnOptions(**options), providers=providers, inference=InferenceSettings(), region="us-east-1"
    )
    assert isinstance(model, OpenAIStreamModel)
    return model


async def events_of(model: OpenAIStreamModel, **kwargs: Any) -> list[dict[str, Any]]:
    return [dict(event) async for event in model.stream(MESSAGES, **kwargs)]


async def test_text_and_reasoning_stream_with_usage_and_cached_tokens(
    openai_fake: RunningFake[FakeOpenAIState],
) -> None:
    openai_fake.state.script.add(
        Reasoning("Thinking it over."), Text("Hello"), Text(", Ada."), Usage(100, 20, cache_read=40)
    )

    events = await events_of(openai_model(openai_fake, temperature=0.2, max_tokens=50))

    assert events[0] == {"messageStart": {"role": "assistant"}}
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
    assert events[2]["contentBlockDelta"]["delta"] == {"reasoningContent": {"text": "Thinking it over."}}
    texts = [e["contentBlockDelta"]["delta"].get("text") for e in events if "contentBlockDelta" in e]
    assert "".join(text for text in texts if text) == "Hello, Ada."
    assert events[-2] == {"messageStop": {"stopReason": "end_turn"}}
    usage = events[-1]["metadata"]["usage"]
    assert usage == {"inputTokens": 140, "outputTokens": 20, "totalTokens": 160, "cacheReadInputTokens": 40}
    sent = openai_fake.state.chat_calls[0].body
    assert sent["model"] == "gpt-fake"
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert (sent["temperature"], sent["max_tokens"]) == (0.2, 50)


async def test_a_tool_call_is_yielded_whole_with_its_arguments(openai_fake: RunningFake[FakeOpenAIState]) -> None:
    openai_fake.state.script.add(ToolCall(id="call-7", name="add", arguments={"a": 2, "b": 3}), Usage(10, 5))
    tool_specs = [{"name": "add", "description": "adds", "inputSchema": {"json": {"type": "object"}}}]

    events = await events_of(openai_model(openai_fake), tool_specs=tool_specs)

    start = next(e for e in events if "contentBlockStart" in e and e["contentBlockStart"]["start"])
    assert start["contentBlockStart"]["start"] == {"toolUse": {"name": "add", "toolUseId": "call-7"}}
    pieces = [e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e]
    assert json.loads("".join(pieces)) == {"a": 2, "b": 3}
    assert {"messageStop": {"stopReason": "tool_use"}} in events
    assert openai_fake.state.chat_calls[0].body["tools"][0]["function"]["name"] == "add"


async def test_the_output_limit_is_a_max_tokens_stop(openai_fake: RunningFake[FakeOpenAIState]) -> None:
    openai_fake.state.script.add(Text("cut"), MaxTokens(), Usage(5, 5))

    events = await events_of(openai_model(openai_fake))

    assert {"messageStop": {"stopReason": "max_tokens"}} in events


@pytest.mark.parametrize(
    ("failure", "raised", "code"),
    [
        (Fail(status=429, message="slow down"), ModelThrottledException, "provider_throttled"),
        (
            Fail(status=400, message="This model's maximum context length is 8192", code="context_length_exceeded"),
            ContextWindowOverflowException,
            "context_window_exceeded",
        ),
        (Fail(status=401, message="bad key"), Exception, "provider_auth_failed"),
        (Fail(status=500, message="boom"), Exception, "provider_error"),
        (StreamError(message="broke off"), ProviderError, "provider_error"),
    ],
)
async def test_failures_keep_their_stream_error_codes(
    openai_fake: RunningFake[FakeOpenAIState], failure: Any, raised: type[Exception], code: str
) -> None:
    if isinstance(failure, StreamError):
        openai_fake.state.script.add(Text("partial"), failure)
    else:
        openai_fake.state.script.add(failure)

    with pytest.raises(raised) as caught:
        await events_of(openai_model(openai_fake))

    translated = provider_failure(caught.value, "openai")
    assert translated is not None
    assert translated.code == code


async def test_an_unreachable_server_is_provider_unreachable(openai_fake: RunningFake[FakeOpenAIState]) -> None:
    model = openai_model(openai_fake)
    model._url = "http://127.0.0.1:9/v1/chat/completions"

    with pytest.raises(aiohttp.ClientConnectorError) as caught:
        await events_of(model)

    translated = provider_failure(caught.value, "openai")
    assert translated is not None
    assert translated.code == "provider_unreachable"


async def test_calls_reuse_one_kept_alive_connection(openai_fake: RunningFake[FakeOpenAIState]) -> None:
    for _ in range(3):
        openai_fake.state.script.add(Text("hi"), Usage(1, 1))
    model = openai_model(openai_fake)

    for _ in range(3):
        await events_of(model)

    assert len({request.client_port for request in openai_fake.state.requests}) == 1, "one connection, kept alive"
    assert openai_fake.state.requests[-1].headers["authorization"] == "Bearer sk-fake"


def sse_body(ending: bytes) -> bytes:
    """One completion of two text deltas and usage, its lines ended by `ending`, with a comment line."""
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]},
        {"choices": [{"index": 0, "delta": {"content": "lo."}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}},
    ]
    lines = [b": keep-alive", b""]
    for chunk in chunks:
        lines += [b"data: " + json.dumps(chunk).encode(), b""]
    lines += [b"data: [DONE]", b""]
    return ending.join(lines) + ending


async def raw_sse_server(parts: list[bytes]) -> tuple[asyncio.Server, str]:
    """A server on loopback that answers every request with `parts` as separate HTTP chunks, each written and
    flushed on its own with a pause, so that the client reads them one at a time."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
        )
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        for part in parts:
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
            await asyncio.sleep(0.02)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/v1"


def split_at(body: bytes, *marks: bytes) -> list[bytes]:
    """`body` cut just after the first occurrence of each mark (a CRLF cut between its CR and LF, a line mid-JSON)."""
    parts, rest = [], body
    for mark in marks:
        cut = rest.index(mark) + len(mark)
        parts.append(rest[:cut])
        rest = rest[cut:]
    return [*parts, rest]


@pytest.mark.parametrize(
    ("ending", "marks"),
    [
        pytest.param(b"\n", [b'"Hel', b"\n"], id="lf-cut-mid-json"),
        pytest.param(b"\r\n", [b"keep-alive\r", b'"conte'], id="crlf-cut-between-cr-and-lf"),
        pytest.param(b"\r", [b"keep-alive\r", b'"lo.', b"[DONE]"], id="cr-only"),
    ],
)
async def test_events_are_read_whatever_the_line_endings_and_wherever_the_reads_split(
    ending: bytes, marks: list[bytes]
) -> None:
    server, url = await raw_sse_server(split_at(sse_body(ending), *marks))
    http = ProviderHttp(timeout_seconds=5)
    async with server:
        model = OpenAIStreamModel(http=http, base_url=url, api_key="sk", model_id="gpt-fake", params={})
        events = await events_of(model)
        await http.aclose()

    texts = [e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e]
    assert texts == ["Hel", "lo."]
    assert {"messageStop": {"stopReason": "end_turn"}} in events
    assert events[-1]["metadata"]["usage"] == {"inputTokens": 7, "outputTokens": 2, "totalTokens": 9}


async def proxy_server(answer: bytes) -> tuple[asyncio.Server, str, list[bytes]]:
    """A forward proxy on loopback that answers every request itself with `answer`; the request lines it got."""
    request_lines: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_lines.append(head.split(b"\r\n", 1)[0])
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
        )
        await reader.readexactly(length)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: %d\r\n\r\n%s"
            % (len(answer), answer)
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", request_lines


async def test_the_stream_goes_through_the_proxy_the_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY is honoured, as httpx honoured it (the provider's own host need not even resolve here), and
    NO_PROXY exempts a host."""
    server, proxy_url, request_lines = await proxy_server(sse_body(b"\n"))
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    http = ProviderHttp(timeout_seconds=5)
    async with server:
        proxied = OpenAIStreamModel(
            http=http, base_url="http://provider.invalid/v1", api_key="sk", model_id="gpt-fake", params={}
        )
        texts = [e["contentBlockDelta"]["delta"]["text"] for e in await events_of(proxied) if "contentBlockDelta" in e]
        monkeypatch.setenv("NO_PROXY", "exempt.invalid")
        direct = ProviderHttp(timeout_seconds=5)
        exempt = OpenAIStreamModel(
            http=direct,
            base_url="http://exempt.invalid/v1",
            api_key="sk",
            model_id="m",
            params={},
        )
        with pytest.raises(aiohttp.ClientConnectorError):
            await events_of(exempt)
        await http.aclose()
        await direct.aclose()

    assert texts == ["Hel", "lo."]
    assert request_lines == [b"POST http://provider.invalid/v1/chat/completions HTTP/1.1"]
