"""The pool offers a real MCP server's tools to Strands agents through one started client, and a server that is
down costs the model a tool error, never the turn."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import openai
import pytest
from prometheus_client import REGISTRY
from strands import Agent
from strands.models.openai import OpenAIModel
from strands.types.events import ToolResultEvent
from strands.types.tools import AgentTool, ToolResult, ToolUse

from apis.shared.config import ToolsSettings
from apis.shared.tools.mcp import DiscoveredTool, McpClientPool, McpConnection
from tests.fakes.mcp_server import RunningMcpServer
from tests.fakes.openai_server import FakeOpenAIState
from tests.fakes.scripts import Text, ToolCall, Usage
from tests.fakes.server import RunningFake, closed_port_url

RETRY_AFTER = 30.0
ADD = DiscoveredTool(
    name="add",
    description="Add two numbers and return their sum.",
    input_schema={"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
)


class ManualClock:
    """Time that passes only when a test says so: the back-off is tested without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def pool(tools_settings: ToolsSettings, clock: ManualClock) -> AsyncIterator[McpClientPool]:
    pool = McpClientPool(tools_settings, retry_after_seconds=RETRY_AFTER, clock=clock)
    try:
        yield pool
    finally:
        await pool.close()


def _server_key() -> str:
    return f"server-{uuid.uuid4().hex[:8]}"


def _errors(server_key: str, stage: str) -> float:
    sample = REGISTRY.get_sample_value("colloquy_mcp_errors_total", {"server": server_key, "stage": stage})
    return sample or 0.0


async def _call(tool: AgentTool, **arguments: Any) -> ToolResult:
    """Run a tool as Strands' executor does, and return its final result."""
    tool_use: ToolUse = {"toolUseId": f"use-{uuid.uuid4().hex[:6]}", "name": tool.tool_name, "input": arguments}
    results = [event async for event in tool.stream(tool_use, {}) if isinstance(event, ToolResultEvent)]
    assert len(results) == 1
    return results[0].tool_result


def _named(tools: list[AgentTool], name: str) -> AgentTool:
    return next(tool for tool in tools if tool.tool_name == name)


def _text(result: ToolResult) -> str:
    return "".join(str(block.get("text", "")) for block in result["content"])


