"""A fake of the OpenAI API (and of OpenAI-compatible servers) for the real `openai` SDK.

Point the SDK at `<url>/v1`. It serves `GET /v1/models` as OpenAI does, in one unpaginated list; with
`api_key` set it refuses any other bearer token with OpenAI's 401 body. `POST /v1/chat/completions` answers
from the state's script: with `stream: true` as `chat.completion.chunk` server-sent events ending in
`data: [DONE]` (a usage chunk before it when `stream_options.include_usage` is set), else as one
`chat.completion`. Reasoning goes out as `delta.reasoning_content`, as OpenAI-compatible servers send it.

`POST /v1/embeddings` answers a string or a list of strings with one `embedding` per input, in order, of the
requested `dimensions` (else the model's full size), as JSON floats or, with `encoding_format: "base64"` (what
the SDK asks for unless told otherwise), as base64 of little-endian float32; vectors from
tests/fakes/embedding_vectors.py, driven by the state's `embeddings` script.
"""

from __future__ import annotations

import base64
import struct
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.embedding_vectors import EmbeddingCall, EmbeddingScript, token_count
from tests.fakes.scripts import (
    Content,
    MaxTokens,
    Reasoning,
    StreamError,
    Text,
    ToolCall,
    Turn,
    Usage,
    answer_text,
    argument_fragments,
    reasoning_text,
    stop_reason,
    usage,
)
from tests.fakes.server import (
    FakeProviderState,
    RunningFake,
    ScriptedStream,
    fake_app,
    json_body,
    serve,
    sse_event,
    take_turn,
    whole_answer,
)

API_PREFIX = "/v1"
DEFAULT_CREATED = 1_700_000_000
FINISH_REASONS = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length"}
DONE = b"data: [DONE]\n\n"
# Full vector sizes of OpenAI's embedding models; a model the fake does not know answers EMBEDDING_SIZE_OTHERS,
# as a compatible server's model would (nomic-embed-text on Ollama).
EMBEDDING_SIZES = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
EMBEDDING_SIZE_OTHERS = 768
MAX_EMBEDDING_INPUTS = 2048

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
}


def openai_model(model_id: str, *, owned_by: str = "openai", created: int = DEFAULT_CREATED) -> dict[str, Any]:
    """A model as `GET /v1/models` describes it."""
    return {"id": model_id, "object": "model", "created": created, "owned_by": owned_by}


@dataclass
class FakeOpenAIState(FakeProviderState):
    models: list[dict[str, Any]] = field(default_factory=list)
    # When set, a request without `Authorization: Bearer <api_key>` is refused, as OpenAI does.
    api_key: str | None = None
    # What `/v1/embeddings` answers, and each call it got.
    embeddings: EmbeddingScript = field(default_factory=EmbeddingScript)


def _error_body(status: int, message: str, code: str | None) -> dict[str, Any]:
    error_type = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


def openai_error(status: int, message: str, *, code: str | None = None) -> Response:
    """An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`."""
    return JSONResponse(_error_body(status, message, code), status_code=status)


def openai_usage(reported: Usage) -> dict[str, Any]:
    """Usage as OpenAI counts it: cached tokens are part of `prompt_tokens`, and detailed apart."""
    prompt = reported.input_tokens + reported.cache_read + reported.cache_write
    details: dict[str, Any] = {"cached_tokens": reported.cache_read, "audio_tokens": 0}
    if reported.cache_write:
        details["cache_write_tokens"] = reported.cache_write
    return {
        "prompt_tokens": prompt,
        "completion_tokens": reported.output_tokens,
        "total_tokens": prompt + reported.output_tokens,
        "prompt_tokens_details": details,
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


class OpenAIStream:
    """Writes a turn as OpenAI streams a chat completion: one `chat.completion.chunk` event per delta."""

    def __init__(self, turn: Turn, model: str, *, include_usage: bool) -> None:
        self.turn = turn
        self.model = model
        self.include_usage = include_usage
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.tool_calls = 0

    def _chunk(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": choices,
        }
        if self.include_usage:
            chunk["usage"] = None
        return sse_event({**chunk, **extra})

    def _delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        return self._chunk([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}])

    def opening(self) -> list[bytes]:
        return [self._delta({"role": "assistant", "content": "", "refusal": None})]

    def step(self, step: Content) -> list[bytes]:
        match step:
            case Text(text=text):
                return [self._delta({"content": text})]
            case Reasoning(text=text):
                return [self._delta({"reasoning_content": text})]
            case ToolCall():
                return self._tool_call(step)
            case Usage() | MaxTokens():
                return []

    def _tool_call(self, call: ToolCall) -> list[bytes]:
        index, self.tool_calls = self.tool_calls, self.tool_calls + 1
        head = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
        frames = [self._delta({"tool_calls": [head]})]
        for fragment in argument_fragments(call.arguments):
            frames.append(self._delta({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}))
        return frames

    def stream_error(self, error: StreamError) -> list[bytes]:
        # OpenAI sends an error object in place of a chunk; the SDK raises APIError from it.
        return [sse_event(_error_body(error.status, error.message, None))]

    def closing(self) -> list[bytes]:
        frames = [self._delta({}, FINISH_REASONS[stop_reason(self.turn)])]
        if self.include_usage:
            frames.append(self._chunk([], usage=openai_usage(usage(self.turn))))
        return [*frames, DONE]


