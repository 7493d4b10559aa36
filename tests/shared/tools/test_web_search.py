"""Web search (`ddg_web_search`) against a fake SearXNG on loopback, as the model calls it through Strands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from apis.shared.config import ToolsSettings
from apis.shared.errors import ConfigurationError
from apis.shared.tools.web_search import build_web_search
from tests.fakes.search_server import FakeSearchState, running_search_service
from tests.fakes.server import RunningFake, closed_port_url
from tests.shared.tools.pages import call_tool


@pytest.fixture
def search_service() -> Iterator[RunningFake[FakeSearchState]]:
    with running_search_service() as running:
        yield running


def search_tool(url: str, **overrides: Any) -> Any:
    return build_web_search(ToolsSettings(web_search_url=url, **overrides))


def answer(result: dict[str, Any]) -> dict[str, Any]:
    assert result["status"] == "success", result
    [block] = result["content"]
    payload: dict[str, Any] = json.loads(block["text"])
    return payload


def refusal(result: dict[str, Any]) -> str:
    assert result["status"] == "error", result
    [block] = result["content"]
    text: str = block["text"]
    return text


async def test_results_come_back_in_the_reference_tools_shape(search_service: RunningFake[FakeSearchState]) -> None:
    result = await call_tool(search_tool(search_service.url), query="  ferry timetable ", max_results=2)

    assert answer(result) == {
        "success": True,
        "query": "ferry timetable",
        "result_count": 2,
        "results": [
            {
                "index": 1,
                "title": "Result 1 for ferry timetable",
                "snippet": "Snippet 1 about ferry timetable.",
                "link": "https://example.org/1?q=ferry+timetable",
            },
            {
                "index": 2,
                "title": "Result 2 for ferry timetable",
                "snippet": "Snippet 2 about ferry timetable.",
                "link": "https://example.org/2?q=ferry+timetable",
            },
        ],
    }
    [request] = search_service.state.requests
    assert request.query == {"q": ["ferry timetable"], "format": ["json"]}
    assert "authorization" not in request.headers


async def test_results_are_capped_by_the_operators_limit(search_service: RunningFake[FakeSearchState]) -> None:
    tool = search_tool(search_service.url, web_search_max_results=3)

    by_default = answer(await call_tool(tool, query="ferries"))
    asked_for_more = answer(await call_tool(tool, query="ferries", max_results=50))

    assert tool.tool_spec["inputSchema"]["json"]["properties"]["max_results"]["default"] == 3
    assert by_default["result_count"] == asked_for_more["result_count"] == 3


async def test_the_api_key_is_sent_as_a_bearer_token(search_service: RunningFake[FakeSearchState]) -> None:
    search_service.state.api_key = "search-secret"

    with_key = await call_tool(search_tool(search_service.url, web_search_api_key="search-secret"), query="q")
    without = await call_tool(search_tool(search_service.url), query="q")

    assert answer(with_key)["result_count"] == 5
    assert refusal(without) == "the search service answered HTTP 401; try again later"


async def test_the_services_own_query_string_is_kept(search_service: RunningFake[FakeSearchState]) -> None:
    await call_tool(search_tool(f"{search_service.url}?language=fr&safesearch=1"), query="bac")

    [request] = search_service.state.requests
    assert request.query == {"language": ["fr"], "safesearch": ["1"], "q": ["bac"], "format": ["json"]}


async def test_entries_without_an_http_link_are_left_out(search_service: RunningFake[FakeSearchState]) -> None:
    search_service.state.results = [
        {"title": "no link"},
        {"url": "javascript:alert(1)", "title": "script"},
        "not an object",
        {"url": "https://example.org/kept", "title": None, "content": 42},
    ]

    page = answer(await call_tool(search_tool(search_service.url), query="q"))

    assert page["results"] == [{"index": 1, "title": "", "snippet": "", "link": "https://example.org/kept"}]


async def test_no_results_is_an_answer_not_an_error(search_service: RunningFake[FakeSearchState]) -> None:
    search_service.state.results = []

    page = answer(await call_tool(search_tool(search_service.url), query="nothing at all"))

    assert (page["result_count"], page["results"]) == (0, [])


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_a_failing_service_is_a_tool_error(search_service: RunningFake[FakeSearchState], status: int) -> None:
    search_service.state.fail_status = status

    result = await call_tool(search_tool(search_service.url), query="q")

    assert refusal(result) == f"the search service answered HTTP {status}; try again later"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"<html>a search page</html>", "text/html", "the search service's answer is not JSON"),
        (b'{"results": "none"}', "application/json", "the search service's answer has no list of results"),
        (b"[1, 2]", "application/json", "the search service's answer has no list of results"),
    ],
)
async def test_an_answer_that_is_not_searxng_json_is_a_tool_error(
    search_service: RunningFake[FakeSearchState], body: bytes, content_type: str, message: str
) -> None:
    search_service.state.raw_body, search_service.state.raw_content_type = body, content_type

    assert refusal(await call_tool(search_tool(search_service.url), query="q")) == message


async def test_an_answer_larger_than_the_byte_limit_is_a_tool_error(
    search_service: RunningFake[FakeSearchState],
) -> None:
    search_service.state.raw_body = b'{"results": [], "padding": "' + b"x" * 4096 + b'"}'

    result = await call_tool(search_tool(search_service.url, tools_fetch_max_bytes=2048), query="q")

    assert refusal(result) == "the search service's answer is larger than 2048 bytes"


async def test_a_slow_service_is_a_tool_error(search_service: RunningFake[FakeSearchState]) -> None:
    search_service.state.delay_seconds = 30

    result = await call_tool(search_tool(search_service.url, tools_fetch_timeout_seconds=0.5), query="q")

    assert refusal(result) == "the search service did not answer within 0.5 seconds"


async def test_an_unreachable_service_is_a_tool_error() -> None:
    result = await call_tool(search_tool(closed_port_url() + "/search"), query="q")

    assert refusal(result) == "the search service could not be reached; try again later"


async def test_an_empty_query_is_a_tool_error(search_service: RunningFake[FakeSearchState]) -> None:
    assert refusal(await call_tool(search_tool(search_service.url), query="   ")) == "the search query is empty"
    assert search_service.state.requests == []


def test_without_a_search_service_there_is_no_tool() -> None:
    with pytest.raises(ConfigurationError, match="WEB_SEARCH_URL"):
        build_web_search(ToolsSettings(web_search_url=None))


@pytest.mark.parametrize("url", ["ftp://search.example/", "search.example/search"])
def test_a_search_service_url_that_is_not_http_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="WEB_SEARCH_URL must be an http"):
        build_web_search(ToolsSettings(web_search_url=url))
