"""Gemini's streamGenerateContent, read here rather than through google-genai's stream (issue 16).

The SDK builds a pydantic `GenerateContentResponse` for every chunk (and walks it twice to drop unknown fields):
about half of a Gemini turn's CPU. This model keeps Strands' Gemini model and the SDK for what they do once per
call — the request: Strands' contents, tools and config, turned into the Developer API's JSON by the SDK's own
converter (gemini_wire.py), so the body is the JSON the SDK sends — and reads the server-sent events itself over one
pooled session per model (provider_http.py): one `orjson.loads` per chunk, Strands' stream events built directly, in the
order Strands' Gemini model makes them.

Kept as the SDK path had them: text, thought parts as reasoning (and thought signatures), function calls whole
(with Gemini's id or one made up, as Strands does), finish reasons, usage with cached tokens, automatic
continuation (a stream that stops with CONTINUATION and a token is followed by the next hop, usage summed). The
failures: throttling (429, RESOURCE_EXHAUSTED, UNAVAILABLE on a 4xx) is Strands' throttling exception, a prompt
over the token limit its overflow exception, and other errors — an error status, or an error object inside the
stream — `GeminiStatusError` with the code, mapped by failures.py as the SDK's APIError was.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import orjson
from google import genai
from strands.models.gemini import GeminiModel
from strands.types.event_loop import Usage
from strands.types.exceptions import ContextWindowOverflowException, ModelThrottledException
from strands.types.streaming import StreamEvent

from apis.shared.providers.gemini_wire import GeminiWire
from apis.shared.providers.provider_http import ProviderHttp, ProviderResponse
from apis.shared.providers.sse_lines import sse_line_batches
from apis.shared.providers.status_errors import ProviderStatusError

_STOP_REASONS = {"MAX_TOKENS": "max_tokens", "SAFETY": "guardrail_intervened", "RECITATION": "content_filtered"}
_THROTTLING_STATUSES = frozenset({"RESOURCE_EXHAUSTED", "UNAVAILABLE"})
_OVERFLOW_WORDS = "exceeds the maximum number of tokens"
_CONTINUATION = "CONTINUATION"
_MAX_HOPS = 32
_ERROR_BODY_LIMIT = 64 * 1024


class GeminiStatusError(ProviderStatusError):
    """Gemini refused the call (an error status) or sent an error object inside its stream."""

    def __init__(self, status_code: int, status: str, message: str) -> None:
        super().__init__(status_code, message, summary=f"{status_code} {status}: {message}")
        self.status = status


class GeminiStreamModel(GeminiModel):
    """Strands' Gemini model with the stream read over our own pooled HTTP client."""

    def __init__(self, *, http: ProviderHttp, client: genai.Client, timeout_seconds: float, **config: Any) -> None:
        super().__init__(client=client, **config)
        self._http = http
        options = client._api_client._http_options
        self._wire = GeminiWire(client._api_client)
        self._base = f"{(options.base_url or '').rstrip('/')}/{options.api_version}/"
        self._headers = {
            **(options.headers or {}),
            "X-Server-Timeout": str(math.ceil(timeout_seconds)),
            "Content-Type": "application/json",
        }

    async def stream(
        self,
        messages: Any,
        tool_specs: Any = None,
        system_prompt: str | None = None,
        *,
        tool_choice: Any = None,
        **kwargs: Any,
    ) -> AsyncGenerator[StreamEvent, None]:
        request = self._format_request(
            messages, tool_specs, system_prompt, self.config.get("params"), tool_choice=tool_choice
        )
        state = _TurnState()
        token: bytes | None = None
        for _ in range(_MAX_HOPS):
            path, body = self._wire.request(request, token)
            async with self._http.stream(self._base + path, body=body, headers=self._headers) as response:
                if response.status_code >= 400:
                    raise _raised(await _refusal(response))
                if state.hops == 0:
                    yield {"messageStart": {"role": "assistant"}}
                async for event in state.hop(_chunks(response)):
                    yield event
            if state.finish_reason != _CONTINUATION or not state.token:
                break
            token = base64.urlsafe_b64decode(_padded(state.token))
        for event in state.end():
            yield event


