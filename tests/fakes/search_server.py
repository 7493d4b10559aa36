"""A fake search service speaking SearXNG's JSON API, for the web search tool.

`GET /search?q=<query>&format=json` answers as SearXNG does: `{"query", "number_of_results", "results": [{"url",
"title", "content", "engine", "score", ...}], "answers", "suggestions", ...}`. Like SearXNG, a format it was not
told to serve (anything but `json` here) is a 403, and a missing query a 400. A test sets the results, a bearer
token to require (`api_key`: 401 without it), a delay, a malformed answer, or a failure status (`fail_status`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.server import FakeProviderState, RunningFake, fake_app, serve

SEARCH_PATH = "/search"


@dataclass
class FakeSearchState(FakeProviderState):
    # What every search answers; None: `generated` results made from the query.
    results: list[Any] | None = None
    generated: int = 8
    # When set, a request without `Authorization: Bearer <api_key>` is a 401.
    api_key: str | None = None
    delay_seconds: float = 0.0
    # When set, the answer is this body with this content type instead of the results.
    raw_body: bytes | None = None
    raw_content_type: str = "application/json"


def result(index: int, query: str) -> dict[str, Any]:
    """A result as SearXNG lists one."""
    return {
        "url": f"https://example.org/{index}?q={query.replace(' ', '+')}",
        "title": f"Result {index} for {query}",
        "content": f"Snippet {index} about {query}.",
        "engine": "fake",
        "engines": ["fake"],
        "positions": [index],
        "score": 1.0 / index,
        "category": "general",
    }


def _error(status: int, message: str) -> Response:
    return PlainTextResponse(message, status_code=status)


def search_app(state: FakeSearchState) -> Any:
    async def search(request: Request) -> Response:
        if state.api_key is not None and request.headers.get("authorization") != f"Bearer {state.api_key}":
            return _error(401, "Unauthorized")
        if request.query_params.get("format", "html") != "json":
            return _error(403, "Forbidden")
        query = request.query_params.get("q", "")
        if not query:
            return _error(400, "Bad Request")
        await anyio.sleep(state.delay_seconds)
        if state.raw_body is not None:
            return Response(state.raw_body, media_type=state.raw_content_type)
        results = (
            state.results if state.results is not None else [result(i, query) for i in range(1, state.generated + 1)]
        )
        return JSONResponse(
            {
                "query": query,
                "number_of_results": len(results),
                "results": results,
                "answers": [],
                "corrections": [],
                "infoboxes": [],
                "suggestions": [],
                "unresponsive_engines": [],
            }
        )

    return fake_app([Route(SEARCH_PATH, search)], state, _error)


@contextmanager
def running_search_service(state: FakeSearchState | None = None) -> Iterator[RunningFake[FakeSearchState]]:
    """Serve the fake on loopback; `url` is its search endpoint, as WEB_SEARCH_URL names it."""
    state = state if state is not None else FakeSearchState()
    with serve(search_app(state)) as url:
        yield RunningFake(url=url + SEARCH_PATH, state=state)
