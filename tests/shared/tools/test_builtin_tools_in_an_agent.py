"""The built-in tools in a Strands agent loop over the OpenAI fake: the model asks for a tool, the tool runs, and
its result (or its refusal, as a tool error) is what the model is sent next; a refusal never ends the turn."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from strands import Agent
from strands.models.openai import OpenAIModel

from apis.shared.config import ToolsSettings
from apis.shared.tools import load_tool
from tests.fakes.openai_server import FakeOpenAIState
from tests.fakes.scripts import Text, ToolCall, Usage
from tests.fakes.search_server import FakeSearchState, running_search_service
from tests.fakes.server import FakeProviderState, RunningFake
from tests.shared.tools.pages import running_pages

pytestmark = pytest.mark.usefixtures("no_provider_environment")


@pytest.fixture
def pages() -> Iterator[RunningFake[FakeProviderState]]:
    with running_pages() as running:
        yield running


@pytest.fixture
def search_service() -> Iterator[RunningFake[FakeSearchState]]:
    with running_search_service() as running:
        yield running


def agent_over(fake: RunningFake[FakeOpenAIState], settings: ToolsSettings, *tool_ids: str) -> Agent:
    client_args = {"base_url": fake.url, "api_key": "sk-test", "max_retries": 0}
    model = OpenAIModel(client_args=client_args, model_id="gpt-fake-1")
    tools = [load_tool(tool_id, settings) for tool_id in tool_ids]
    return Agent(model=model, tools=tools, callback_handler=None)


def tool_messages(fake: RunningFake[FakeOpenAIState], call: int) -> list[dict[str, Any]]:
    return [message for message in fake.state.chat_calls[call].body["messages"] if message["role"] == "tool"]


def tool_text(message: dict[str, Any]) -> str:
    content = message["content"]
    return content if isinstance(content, str) else "".join(part["text"] for part in content)


async def test_the_model_reads_a_page_and_is_refused_the_metadata_service(
    openai_fake: RunningFake[FakeOpenAIState], pages: RunningFake[FakeProviderState]
) -> None:
    settings = ToolsSettings(tools_allow_private_networks=True)
    openai_fake.state.script.add(
        ToolCall("c1", "fetch_url_content", {"url": f"{pages.url}/article"}),
        ToolCall("c2", "fetch_url_content", {"url": "http://169.254.169.254/latest/meta-data/"}),
        Usage(20, 8),
    ).add(Text("The first ferry leaves at 06:40."), Usage(40, 9))

    agent = agent_over(openai_fake, settings, "fetch_url_content")
    result = await agent.invoke_async("When is the first ferry?")

    assert str(result).strip() == "The first ferry leaves at 06:40."
    page, metadata = tool_messages(openai_fake, 1)
    assert page["tool_call_id"] == "c1"
    assert json.loads(tool_text(page))["text_content"].startswith("# Ferry timetable")
    assert metadata["tool_call_id"] == "c2"
    assert "169.254.169.254 is a link-local address" in tool_text(metadata)
    statuses = {
        block["toolResult"]["toolUseId"]: block["toolResult"]["status"]
        for message in agent.messages
        for block in message["content"]
        if "toolResult" in block
    }
    assert statuses == {"c1": "success", "c2": "error"}


async def test_the_model_searches_and_charts_in_one_turn(
    openai_fake: RunningFake[FakeOpenAIState], search_service: RunningFake[FakeSearchState]
) -> None:
    settings = ToolsSettings(web_search_url=search_service.url, web_search_max_results=2)
    openai_fake.state.script.add(
        ToolCall("s1", "ddg_web_search", {"query": "ferry riders"}),
        ToolCall("v1", "create_visualization", {"chart_type": "bar", "data": [{"x": "Mon", "y": 3}]}),
        ToolCall("v2", "create_visualization", {"chart_type": "pie", "data": []}),
        Usage(20, 8),
    ).add(Text("Here is the chart."), Usage(40, 9))

    agent = agent_over(openai_fake, settings, "ddg_web_search", "create_visualization")
    result = await agent.invoke_async("Chart the riders")

    assert str(result).strip() == "Here is the chart."
    search, chart, refused = tool_messages(openai_fake, 1)
    assert json.loads(tool_text(search))["result_count"] == 2
    assert json.loads(tool_text(chart))["chart_data"]["chartType"] == "bar"
    assert tool_text(refused) == "data must be a non-empty list of points"
