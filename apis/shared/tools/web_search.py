"""Web search through the search service the operator names (`WEB_SEARCH_URL`), as the tool `ddg_web_search`.

The id is the reference's (its tool searched DuckDuckGo), so that the reference client, its catalogue and saved
preferences name the same tool; here the searching is done by a service with SearXNG's JSON API:
`GET {WEB_SEARCH_URL}?q=<query>&format=json` answering `{"results": [{"title", "url", "content"}, ...]}`.
`WEB_SEARCH_API_KEY`, when set, is sent as a bearer token (for a service behind an authenticating proxy).

The service's URL comes from the operator, not from the model, so it is not judged by the SSRF guard: it may
well be a private address (a SearXNG beside the service). The model chooses only the query. Its failures (no
answer in TOOLS_FETCH_TIMEOUT_SECONDS, a non-2xx status, an answer that is not SearXNG's JSON or is larger than
TOOLS_FETCH_MAX_BYTES) are tool results with status `error`. The answer has the reference tool's fields:
`success`, `query`, `result_count` and `results` of `index`, `title`, `snippet` and `link`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from apis.shared.config import ToolsSettings
from apis.shared.errors import ConfigurationError
from apis.shared.tools.tool_results import ToolFailure, error_result, json_text_result

TOOL_ID = "ddg_web_search"
DESCRIPTION = (
    "Search the web for current information, news and research. Returns results with a title, a snippet and a "
    "link; fetch a result's page with fetch_url_content (when offered) to read it."
)


@dataclass(frozen=True, slots=True)
class SearchService:
    """The operator's search service and the limits of one call to it."""

    url: str
    api_key: str | None
    timeout_seconds: float
    max_bytes: int
    max_results: int

    @classmethod
    def from_settings(cls, settings: ToolsSettings) -> SearchService:
        if not settings.web_search_url:
            raise ConfigurationError("web search needs WEB_SEARCH_URL, the address of a search service")
        try:
            scheme = httpx.URL(settings.web_search_url).scheme
        except httpx.InvalidURL as exc:
            raise ConfigurationError("WEB_SEARCH_URL is not a valid URL") from exc
        if scheme not in ("http", "https"):
            raise ConfigurationError("WEB_SEARCH_URL must be an http:// or https:// URL")
        return cls(
            url=settings.web_search_url,
            api_key=settings.web_search_api_key,
            timeout_seconds=settings.tools_fetch_timeout_seconds,
            max_bytes=settings.tools_fetch_max_bytes,
            max_results=settings.web_search_max_results,
        )

    async def search(self, query: str, max_results: int) -> dict[str, Any]:
        """The first results for `query` in the reference tool's shape; ToolFailure when the service fails."""
        query = query.strip()
        if not query:
            raise ToolFailure("the search query is empty")
        wanted = max(1, min(max_results, self.max_results))
        document = await self._ask(query)
        results = _results(document)[:wanted]
        return {"success": True, "query": query, "result_count": len(results), "results": results}

    def _url_for(self, query: str) -> httpx.URL:
        """The service's URL with the query added to what it holds already (a language, a safe-search level)."""
        return httpx.URL(self.url).copy_merge_params({"q": query, "format": "json"})

    async def _ask(self, query: str) -> Any:
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            with anyio.fail_after(self.timeout_seconds):
                async with (
                    httpx.AsyncClient(timeout=self.timeout_seconds) as client,
                    client.stream("GET", self._url_for(query), headers=headers) as answer,
                ):
                    if not answer.is_success:
                        raise ToolFailure(f"the search service answered HTTP {answer.status_code}; try again later")
                    body = await _capped_body(answer, self.max_bytes)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise ToolFailure(f"the search service did not answer within {self.timeout_seconds:g} seconds") from exc
        except httpx.HTTPError as exc:
            raise ToolFailure("the search service could not be reached; try again later") from exc
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ToolFailure("the search service's answer is not JSON") from exc


async def _capped_body(answer: httpx.Response, max_bytes: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in answer.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ToolFailure(f"the search service's answer is larger than {max_bytes} bytes")
        parts.append(chunk)
    return b"".join(parts)


def _results(document: Any) -> list[dict[str, Any]]:
    """SearXNG's `results` as the reference's entries; entries without an http(s) link are left out."""
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        raise ToolFailure("the search service's answer has no list of results")
    results: list[dict[str, Any]] = []
    for entry in document["results"]:
        if not isinstance(entry, dict):
            continue
        link = entry.get("url")
        if not isinstance(link, str) or not link.startswith(("http://", "https://")):
            continue
        results.append(
            {
                "index": len(results) + 1,
                "title": _text(entry.get("title")),
                "snippet": _text(entry.get("content")),
                "link": link,
            }
        )
    return results


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def build_web_search(settings: ToolsSettings) -> Any:
    """The Strands tool over the configured service; ConfigurationError when WEB_SEARCH_URL is not set."""
    from strands import tool

    service = SearchService.from_settings(settings)
    limit = service.max_results

    @tool(name=TOOL_ID, description=DESCRIPTION)
    async def web_search(query: str, max_results: int = limit) -> dict[str, Any]:
        """Search the web.

        Args:
            query: what to search for, as you would type it into a search engine.
            max_results: how many results to return, at most the operator's limit.
        """
        try:
            return json_text_result(await service.search(query, max_results))
        except ToolFailure as failure:
            return error_result(failure.message)

    return web_search
