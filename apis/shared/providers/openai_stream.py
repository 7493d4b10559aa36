"""OpenAI-compatible chat completions, streamed and parsed here rather than through the OpenAI SDK.

The SDK builds a pydantic object (with its type checks) for every chunk of a stream: about two thirds of a
turn's CPU on the OpenAI path went there (issue 16's profile). This model keeps Strands' OpenAI model for what it
does once per call — the request (messages, tools, tool choice, prompt caching) — and reads the server-sent
events itself: one `orjson.loads` per chunk, Strands' stream events built directly. The HTTP client is one pooled
session per model (provider_http.py; a model is cached per configuration and event loop, chat_models.py), so
turns reuse kept-alive connections to the provider instead of opening one each.

What users relied on is kept: text, tool-call deltas (assembled per index, as the SDK path does), the reasoning
fields of OpenAI-compatible servers (`reasoning_content`, `reasoning`), usage with cached and cache-written input
tokens, the finish reason, and the same failures — a 429 is Strands' throttling exception, a context overflow
its overflow exception, other statuses and transport failures map to the same `stream_error` codes through
failures.py (`OpenAIStatusError` carries the status), and an error the server sends inside its stream is a
provider error.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import orjson
from strands.models.openai import OpenAIModel
from strands.types.event_loop import Usage
from strands.types.exceptions import ContextWindowOverflowException, ModelThrottledException
from strands.types.streaming import StreamEvent

from apis.shared.errors import ProviderError
from apis.shared.providers.provider_http import ProviderHttp, ProviderResponse
from apis.shared.providers.sse_lines import sse_line_batches
from apis.shared.providers.status_errors import ProviderStatusError

_STOP_REASONS = {"tool_calls": "tool_use", "length": "max_tokens", "content_filter": "content_filtered"}
_OVERFLOW_CODES = frozenset({"context_length_exceeded", "string_above_max_length"})
_OVERFLOW_WORDS = ("maximum context length", "context window", "too many tokens", "context_length_exceeded")
_ERROR_BODY_LIMIT = 64 * 1024


class OpenAIStatusError(ProviderStatusError):
    """The server answered the request with an error status (before any chunk)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(status_code, message, summary=f"HTTP {status_code}: {message}")


class OpenAIStreamModel(OpenAIModel):
    """Strands' OpenAI model with the stream read over our own pooled HTTP client."""

    def __init__(
        self,
        *,
        http: ProviderHttp,
        base_url: str,
        api_key: str,
        model_id: str,
        params: dict[str, Any],
        **rest: Any,
    ) -> None:
        super().__init__(client=None, model_id=model_id, params=params, **rest)
        self._http = http
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "text/event-stream",
            "Content-Type": "application/json",
        }

    async def stream(
        self,
        messages: Any,
        tool_specs: Any = None,
        system_prompt: str | None = None,
        *,
        tool_choice: Any = None,
        agent_metadata: Any = None,
        **kwargs: Any,
    ) -> AsyncGenerator[StreamEvent, None]:
        request = self.format_request(messages, tool_specs, system_prompt, tool_choice, agent_metadata=agent_metadata)
        request["stream"] = True
        request.setdefault("stream_options", {"include_usage": True})
        async with self._http.stream(self._url, body=orjson.dumps(request), headers=self._headers) as response:
            if response.status_code >= 400:
                raise await _refusal(response)
            async for event in _events(_chunk_batches(response)):
                yield event


async def _refusal(response: ProviderResponse) -> Exception:
    """The exception for an error status, as the SDK path raised it (throttling and overflow are Strands')."""
    body = (await response.read())[:_ERROR_BODY_LIMIT].decode("utf-8", "replace")
    error = _error_of(body)
    message = str(error.get("message") or body[:500])
    if response.status_code == 429:
        return ModelThrottledException(message)
    code = str(error.get("code") or "")
    if response.status_code == 400 and (code in _OVERFLOW_CODES or any(w in message.lower() for w in _OVERFLOW_WORDS)):
        return ContextWindowOverflowException(message)
    return OpenAIStatusError(response.status_code, message)


def _error_of(body: str) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return error if isinstance(error, dict) else {}