async def test_an_agent_turn_calls_add_on_the_server_and_reads_the_sum(
    pool: McpClientPool, mcp_server: RunningMcpServer, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    openai_fake.state.script.add(ToolCall(id="call-1", name="add", arguments={"a": 2, "b": 3}), Usage(40, 10))
    openai_fake.state.script.add(Text("2 + 3 = 5."), Usage(60, 5))
    tools = await pool.tools_for(_server_key(), McpConnection.build(mcp_server.url), ["add"])
    client = openai.AsyncOpenAI(api_key="test", base_url=openai_fake.url, max_retries=0)
    agent = Agent(model=OpenAIModel(client=client, model_id="gpt-test"), tools=[*tools], callback_handler=None)

    result = await agent.invoke_async("What is 2 + 3?")

    assert str(result).strip() == "2 + 3 = 5."
    offered = [tool["function"]["name"] for tool in openai_fake.state.chat_calls[0].body["tools"]]
    assert offered == ["add"], "only the allowed tool is offered"
    tool_message = next(m for m in openai_fake.state.chat_calls[1].body["messages"] if m["role"] == "tool")
    assert (tool_message["tool_call_id"], float(tool_message["content"])) == ("call-1", 5)
    assert mcp_server.state.tool_calls == 1


async def test_add_through_the_tool_returns_five_and_later_turns_reuse_the_client(
    pool: McpClientPool, mcp_server: RunningMcpServer
) -> None:
    server_key, connection = _server_key(), McpConnection.build(mcp_server.url)
    first_turn = await pool.tools_for(server_key, connection, None)

    first = await _call(_named(first_turn, "add"), a=2, b=3)
    second_turn = await pool.tools_for(server_key, connection, ["add", "divide"])
    second = await _call(_named(second_turn, "add"), a=2, b=3)

    assert first["status"] == second["status"] == "success"
    assert float(_text(first)) == float(_text(second)) == 5
    assert {tool.tool_name for tool in first_turn} == {"add", "divide"}
    assert all(any(tool is earlier for earlier in first_turn) for tool in second_turn), "the same tools, one client"
    assert mcp_server.state.handshakes == 1, "one session for both turns: no connection per turn"
    assert mcp_server.state.tool_calls == 2


async def test_the_credentials_reach_the_server_from_the_pool(
    pool: McpClientPool, mcp_server: RunningMcpServer
) -> None:
    mcp_server.state.bearer_token = "t0k"
    server_key = _server_key()

    tools = await pool.tools_for(server_key, McpConnection.build(mcp_server.url, {"Authorization": "Bearer t0k"}))

    assert float(_text(await _call(_named(tools, "add"), a=2, b=3))) == 5
    assert _errors(server_key, "connect") == 0


async def test_concurrent_turns_start_a_single_client(pool: McpClientPool, mcp_server: RunningMcpServer) -> None:
    server_key, connection = _server_key(), McpConnection.build(mcp_server.url)

    offered = await asyncio.gather(*(pool.tools_for(server_key, connection, ["add"]) for _ in range(8)))

    assert mcp_server.state.handshakes == 1
    assert len({id(tools[0]) for tools in offered}) == 1


async def test_an_error_of_the_tool_itself_reaches_the_model_and_keeps_the_client(
    pool: McpClientPool, mcp_server: RunningMcpServer
) -> None:
    server_key, connection = _server_key(), McpConnection.build(mcp_server.url)
    tools = await pool.tools_for(server_key, connection)

    result = await _call(_named(tools, "divide"), a=1, b=0)

    assert result["status"] == "error"
    assert "divide" in _text(result)
    assert _errors(server_key, "call") == 0, "the server answered: not a server failure"
    assert (await pool.tools_for(server_key, connection))[0] is tools[0]
    assert mcp_server.state.handshakes == 1


async def test_a_server_that_goes_down_fails_the_call_with_a_tool_error_and_comes_back(
    pool: McpClientPool, mcp_server: RunningMcpServer, clock: ManualClock
) -> None:
    server_key, connection = _server_key(), McpConnection.build(mcp_server.url)
    add = _named(await pool.tools_for(server_key, connection, ["add"]), "add")
    mcp_server.stop()

    during_the_turn = await _call(add, a=2, b=3)

    assert during_the_turn["status"] == "error"
    assert "could not be run" in _text(during_the_turn)
    assert "127.0.0.1" not in _text(during_the_turn), "no address in what the user may read"
    assert _errors(server_key, "call") == 1

    next_turn = await pool.tools_for(server_key, connection, ["add"], known=[ADD])

    assert [tool.tool_name for tool in next_turn] == ["add"], "still offered while down"
    assert next_turn[0].tool_spec["inputSchema"]["json"] == ADD.input_schema
    assert (await _call(next_turn[0], a=2, b=3))["status"] == "error"
    assert _errors(server_key, "connect") == 1
    assert _errors(server_key, "call") == 2

    mcp_server.start()
    clock.advance(RETRY_AFTER)
    back = await pool.tools_for(server_key, connection, ["add"], known=[ADD])

    assert float(_text(await _call(back[0], a=2, b=3))) == 5
    assert mcp_server.state.handshakes == 2, "one new session after the restart"


async def test_a_dead_server_is_not_asked_again_before_the_back_off_ends(
    pool: McpClientPool, clock: ManualClock
) -> None:
    server_key, connection = _server_key(), McpConnection.build(f"{closed_port_url()}/mcp")

    for _ in range(3):
        tools = await pool.tools_for(server_key, connection, ["add"], known=[ADD])
        assert (await _call(tools[0], a=2, b=3))["status"] == "error"
    assert _errors(server_key, "connect") == 1, "tried once, then it waits"

    clock.advance(RETRY_AFTER)
    await pool.tools_for(server_key, connection, ["add"], known=[ADD])
    assert _errors(server_key, "connect") == 2

    clock.advance(RETRY_AFTER)
    await pool.tools_for(server_key, connection, ["add"], known=[ADD])
    assert _errors(server_key, "connect") == 2, "the back-off doubled after the second failure"


async def test_a_server_never_reached_offers_its_allowed_tools_as_stand_ins(pool: McpClientPool) -> None:
    connection = McpConnection.build(f"{closed_port_url()}/mcp")

    described = await pool.tools_for(_server_key(), connection, None, known=[ADD])
    undescribed = await pool.tools_for(_server_key(), connection, ["search"])
    unknown = await pool.tools_for(_server_key(), connection, None)

    assert [tool.tool_spec for tool in described] == [
        {"name": "add", "description": ADD.description, "inputSchema": {"json": ADD.input_schema}}
    ]
    assert [tool.tool_name for tool in undescribed] == ["search"]
    assert unknown == [], "nothing allowed by name, nothing discovered: nothing to offer"


async def test_a_changed_configuration_replaces_the_client_and_stops_the_old_one(
    pool: McpClientPool, mcp_server: RunningMcpServer
) -> None:
    server_key = _server_key()
    mcp_server.state.api_key = ("X-Api-Key", "old")
    old = await pool.tools_for(server_key, McpConnection.build(mcp_server.url, {"X-Api-Key": "old"}), ["add"])
    mcp_server.state.api_key = ("X-Api-Key", "new")

    new = await pool.tools_for(server_key, McpConnection.build(mcp_server.url, {"X-Api-Key": "new"}), ["add"])

    assert new[0] is not old[0]
    assert float(_text(await _call(new[0], a=2, b=3))) == 5
    assert (await _call(old[0], a=2, b=3))["status"] == "error", "the old client is stopped"
    assert mcp_server.state.handshakes == 2


@pytest.mark.parametrize("ending", ["discard", "close"])
async def test_a_discarded_server_or_a_closed_pool_stops_its_client(
    tools_settings: ToolsSettings, mcp_server: RunningMcpServer, ending: str
) -> None:
    pool = McpClientPool(tools_settings)
    server_key, connection = _server_key(), McpConnection.build(mcp_server.url)
    tools = await pool.tools_for(server_key, connection, ["add"])
    end: Callable[[], Any] = (lambda: pool.discard(server_key)) if ending == "discard" else pool.close

    await end()

    assert (await _call(tools[0], a=2, b=3))["status"] == "error"
    again = await pool.tools_for(server_key, connection, ["add"])
    if ending == "discard":
        assert float(_text(await _call(again[0], a=2, b=3))) == 5, "a later turn starts it again"
        await pool.close()
    else:
        assert (await _call(again[0], a=2, b=3))["status"] == "error", "a closed pool starts nothing"
