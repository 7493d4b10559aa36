"""A fake of the Gemini Developer API (`generativelanguage.googleapis.com`) for the real google-genai SDK.

Point the SDK's `base_url` at `url`. It serves `GET /{v1,v1beta}/models` as Google does, in pages of `pageSize`
(capped by `page_size_limit`) chained by an opaque `nextPageToken`; with `api_key` set it refuses any other
`x-goog-api-key` with Google's 400 API_KEY_INVALID body.

`POST /{v1,v1beta}/models/{model}:streamGenerateContent?alt=sse` answers from the state's script as
server-sent `GenerateContentResponse` events (function calls whole, reasoning as `thought` parts, the last
event with `finishReason` and the full `usageMetadata`); `:generateContent` answers one of them.

`:batchEmbedContents` (what the SDK's `embed_content` calls with an API key, for any number of texts) answers
`{"requests": [{"model", "content", "taskType", "outputDimensionality"}]}` (at most 100) with `{"embeddings":
[{"values"}]}`, one per request, in order; `:embedContent` answers one request's body with `{"embedding":
{"values"}}`. Vectors come from tests/fakes/embedding_vectors.py, driven by the state's `embeddings` script;
one call is recorded per HTTP request, with the task type of its requests.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.embedding_vectors import EmbeddingCall, EmbeddingScript
from tests.fakes.scripts import (
    Content,
    Reasoning,
    Step,
    StreamError,
    Text,
    ToolCall,
    Turn,
    Usage,
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

# google-genai 2 asks for v1beta by default (3 for v1; GOOGLE_GENAI_API_VERSION chooses); Google serves both.
API_VERSIONS = ("v1", "v1beta")
CHAT_METHODS = ("generateContent", "countTokens")
EMBEDDING_METHODS = ("embedContent", "countTextTokens")
DEFAULT_PAGE_SIZE = 50
FINISH_REASONS = {"end_turn": "STOP", "tool_use": "STOP", "max_tokens": "MAX_TOKENS"}
# Google ends each server-sent event with a blank line, in CRLF.
SSE_SEPARATOR = "\r\n\r\n"
# Full vector sizes of Google's embedding models; others answer EMBEDDING_SIZE_OTHERS (text-embedding-004's).
EMBEDDING_SIZES = {"gemini-embedding-001": 3072}
EMBEDDING_SIZE_OTHERS = 768
MAX_BATCH_REQUESTS = 100

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def gemini_model(
    model_id: str,
    *,
    display_name: str | None = None,
    methods: Sequence[str] = CHAT_METHODS,
    input_token_limit: int = 1_048_576,
    output_token_limit: int = 65_536,
    thinking: bool | None = None,
) -> dict[str, Any]:
    """A model as `GET /v1/models` describes it."""
    model: dict[str, Any] = {
        "name": f"models/{model_id}",
        "version": "001",
        "displayName": display_name or model_id,
        "description": f"The fake's {model_id}.",
        "inputTokenLimit": input_token_limit,
        "outputTokenLimit": output_token_limit,
        "supportedGenerationMethods": list(methods),
        "temperature": 1.0,
        "maxTemperature": 2.0,
        "topP": 0.95,
        "topK": 64,
    }
    if thinking is not None:
        model["thinking"] = thinking
    return model


@dataclass
class FakeGeminiState(FakeProviderState):
    models: list[dict[str, Any]] = field(default_factory=list)
    # Google caps pageSize (at 1000); a small cap makes the SDK walk several pages.
    page_size_limit: int = 1000
    # When set, a request without this `x-goog-api-key` (or `key` query parameter) is refused.
    api_key: str | None = None
    # The Developer API sends function calls without an id; set this to send the script's ids anyway.
    function_call_ids: bool = False
    # What `:batchEmbedContents` and `:embedContent` answer, and each call they got.
    embeddings: EmbeddingScript = field(default_factory=EmbeddingScript)


def _error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": code or _STATUS_NAMES.get(status, "UNKNOWN")}}


def gemini_error(
    status: int, message: str, *, code: str | None = None, details: list[dict[str, Any]] | None = None
) -> Response:
    """An error in Google's shape: `{"error": {"code", "message", "status", "details"?}}`; `code` names the status."""
    body = _error_body(status, message, code)
    if details:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=status)