async def _chunk_batches(response: ProviderResponse) -> AsyncIterator[list[dict[str, Any]]]:
    """The JSON objects of the stream's `data:` lines up to `[DONE]`, a list per network read; an `error` object is
    a provider error.

    The body is read to its end even after `[DONE]`: a response closed before its last byte takes its connection
    with it, and the next turn would open another."""
    done = False
    async for lines in sse_line_batches(response):
        chunks: list[dict[str, Any]] = []
        failure: Exception | None = None
        for line in lines:
            if done or not line.startswith(b"data:"):
                continue  # blank separators, comments (": keep-alive"), other SSE fields, and what follows [DONE]
            data = line[5:].strip()
            if data == b"[DONE]":
                done = True
                continue
            try:
                chunk = orjson.loads(data)
            except orjson.JSONDecodeError as exc:  # raised below, once the chunks before it are passed on
                failure = exc
                break
            if "error" in chunk:
                failure = ProviderError("OpenAI failed while answering", code="provider_error")
                break
            chunks.append(chunk)
        # What came before a failure in the same read still counts: the answer so far is stored and shown.
        if chunks:
            yield chunks
        if failure is not None:
            raise failure


async def _events(batches: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[StreamEvent]:
    """Strands' stream events for a chat completion's chunks, in the order Strands' OpenAI model makes them:
    text and reasoning as they come, tool calls whole after the content, the stop, then usage."""
    yield {"messageStart": {"role": "assistant"}}
    open_kind: str | None = None
    tool_calls: dict[int, dict[str, Any]] = {}
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    async for batch in batches:
        for chunk in batch:
            usage = chunk.get("usage") or usage
            choices = chunk.get("choices")
            if not choices or finish_reason is not None:
                continue
            choice = choices[0]
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                for event in _switch(open_kind, "reasoning"):
                    yield event
                open_kind = "reasoning"
                yield {"contentBlockDelta": {"delta": {"reasoningContent": {"text": reasoning}}}}
            content = delta.get("content")
            if content:
                for event in _switch(open_kind, "text"):
                    yield event
                open_kind = "text"
                yield {"contentBlockDelta": {"delta": {"text": content}}}
            for call in delta.get("tool_calls") or ():
                _add_tool_delta(tool_calls, call)
            if choice.get("finish_reason"):
                finish_reason = choice["finish_reason"]
                if open_kind is not None:
                    yield {"contentBlockStop": {}}
                    open_kind = None
    if open_kind is not None:  # a stream that ended without a finish reason
        yield {"contentBlockStop": {}}
    for call in tool_calls.values():
        yield {"contentBlockStart": {"start": {"toolUse": {"name": call["name"], "toolUseId": call["id"]}}}}
        for piece in call["arguments"]:
            yield {"contentBlockDelta": {"delta": {"toolUse": {"input": piece}}}}
        yield {"contentBlockStop": {}}
    yield {"messageStop": {"stopReason": _STOP_REASONS.get(finish_reason or "", "end_turn")}}  # type: ignore[typeddict-item]
    if usage:
        yield {"metadata": {"usage": _usage(usage), "metrics": {"latencyMs": 0}}}


def _switch(open_kind: str | None, kind: str) -> list[StreamEvent]:
    if open_kind == kind:
        return []
    events: list[StreamEvent] = [{"contentBlockStop": {}}] if open_kind is not None else []
    events.append({"contentBlockStart": {"start": {}}})
    return events


def _add_tool_delta(tool_calls: dict[int, dict[str, Any]], call: dict[str, Any]) -> None:
    """Collect one tool call's pieces by index: its id and name arrive first, its arguments in pieces."""
    entry = tool_calls.setdefault(int(call.get("index", 0)), {"id": None, "name": None, "arguments": []})
    function = call.get("function") or {}
    entry["id"] = entry["id"] or call.get("id")
    entry["name"] = entry["name"] or function.get("name")
    entry["arguments"].append(function.get("arguments") or "")


def _usage(usage: dict[str, Any]) -> Usage:
    counted: Usage = {
        "inputTokens": int(usage.get("prompt_tokens") or 0),
        "outputTokens": int(usage.get("completion_tokens") or 0),
        "totalTokens": int(usage.get("total_tokens") or 0),
    }
    details = usage.get("prompt_tokens_details") or {}
    if isinstance(details.get("cached_tokens"), int):
        counted["cacheReadInputTokens"] = details["cached_tokens"]
    if isinstance(details.get("cache_write_tokens"), int):
        counted["cacheWriteInputTokens"] = details["cache_write_tokens"]
    return counted
