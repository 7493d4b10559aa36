"""A fake of the OpenAI API (and of OpenAI-compatible servers) for the real `openai` SDK.

Point the SDK at `<url>/v1`. It serves `GET /v1/models` as OpenAI does, in one unpaginated list; with
`api_key` set it refuses any other bearer token with OpenAI's 401 body.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import FakeProviderState, RunningFake, fake_app, serve

API_PREFIX = "/v1"
DEFAULT_CREATED = 1_700_000_000

_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error"}


def openai_model(model_id: str, *, owned_by: str = "openai", created: int = DEFAULT_CREATED) -> dict[str, Any]:
    """A model as `GET /v1/models` describes it."""
    return {"id": model_id, "object": "model", "created": created, "owned_by": owned_by}


@dataclass
class FakeOpenAIState(FakeProviderState):
    models: list[dict[str, Any]] = field(default_factory=list)
    # When set, a request without `Authorization: Bearer <api_key>` is refused, as OpenAI does.
    api_key: str | None = None


def openai_error(status: int, message: str, *, code: str | None = None) -> Response:
    """An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`."""
    error_type = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return JSONResponse(body, status_code=status)


def create_openai_app(state: FakeOpenAIState) -> Starlette:
    """The fake's app, driven by `state`."""

    def refused(request: Request) -> Response | None:
        if state.api_key is None or request.headers.get("authorization") == f"Bearer {state.api_key}":
            return None
        return openai_error(401, "Incorrect API key provided.", code="invalid_api_key")

    async def list_models(request: Request) -> Response:
        return refused(request) or JSONResponse({"object": "list", "data": list(state.models)})

    return fake_app([Route(f"{API_PREFIX}/models", list_models, methods=["GET"])], state, openai_error)


@contextmanager
def running_openai(state: FakeOpenAIState | None = None) -> Iterator[RunningFake[FakeOpenAIState]]:
    """The fake served on loopback; its `url` is the SDK's base URL (with `/v1`)."""
    state = state if state is not None else FakeOpenAIState()
    with serve(create_openai_app(state)) as url:
        yield RunningFake(url=f"{url}{API_PREFIX}", state=state)
