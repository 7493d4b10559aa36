"""The turn's toolbox: the access rule's refusals in API.md's order, the cached catalogue and its bound, and
the MCP pool told about servers that left the catalogue."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import pytest

from apis.shared.config import ToolsSettings
from apis.shared.errors import ForbiddenError, RuleViolation
from apis.shared.rbac import EffectivePermissions
from apis.shared.storage.memory.tools import InMemoryToolRepository
from apis.shared.tools.mcp.connection import McpConnection
from apis.shared.tools.models import DiscoveredTool, McpServerConfig, ToolProtocol, ToolRecord, ToolStatus
from apis.shared.tools.turn_tools import TurnToolbox

NOW = "2026-11-30T12:00:00.000000Z"
MEMBER = EffectivePermissions(app_roles=["staff"], tools=["calculator", "adder", "web_tool", "old_tool"])
NOBODY = EffectivePermissions(app_roles=["default"])


class Tool:
    def __init__(self, name: str) -> None:
        self.tool_name = name


class FakeMcp:
    """Stands in for the pool: names the tools each server offers, and records what it was told."""

    def __init__(self) -> None:
        self.offered: dict[str, list[str]] = {}
        self.discarded: list[str] = []

    async def tools_for(
        self,
        server_key: str,
        connection: McpConnection,
        allowed: Collection[str] | None = None,
        *,
        known: Sequence[DiscoveredTool] = (),
    ) -> list[Any]:
        return [Tool(name) for name in self.offered.get(server_key, [])]

    async def discard(self, server_key: str) -> None:
        self.discarded.append(server_key)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(tool_id: str, **fields: Any) -> ToolRecord:
    base = {"tool_id": tool_id, "display_name": tool_id, "description": "d", "created_at": NOW, "updated_at": NOW}
    return ToolRecord.model_validate(base | fields)


def server(tool_id: str) -> ToolRecord:
    return record(
        tool_id, protocol=ToolProtocol.MCP_EXTERNAL, mcp_config=McpServerConfig(server_url="http://127.0.0.1:9/mcp")
    )


@pytest.fixture
def parts() -> tuple[InMemoryToolRepository, FakeMcp, Clock, TurnToolbox]:
    repository, mcp, clock = InMemoryToolRepository(), FakeMcp(), Clock()
    toolbox = TurnToolbox(tools=repository, settings=ToolsSettings(), mcp=mcp, box=None, ttl_seconds=30, clock=clock)
    return repository, mcp, clock, toolbox


async def test_refusals_come_in_the_contracts_order(parts: tuple[Any, ...]) -> None:
    repository, _, _, toolbox = parts
    await repository.create_tool(record("calculator"))
    await repository.create_tool(record("old_tool", status=ToolStatus.DEPRECATED))

    with pytest.raises(ForbiddenError):
        await toolbox.resolve(["calculator"], NOBODY)
    with pytest.raises(ForbiddenError):
        await toolbox.resolve(["no_such_tool"], NOBODY)
    with pytest.raises(RuleViolation, match="unknown"):
        await toolbox.resolve(["web_tool"], MEMBER)
    with pytest.raises(RuleViolation, match="deprecated"):
        await toolbox.resolve(["old_tool"], MEMBER)
    assert [tool.tool_name for tool in await toolbox.resolve(["calculator", "calculator"], MEMBER)] == ["calculator"]


async def test_an_unconfigured_built_in_is_unavailable(parts: tuple[Any, ...]) -> None:
    repository, _, _, toolbox = parts
    await repository.create_tool(record("ddg_web_search", is_public=True))

    with pytest.raises(RuleViolation) as refused:
        await toolbox.resolve(["ddg_web_search"], NOBODY)

    assert refused.value.code == "tool_unavailable"


async def test_no_tools_asked_reads_nothing(parts: tuple[Any, ...]) -> None:
    repository, _, _, toolbox = parts

    async def broken() -> list[ToolRecord]:
        raise AssertionError("the catalogue was read")

    repository.list_tools = broken
    assert await toolbox.resolve([], MEMBER) == []


async def test_the_catalogue_is_read_again_only_after_its_ttl(parts: tuple[Any, ...]) -> None:
    repository, _, clock, toolbox = parts
    await repository.create_tool(record("calculator"))
    await toolbox.resolve(["calculator"], MEMBER)
    await repository.replace_tool(record("calculator", status=ToolStatus.DISABLED, revision=1), read_revision=0)

    still_cached = await toolbox.resolve(["calculator"], MEMBER)
    clock.now = 31
    with pytest.raises(RuleViolation, match="disabled"):
        await toolbox.resolve(["calculator"], MEMBER)

    assert len(still_cached) == 1


async def test_a_server_that_left_the_catalogue_is_discarded_from_the_pool(parts: tuple[Any, ...]) -> None:
    repository, mcp, clock, toolbox = parts
    await repository.create_tool(server("adder"))
    mcp.offered["adder"] = ["add"]
    assert [tool.tool_name for tool in await toolbox.resolve(["adder"], MEMBER)] == ["add"]

    await repository.delete_tool("adder")
    clock.now = 31
    await toolbox.catalogue()

    assert mcp.discarded == ["adder"]


async def test_two_records_offering_one_name_are_refused(parts: tuple[Any, ...]) -> None:
    repository, mcp, _, toolbox = parts
    await repository.create_tool(server("adder"))
    await repository.create_tool(server("calculator"))
    mcp.offered = {"adder": ["add", "calculator"], "calculator": ["add"]}

    with pytest.raises(RuleViolation) as refused:
        await toolbox.resolve(["adder", "calculator"], MEMBER)

    assert refused.value.code == "tool_name_clash"
    assert "add" in refused.value.detail
