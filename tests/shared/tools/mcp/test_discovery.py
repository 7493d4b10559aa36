"""Discovery asks a real MCP server (the `mcp` SDK's, on loopback) for its tools, and says clearly why it could not."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client import REGISTRY

from apis.shared.config import ToolsSettings
from apis.shared.tools.mcp import McpConnection, McpServerFailed, McpServerUnavailable, discover_tools
from tests.fakes.mcp_server import RunningMcpServer
from tests.fakes.server import closed_port_url


def _discover_errors(server_key: str) -> float:
    sample = REGISTRY.get_sample_value("colloquy_mcp_errors_total", {"server": server_key, "stage": "discover"})
    return sample or 0.0


def _server_key() -> str:
    return f"server-{uuid.uuid4().hex[:8]}"


async def test_discovery_lists_the_tools_with_their_input_schemas(
    mcp_server: RunningMcpServer, tools_settings: ToolsSettings
) -> None:
    tools = await discover_tools(McpConnection.build(mcp_server.url), tools_settings)

    by_name = {tool.name: tool for tool in tools}
    assert set(by_name) == {"add", "divide"}
    add = by_name["add"]
    assert add.description == "Add two numbers and return their sum."
    assert add.input_schema["type"] == "object"
    assert set(add.input_schema["properties"]) == {"a", "b"}
    assert add.input_schema["properties"]["a"]["type"] == "number"
    assert sorted(add.input_schema["required"]) == ["a", "b"]


async def test_a_bearer_token_reaches_the_server(mcp_server: RunningMcpServer, tools_settings: ToolsSettings) -> None:
    mcp_server.state.bearer_token = "t0k"

    tools = await discover_tools(McpConnection.build(mcp_server.url, {"Authorization": "Bearer t0k"}), tools_settings)

    assert "add" in {tool.name for tool in tools}


async def test_an_api_key_reaches_the_server_in_its_header(
    mcp_server: RunningMcpServer, tools_settings: ToolsSettings
) -> None:
    mcp_server.state.api_key = ("X-Api-Key", "k3y")

    tools = await discover_tools(McpConnection.build(mcp_server.url, {"X-Api-Key": "k3y"}), tools_settings)

    assert "add" in {tool.name for tool in tools}


async def test_a_wrong_token_is_a_clear_error_naming_the_refusal(
    mcp_server: RunningMcpServer, tools_settings: ToolsSettings
) -> None:
    mcp_server.state.bearer_token = "t0k"
    server_key = _server_key()

    with pytest.raises(McpServerFailed, match=r"refused the credentials \(HTTP 401\)") as raised:
        await discover_tools(
            McpConnection.build(mcp_server.url, {"Authorization": "Bearer wrong"}),
            tools_settings,
            server_key=server_key,
        )

    assert raised.value.status_code == 502
    assert raised.value.code == "mcp_credentials_refused"
    assert "wrong" not in raised.value.detail
    assert _discover_errors(server_key) == 1
    assert mcp_server.state.handshakes == 0, "the server accepted nothing"


async def test_a_missing_api_key_is_refused(mcp_server: RunningMcpServer, tools_settings: ToolsSettings) -> None:
    mcp_server.state.api_key = ("X-Api-Key", "k3y")

    with pytest.raises(McpServerFailed, match="refused the credentials"):
        await discover_tools(McpConnection.build(mcp_server.url), tools_settings)


async def test_a_server_that_is_down_is_unavailable(tools_settings: ToolsSettings) -> None:
    server_key = _server_key()

    with pytest.raises(McpServerUnavailable, match="cannot be reached") as raised:
        await discover_tools(McpConnection.build(f"{closed_port_url()}/mcp"), tools_settings, server_key=server_key)

    assert raised.value.status_code == 503
    assert _discover_errors(server_key) == 1


async def test_a_url_without_an_mcp_endpoint_says_so(
    mcp_server: RunningMcpServer, tools_settings: ToolsSettings
) -> None:
    elsewhere = mcp_server.url.replace("/mcp", "/not-mcp")

    with pytest.raises(McpServerFailed, match=r"no MCP endpoint .*HTTP 404"):
        await discover_tools(McpConnection.build(elsewhere), tools_settings)


async def test_a_redirect_is_not_followed_and_names_where_it_points(
    mcp_server: RunningMcpServer, tools_settings: ToolsSettings
) -> None:
    with pytest.raises(McpServerFailed, match=r"redirect \(HTTP 307\) to .*/mcp: register the URL"):
        await discover_tools(McpConnection.build(mcp_server.url + "/"), tools_settings)