def chat_completion(turn: Turn, model: str) -> dict[str, Any]:
    """The whole answer as one `chat.completion`, for calls made with `stream: false`."""
    message: dict[str, Any] = {"role": "assistant", "content": answer_text(turn) or None, "refusal": None}
    if reasoning := reasoning_text(turn):
        message["reasoning_content"] = reasoning
    calls = [step for step in turn if isinstance(step, ToolCall)]
    if calls:
        message["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": "".join(fragments)}}
            for call in calls
            for fragments in [argument_fragments(call.arguments)]
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": FINISH_REASONS[stop_reason(turn)]}
        ],
        "usage": openai_usage(usage(turn)),
    }


def _embedding_inputs(body: Any) -> list[str] | None:
    """The texts of an embeddings request; None unless a non-empty string or 1 to 2048 of them (no tokens)."""
    raw = body.get("input") if isinstance(body, dict) else None
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not 0 < len(texts) <= MAX_EMBEDDING_INPUTS:
        return None
    return texts if all(isinstance(text, str) and text for text in texts) else None


def _dimensions_refusal(model: str, dimensions: Any) -> str | None:
    """Why OpenAI would refuse the requested `dimensions` for `model`; None when it takes them."""
    if dimensions is None:
        return None
    if model == "text-embedding-ada-002":
        return "This model does not support specifying dimensions."
    if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1:
        return f"Invalid value for 'dimensions': {dimensions!r}."
    largest = EMBEDDING_SIZES.get(model)
    if largest is not None and dimensions > largest:
        return f"This model's maximum dimensions is {largest}."
    return None


def _encoded(vector: list[float], encoding_format: Any) -> list[float] | str:
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


def create_embeddings(state: FakeOpenAIState, body: Any) -> Response:
    """The answer to `POST /v1/embeddings`: the script's failure, OpenAI's 400 for a bad request, or vectors."""
    texts = _embedding_inputs(body)
    if texts is None:
        return openai_error(400, "'input' must be a non-empty string or a list of 1 to 2048 non-empty strings.")
    model, dimensions = str(body.get("model", "")), body.get("dimensions")
    if (refusal := _dimensions_refusal(model, dimensions)) is not None:
        return openai_error(400, refusal)
    failed = state.embeddings.take(EmbeddingCall(model=model, texts=texts, dimensions=dimensions))
    if failed is not None:
        code = "rate_limit_exceeded" if failed == 429 else None
        return openai_error(failed, f"the fake was told to fail with {failed}", code=code)
    size = dimensions or EMBEDDING_SIZES.get(model, EMBEDDING_SIZE_OTHERS)
    vectors = state.embeddings.vectors(texts, size)
    data = [
        {"object": "embedding", "index": index, "embedding": _encoded(vector, body.get("encoding_format"))}
        for index, vector in enumerate(vectors)
    ]
    tokens = sum(token_count(text) for text in texts)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return JSONResponse({"object": "list", "data": data, "model": model, "usage": usage})


def create_openai_app(state: FakeOpenAIState) -> Starlette:
    """The fake's app, driven by `state`."""

    def refused(request: Request) -> Response | None:
        if state.api_key is None or request.headers.get("authorization") == f"Bearer {state.api_key}":
            return None
        return openai_error(401, "Incorrect API key provided.", code="invalid_api_key")

    async def list_models(request: Request) -> Response:
        return refused(request) or JSONResponse({"object": "list", "data": list(state.models)})

    async def chat_completions(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        body = await json_body(request)
        if not isinstance(body, dict):
            return openai_error(400, "We could not parse the JSON body of your request.")
        model, stream = str(body.get("model", "")), body.get("stream") is True
        turn = await take_turn(state, request, body, openai_error, model=model, stream=stream)
        if isinstance(turn, Response):
            return turn
        if not stream:
            return await whole_answer(turn, chat_completion(turn, model), openai_error)
        include_usage = (body.get("stream_options") or {}).get("include_usage") is True
        encoder = OpenAIStream(turn, model, include_usage=include_usage)
        return ScriptedStream(turn, encoder, state.stream_outcomes, media_type="text/event-stream")

    async def embeddings(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        async with state.embeddings.answering():
            return create_embeddings(state, await json_body(request))

    routes = [
        Route(f"{API_PREFIX}/models", list_models, methods=["GET"]),
        Route(f"{API_PREFIX}/chat/completions", chat_completions, methods=["POST"]),
        Route(f"{API_PREFIX}/embeddings", embeddings, methods=["POST"]),
    ]
    return fake_app(routes, state, openai_error)


@contextmanager
def running_openai(state: FakeOpenAIState | None = None) -> Iterator[RunningFake[FakeOpenAIState]]:
    """The fake served on loopback; its `url` is the SDK's base URL (with `/v1`)."""
    state = state if state is not None else FakeOpenAIState()
    with serve(create_openai_app(state)) as url:
        yield RunningFake(url=f"{url}{API_PREFIX}", state=state)