def gemini_usage(reported: Usage) -> dict[str, int]:
    """Usage as Gemini counts it: cached tokens are part of `promptTokenCount`, and counted apart too."""
    prompt = reported.input_tokens + reported.cache_read
    metadata = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": reported.output_tokens,
        "totalTokenCount": prompt + reported.output_tokens,
    }
    if reported.cache_read:
        metadata["cachedContentTokenCount"] = reported.cache_read
    return metadata


def _part(step: Step, *, with_id: bool) -> dict[str, Any] | None:
    match step:
        case Text(text=text):
            return {"text": text}
        case Reasoning(text=text):
            return {"text": text, "thought": True}
        case ToolCall(id=call_id, name=name, arguments=arguments):
            call = {"name": name, "args": arguments}
            return {"functionCall": {"id": call_id, **call} if with_id else call}
        case _:
            return None


class GeminiStream:
    """Writes a turn as `streamGenerateContent` does: one response per part, the finish reason last."""

    def __init__(self, turn: Turn, model: str, *, function_call_ids: bool) -> None:
        self.turn = turn
        self.model = model
        self.function_call_ids = function_call_ids
        self.response_id = uuid.uuid4().hex[:20]
        self.prompt_tokens = gemini_usage(usage(turn))["promptTokenCount"]

    def _response(self, parts: list[dict[str, Any]], **candidate: Any) -> bytes:
        body = generate_content_response(parts, self.model, self.response_id, **candidate)
        body.setdefault(
            "usageMetadata", {"promptTokenCount": self.prompt_tokens, "totalTokenCount": self.prompt_tokens}
        )
        return sse_event(body, separator=SSE_SEPARATOR)

    def opening(self) -> list[bytes]:
        return []

    def step(self, step: Content) -> list[bytes]:
        part = _part(step, with_id=self.function_call_ids)
        return [] if part is None else [self._response([part])]

    def stream_error(self, error: StreamError) -> list[bytes]:
        # google-genai raises an APIError for an event that is an error object, as Google sends mid-stream.
        return [sse_event(_error_body(error.status, error.message), separator=SSE_SEPARATOR)]

    def closing(self) -> list[bytes]:
        finish = FINISH_REASONS[stop_reason(self.turn)]
        return [self._response([{"text": ""}], finish_reason=finish, usage_metadata=gemini_usage(usage(self.turn)))]


def generate_content_response(
    parts: list[dict[str, Any]],
    model: str,
    response_id: str,
    *,
    finish_reason: str | None = None,
    usage_metadata: Any = None,
) -> dict[str, Any]:
    """A `GenerateContentResponse` with one candidate holding `parts`."""
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish_reason is not None:
        candidate["finishReason"] = finish_reason
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": model, "responseId": response_id}
    if usage_metadata is not None:
        body["usageMetadata"] = usage_metadata
    return body


def _joined_parts(turn: Turn, *, with_id: bool) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for step in turn:
        part = _part(step, with_id=with_id)
        if part is None:
            continue
        previous = parts[-1] if parts else {}
        if "text" in part and "text" in previous and part.get("thought") == previous.get("thought"):
            previous["text"] += part["text"]
        else:
            parts.append(part)
    return parts


def generate_content(turn: Turn, model: str, *, function_call_ids: bool) -> dict[str, Any]:
    """The whole answer as `generateContent` gives it, consecutive texts of a kind joined into one part."""
    return generate_content_response(
        _joined_parts(turn, with_id=function_call_ids),
        model,
        uuid.uuid4().hex[:20],
        finish_reason=FINISH_REASONS[stop_reason(turn)],
        usage_metadata=gemini_usage(usage(turn)),
    )


def _embed_request_text(request: Any) -> str | None:
    """The text of one EmbedContentRequest (its content's text parts joined); None if it has none."""
    content = request.get("content") if isinstance(request, dict) else None
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list):
        return None
    texts = [part["text"] for part in parts if isinstance(part, dict) and isinstance(part.get("text"), str)]
    return " ".join(texts) if texts else None