class _TurnState:
    """What Strands' Gemini model tracks across a turn's chunks (and continuation hops)."""

    def __init__(self) -> None:
        self.hops = 0
        self.open_kind: str | None = None
        self.tool_used = False
        self.finish_reason: str | None = None
        self.token: str | None = None
        self.has_candidate = False
        self.usage: list[dict[str, Any]] = []  # each hop's last usage

    async def hop(self, chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[StreamEvent]:
        self.hops += 1
        self.finish_reason = self.token = None
        usage: dict[str, Any] | None = None
        async for chunk in chunks:
            candidates = chunk.get("candidates")
            candidate = candidates[0] if candidates else None
            self.has_candidate = candidate is not None
            usage = chunk.get("usageMetadata")  # the last chunk's, as Strands reads it
            if candidate is None:
                continue
            self.finish_reason = candidate.get("finishReason")
            self.token = candidate.get("continuationToken") or self.token
            for part in (candidate.get("content") or {}).get("parts") or ():
                for event in self._part(part):
                    yield event
        if usage is not None:
            self.usage.append(usage)

    def _part(self, part: dict[str, Any]) -> list[StreamEvent]:
        text = part.get("text")
        if text and self.open_kind == "text" and len(part) == 1:  # most chunks: more of the text being written
            return [{"contentBlockDelta": {"delta": {"text": text}}}]
        events: list[StreamEvent] = []
        call = part.get("functionCall")
        signature = part.get("thoughtSignature")
        if call:
            events += self._switch(None)
            start: dict[str, Any] = {
                "name": call.get("name"),
                "toolUseId": call.get("id") or f"tooluse_{secrets.token_urlsafe(16)}",
            }
            if signature:
                start["reasoningSignature"] = _standard_base64(signature)
            events.append({"contentBlockStart": {"start": {"toolUse": start}}})  # type: ignore[typeddict-item]
            events.append({"contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps(call.get("args"))}}}})
            events.append({"contentBlockStop": {}})
            self.tool_used = True
        if text:
            kind = "reasoning" if part.get("thought") else "text"
            events += self._switch(kind)
            delta: dict[str, Any] = {"reasoningContent": {"text": text}} if kind == "reasoning" else {"text": text}
            events.append({"contentBlockDelta": {"delta": delta}})  # type: ignore[typeddict-item]
        if signature and not call:
            events += self._switch("reasoning")
            signed = {"reasoningContent": {"signature": _standard_base64(signature)}}
            events.append({"contentBlockDelta": {"delta": signed}})  # type: ignore[typeddict-item]
        return events

    def _switch(self, kind: str | None) -> list[StreamEvent]:
        """Close the open block unless it is of `kind`, and open one of `kind` (None: close only)."""
        if kind is not None and self.open_kind == kind:
            return []
        events: list[StreamEvent] = [{"contentBlockStop": {}}] if self.open_kind is not None else []
        self.open_kind = kind
        if kind is not None:
            events.append({"contentBlockStart": {"start": {}}})
        return events

    def end(self) -> list[StreamEvent]:
        events = self._switch(None)
        if self.tool_used:
            stop = "tool_use"
        elif not self.has_candidate:
            stop = "end_turn"
        else:
            stop = _STOP_REASONS.get(self.finish_reason or "", "end_turn")
        events.append({"messageStop": {"stopReason": stop}})  # type: ignore[typeddict-item]
        if self.usage:
            events.append({"metadata": {"usage": _usage(self.usage), "metrics": {"latencyMs": 0}}})
        return events


async def _chunks(response: ProviderResponse) -> AsyncIterator[dict[str, Any]]:
    """The JSON objects of the stream's events (their `data:` lines joined); an error object raises.

    The body is read to its end, so that its connection goes back to the pool."""
    data: list[bytes] = []
    async for lines in sse_line_batches(response):
        for line in lines:
            if line.startswith(b"data:"):
                data.append(line[5:].lstrip(b" "))
            elif not line and data:
                yield _chunk(data[0] if len(data) == 1 else b"\n".join(data))
                data = []
    if data:
        yield _chunk(b"\n".join(data))


def _chunk(data: bytes) -> dict[str, Any]:
    chunk = orjson.loads(data)
    if not isinstance(chunk, dict):
        raise GeminiStatusError(500, "INTERNAL", "an event that is not a JSON object")
    if "error" in chunk:
        raise _raised(_failure(0, chunk, ""))
    return chunk


async def _refusal(response: ProviderResponse) -> GeminiStatusError:
    raw = (await response.read())[:_ERROR_BODY_LIMIT].decode("utf-8", "replace")
    try:
        body = json.loads(raw)
    except ValueError:
        body = {}
    return _failure(response.status_code, body, raw or response.reason_phrase)


def _failure(status_code: int, body: Any, fallback: str) -> GeminiStatusError:
    """The code, status and message of Google's error body, found where the SDK's APIError finds them."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = status_code or int(error.get("code") or 500)
    return GeminiStatusError(code, str(error.get("status") or ""), str(error.get("message") or fallback[:500]))


def _raised(failure: GeminiStatusError) -> Exception:
    """What Strands' Gemini model raised for the SDK's error: throttling and overflow are its own."""
    if 400 <= failure.status_code < 500:
        if failure.status_code == 429 or failure.status in _THROTTLING_STATUSES:
            return ModelThrottledException(failure.message or str(failure))
        if failure.status == "INVALID_ARGUMENT" and _OVERFLOW_WORDS in failure.message:
            return ContextWindowOverflowException(failure.message)
    return failure


def _usage(hops: list[dict[str, Any]]) -> Usage:
    """Strands' usage from Gemini's usage metadata, summed over continuation hops as the SDK sums them."""

    def total(name: str) -> int:
        return sum(int(usage.get(name) or 0) for usage in hops)

    input_tokens = total("promptTokenCount") + total("toolUsePromptTokenCount")
    total_tokens = total("totalTokenCount")
    has_candidates = any(usage.get("candidatesTokenCount") is not None for usage in hops)
    output = (
        total("candidatesTokenCount") + total("thoughtsTokenCount")
        if has_candidates
        else max(0, total_tokens - input_tokens)
    )
    counted: Usage = {"inputTokens": input_tokens, "outputTokens": output, "totalTokens": total_tokens}
    if cached := total("cachedContentTokenCount"):
        counted["cacheReadInputTokens"] = cached
    return counted


def _padded(value: str) -> str:
    return value + "=" * (-len(value) % 4)


def _standard_base64(value: str) -> str:
    """A bytes field as Strands writes it (standard base64), whichever alphabet Google sent it in."""
    return base64.b64encode(base64.urlsafe_b64decode(_padded(value))).decode("ascii")
