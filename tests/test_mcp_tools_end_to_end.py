"""An MCP server registered by an admin, granted to a role and called in turns, end to end.

A real MCP server (the `mcp` package, streamable HTTP on loopback, demanding a bearer token) and the OpenAI fake,
whose scripted model asks for the server's `add` tool: the admin's registration discovers it, a member's turn
streams the call and its result in the reference client's shapes and stores both, a non-member is refused, a
second turn reuses the connection, and a server that is down fails the tool, not the turn.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.mcp_server import FakeMcpState, RunningMcpServer, running_mcp_server
from tests.fakes.scripts import Text, ToolCall, Usage
from tests.fakes.server import FakeProviderState
from tests.fixtures.providers import MODEL_IDS
from tests.fixtures.services import Services
from tests.helpers import parse_sse, random_session_id, random_user_id

TOKEN = "s3cret-bearer-token"


@pytest.fixture
def mcp_server() -> Iterator[RunningMcpServer]:
    with running_mcp_server(FakeMcpState(bearer_token=TOKEN)) as server:
        yield server


async def register(services: Services, url: str) -> dict[str, Any]:
    admin = services.auth_as("root", roles=["admin"])
    created = await services.app.post(
        "/admin/tools/",
        json={
            "toolId": "adder_server",
            "displayName": "Adder",
            "description": "Adds numbers",
            "protocol": "mcp_external",
            "mcpConfig": {
                "serverUrl": url,
                "transport": "streamable-http",
                "authType": "bearer-token",
                "bearerToken": TOKEN,
            },
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    role = await services.app.post(
        "/admin/roles", json={"roleId": "math_role", "displayName": "Math", "jwtRoleMappings": ["math"]}, headers=admin
    )
    assert role.status_code == 201, role.text
    granted = await services.app.put(
        "/admin/tools/adder_server/roles", json={"appRoleIds": ["math_role"]}, headers=admin
    )
    assert granted.status_code == 200, granted.text
    body: dict[str, Any] = created.json()
    return body


async def add_turn(services: Services, openai: FakeProviderState, headers: dict[str, str]) -> tuple[Any, str]:
    openai.script.add(ToolCall(id="call-1", name="add", arguments={"a": 2, "b": 3}), Usage(40, 8))
    openai.script.add(Text("2 + 3 = 5."), Usage(60, 6))
    session_id = random_session_id()
    response = await services.inference.post(
        "/invocations",
        json={
            "session_id": session_id,
            "message": "What is 2 + 3?",
            "model_id": MODEL_IDS["openai"],
            "enabled_tools": ["adder_server"],
        },
        headers=headers,
    )
    return response, session_id


async def test_a_member_turn_calls_the_registered_servers_tool(
    cloud: tuple[Services, dict[str, FakeProviderState]], mcp_server: RunningMcpServer
) -> None:
    services, fakes = cloud
    created = await register(services, mcp_server.url)
    member = services.auth_as(random_user_id(), roles=["math"])

    response, session_id = await add_turn(services, fakes["openai"], member)

    assert created["mcpConfig"]["hasCredentials"] is True
    assert TOKEN not in str(created)
    assert [tool["name"] for tool in created["mcpConfig"]["discoveredTools"]] == ["add", "divide"]
    assert created["mcpConfig"]["syncError"] is None
    assert response.status_code == 200, response.text
    events = parse_sse(response.text)
    tool_use = next(data["tool_use"] for name, data in events if name == "tool_use")
    tool_result = next(data["tool_result"] for name, data in events if name == "tool_result")
    assert tool_use["name"] == "add"
    assert tool_use["input"] == {"a": 2, "b": 3}
    assert tool_result["toolUseId"] == tool_use["tool_use_id"]
    assert tool_result["status"] == "success"
    assert "5" in str(tool_result["content"])
    assert "2 + 3 = 5." in "".join(str(data.get("text", "")) for name, data in events if name == "content_block_delta")
    assert "5" in str(fakes["openai"].chat_calls[-1].body), "the tool's answer went back to the model"
    history = (await services.app.get(f"/sessions/{session_id}/messages", headers=member)).json()["messages"]
    assert [(m["role"], m["content"][0]["type"]) for m in history] == [
        ("user", "text"),
        ("assistant", "toolUse"),
        ("user", "toolResult"),
        ("assistant", "text"),
    ]
    assert history[2]["content"][0]["toolResult"]["status"] == "success"


async def test_a_non_member_is_refused_the_server_before_anything_is_stored(
    cloud: tuple[Services, dict[str, FakeProviderState]], mcp_server: RunningMcpServer
) -> None:
    services, fakes = cloud
    await register(services, mcp_server.url)
    outsider = services.auth(random_user_id())

    response, session_id = await add_turn(services, fakes["openai"], outsider)

    assert response.status_code == 403
    assert response.json()["code"] == "tool_not_allowed"
    assert (await services.app.get(f"/sessions/{session_id}/metadata", headers=outsider)).status_code == 404
    assert fakes["openai"].chat_calls == []


async def test_turns_share_one_connection_to_the_server(
    cloud: tuple[Services, dict[str, FakeProviderState]], mcp_server: RunningMcpServer
) -> None:
    services, fakes = cloud
    await register(services, mcp_server.url)
    member = services.auth_as(random_user_id(), roles=["math"])

    await add_turn(services, fakes["openai"], member)
    after_first = mcp_server.state.handshakes
    second, _ = await add_turn(services, fakes["openai"], member)

    assert second.status_code == 200
    assert mcp_server.state.handshakes == after_first
    assert mcp_server.state.tool_calls == 2


async def test_a_server_that_is_down_fails_its_tool_not_the_turn(
    cloud: tuple[Services, dict[str, FakeProviderState]], mcp_server: RunningMcpServer
) -> None:
    services, fakes = cloud
    await register(services, mcp_server.url)
    member = services.auth_as(random_user_id(), roles=["math"])
    mcp_server.stop()

    response, session_id = await add_turn(services, fakes["openai"], member)

    assert response.status_code == 200, response.text
    events = parse_sse(response.text)
    tool_result = next(data["tool_result"] for name, data in events if name == "tool_result")
    assert tool_result["status"] == "error"
    assert [name for name, _ in events][-1] == "done"
    history = (await services.app.get(f"/sessions/{session_id}/messages", headers=member)).json()["messages"]
    assert history[-1]["status"] == "complete"
    metrics = (await services.inference.get("/metrics")).text
    assert 'colloquy_mcp_errors_total{server="adder_server"' in metrics


async def test_the_credential_is_not_stored_in_clear(
    cloud: tuple[Services, dict[str, FakeProviderState]], mcp_server: RunningMcpServer
) -> None:
    services, _ = cloud
    await register(services, mcp_server.url)

    database = services.settings.storage.sqlite_path
    with sqlite3.connect(database) as connection:
        bodies = [row[0] for row in connection.execute("SELECT body FROM tools WHERE tool_id = 'adder_server'")]

    assert len(bodies) == 1
    assert TOKEN not in bodies[0]
    assert '"sealed_credentials":"' in bodies[0]


async def test_two_servers_offering_one_tool_name_are_refused_together(
    cloud: tuple[Services, dict[str, FakeProviderState]], mcp_server: RunningMcpServer
) -> None:
    services, fakes = cloud
    await register(services, mcp_server.url)
    admin = services.auth_as("root", roles=["admin"])
    twin = await services.app.post(
        "/admin/tools/",
        json={
            "toolId": "adder_twin",
            "displayName": "Adder again",
            "description": "The same server",
            "protocol": "mcp_external",
            "mcpConfig": {"serverUrl": mcp_server.url, "authType": "bearer-token", "bearerToken": TOKEN},
        },
        headers=admin,
    )

    response = await services.inference.post(
        "/invocations",
        json={
            "session_id": random_session_id(),
            "message": "What is 2 + 3?",
            "model_id": MODEL_IDS["openai"],
            "enabled_tools": ["adder_server", "adder_twin"],
        },
        headers=admin,
    )

    assert twin.status_code == 201
    assert response.status_code == 400
    assert response.json()["code"] == "tool_name_clash"
    assert "add" in response.json()["detail"]
    assert fakes["openai"].chat_calls == []
