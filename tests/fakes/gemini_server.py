"""A fake of the Gemini Developer API (`generativelanguage.googleapis.com`) for the real google-genai SDK.

Point the SDK's `base_url` at `url`. It serves `GET /{v1,v1beta}/models` as Google does, in pages of `pageSize`
(capped by `page_size_limit`) chained by an opaque `nextPageToken`; with `api_key` set it refuses any other
`x-goog-api-key` with Google's 400 API_KEY_INVALID body.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import FakeProviderState, RunningFake, fake_app, serve

# google-genai 2 asks for v1beta by default (3 for v1; GOOGLE_GENAI_API_VERSION chooses); Google serves both.
API_VERSIONS = ("v1", "v1beta")
CHAT_METHODS = ("generateContent", "countTokens")
EMBEDDING_METHODS = ("embedContent", "countTextTokens")
DEFAULT_PAGE_SIZE = 50

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


def gemini_error(status: int, message: str, *, details: list[dict[str, Any]] | None = None) -> Response:
    """An error in Google's shape: `{"error": {"code", "message", "status", "details"?}}`."""
    error: dict[str, Any] = {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "UNKNOWN")}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status)


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

    routes = [Route(f"/{version}/models", list_models, methods=["GET"]) for version in API_VERSIONS]
    return fake_app(routes, state, gemini_error)


@contextmanager
def running_gemini(state: FakeGeminiState | None = None) -> Iterator[RunningFake[FakeGeminiState]]:
    """The fake served on loopback; its `url` is the SDK's `base_url`."""
    state = state if state is not None else FakeGeminiState()
    with serve(create_gemini_app(state)) as url:
        yield RunningFake(url=url, state=state)