def embed_contents(state: FakeGeminiState, model: str, body: Any, *, batch: bool) -> Response:
    """The answer to `:batchEmbedContents` (`batch`) or `:embedContent`: a failure, a 400, or the vectors."""
    requests = body.get("requests") if batch and isinstance(body, dict) else [body]
    if not isinstance(requests, list) or not requests:
        return gemini_error(400, "* BatchEmbedContentsRequest.requests: requests must not be empty")
    if len(requests) > MAX_BATCH_REQUESTS:
        return gemini_error(400, f"* BatchEmbedContentsRequest.requests: at most {MAX_BATCH_REQUESTS} requests")
    texts = [_embed_request_text(request) for request in requests]
    if any(text is None for text in texts):
        return gemini_error(400, "* EmbedContentRequest.content: contents must have a text part")
    first = requests[0]
    dimensions, task_type = first.get("outputDimensionality"), first.get("taskType")
    call = EmbeddingCall(model=model, texts=[text or "" for text in texts], dimensions=dimensions, task_type=task_type)
    if (failed := state.embeddings.take(call)) is not None:
        return gemini_error(failed, f"the fake was told to fail with {failed}")
    size = dimensions or EMBEDDING_SIZES.get(model, EMBEDDING_SIZE_OTHERS)
    embeddings = [{"values": vector} for vector in state.embeddings.vectors(call.texts, size)]
    if batch:
        return JSONResponse({"embeddings": embeddings})
    return JSONResponse({"embedding": embeddings[0]} if embeddings else {})


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str) -> int | None:
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        return int(value) if kind == "offset" else None
    except ValueError:
        return None


def create_gemini_app(state: FakeGeminiState) -> Starlette:
    """The fake's app, driven by `state`."""

    def refused(request: Request) -> Response | None:
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if state.api_key is None or key == state.api_key:
            return None
        reason = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
        return gemini_error(400, "API key not valid. Please pass a valid API key.", details=[reason])

    async def list_models(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        size = min(int(request.query_params.get("pageSize") or DEFAULT_PAGE_SIZE), state.page_size_limit)
        token = request.query_params.get("pageToken")
        start = _offset(token) if token else 0
        if start is None:
            return gemini_error(400, "Invalid page token.")
        body: dict[str, Any] = {"models": state.models[start : start + size]}
        if start + size < len(state.models):
            body["nextPageToken"] = _page_token(start + size)
        return JSONResponse(body)

    async def model_method(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        model, _, method = request.path_params["target"].rpartition(":")
        if method in ("batchEmbedContents", "embedContent"):
            async with state.embeddings.answering():
                return embed_contents(state, model, await json_body(request), batch=method == "batchEmbedContents")
        if method not in ("generateContent", "streamGenerateContent"):
            return gemini_error(404, f"Method {method} is not served by the fake.")
        stream = method == "streamGenerateContent"
        turn = await take_turn(state, request, await json_body(request), gemini_error, model=model, stream=stream)
        if isinstance(turn, Response):
            return turn
        ids = state.function_call_ids
        if not stream:
            return await whole_answer(turn, generate_content(turn, model, function_call_ids=ids), gemini_error)
        encoder = GeminiStream(turn, model, function_call_ids=ids)
        return ScriptedStream(turn, encoder, state.stream_outcomes, media_type="text/event-stream")

    routes = [Route(f"/{version}/models", list_models, methods=["GET"]) for version in API_VERSIONS]
    routes += [Route(f"/{version}/models/{{target}}", model_method, methods=["POST"]) for version in API_VERSIONS]
    return fake_app(routes, state, gemini_error)


@contextmanager
def running_gemini(state: FakeGeminiState | None = None) -> Iterator[RunningFake[FakeGeminiState]]:
    """The fake served on loopback; its `url` is the SDK's `base_url`."""
    state = state if state is not None else FakeGeminiState()
    with serve(create_gemini_app(state)) as url:
        yield RunningFake(url=url, state=state)
