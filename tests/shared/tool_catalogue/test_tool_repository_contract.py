"""What every ToolRepository must do, on every backend."""

from __future__ import annotations

import asyncio

import pytest

from apis.shared.tools.exceptions import ToolExists
from apis.shared.tools.models import DiscoveredTool, McpServerConfig, ToolProtocol, ToolRecord, ToolStatus
from apis.shared.tools.repository import ToolRepository

NOW = "2026-11-30T12:00:00.000000Z"


def record(tool_id: str = "calculator", **fields: object) -> ToolRecord:
    return ToolRecord.model_validate(
        {"tool_id": tool_id, "display_name": tool_id.title(), "description": "d", "created_at": NOW, "updated_at": NOW}
        | fields
    )


def mcp_record(tool_id: str = "adder") -> ToolRecord:
    config = McpServerConfig(
        server_url="http://127.0.0.1:9/mcp",
        sealed_credentials="sealed-bytes",
        discovered_tools=[DiscoveredTool(name="add", description="adds", input_schema={"type": "object"})],
    )
    return record(tool_id, protocol=ToolProtocol.MCP_EXTERNAL, mcp_config=config)


async def test_a_created_tool_reads_back_as_it_was_given(tool_repository: ToolRepository) -> None:
    created = mcp_record()
    await tool_repository.create_tool(created)

    assert await tool_repository.get_tool("adder") == created
    assert await tool_repository.list_tools() == [created]


async def test_an_unknown_tool_is_none_and_an_empty_catalogue_lists_nothing(tool_repository: ToolRepository) -> None:
    assert await tool_repository.get_tool("nothing_here") is None
    assert await tool_repository.list_tools() == []


async def test_a_taken_id_is_refused_and_the_first_record_kept(tool_repository: ToolRepository) -> None:
    await tool_repository.create_tool(record(description="first"))

    with pytest.raises(ToolExists):
        await tool_repository.create_tool(record(description="second"))

    stored = await tool_repository.get_tool("calculator")
    assert stored is not None
    assert stored.description == "first"


async def test_concurrent_creates_of_one_id_store_exactly_one(tool_repository: ToolRepository) -> None:
    outcomes = await asyncio.gather(
        *(tool_repository.create_tool(record(description=str(n))) for n in range(5)), return_exceptions=True
    )

    assert sum(not isinstance(outcome, Exception) for outcome in outcomes) == 1
    assert all(isinstance(outcome, ToolExists) for outcome in outcomes if isinstance(outcome, Exception))
    assert len(await tool_repository.list_tools()) == 1


async def test_the_list_is_by_tool_id(tool_repository: ToolRepository) -> None:
    for tool_id in ("web_search", "calculator", "fetch_url_content"):
        await tool_repository.create_tool(record(tool_id))

    assert [tool.tool_id for tool in await tool_repository.list_tools()] == [
        "calculator",
        "fetch_url_content",
        "web_search",
    ]


async def test_a_replace_lands_only_at_the_revision_it_read(tool_repository: ToolRepository) -> None:
    original = await tool_repository.create_tool(record())
    first = original.model_copy(update={"status": ToolStatus.DISABLED, "revision": 1})
    second = original.model_copy(update={"description": "lost", "revision": 1})

    assert await tool_repository.replace_tool(first, read_revision=0) is True
    assert await tool_repository.replace_tool(second, read_revision=0) is False

    assert await tool_repository.get_tool("calculator") == first


async def test_replacing_or_deleting_an_unknown_tool_changes_nothing(tool_repository: ToolRepository) -> None:
    assert await tool_repository.replace_tool(record("ghost_tool", revision=1), read_revision=0) is False
    assert await tool_repository.delete_tool("ghost_tool") is False
    assert await tool_repository.list_tools() == []


async def test_a_deleted_tool_is_gone_once(tool_repository: ToolRepository) -> None:
    await tool_repository.create_tool(record())

    assert await tool_repository.delete_tool("calculator") is True
    assert await tool_repository.delete_tool("calculator") is False
    assert await tool_repository.get_tool("calculator") is None


async def test_preferences_start_empty_and_merge_per_tool(tool_repository: ToolRepository) -> None:
    assert await tool_repository.get_preferences("u1") == {}

    await tool_repository.merge_preferences("u1", {"calculator": True, "web_search": False})
    after = await tool_repository.merge_preferences("u1", {"web_search": True})

    assert after == {"calculator": True, "web_search": True}
    assert await tool_repository.get_preferences("u1") == after
    assert await tool_repository.get_preferences("u2") == {}


async def test_concurrent_merges_of_different_tools_all_land(tool_repository: ToolRepository) -> None:
    tools = [f"tool_{n}" for n in range(8)]

    await asyncio.gather(*(tool_repository.merge_preferences("u1", {tool: True}) for tool in tools))

    assert await tool_repository.get_preferences("u1") == dict.fromkeys(tools, True)


async def test_a_user_id_with_a_hash_keeps_its_own_preferences(tool_repository: ToolRepository) -> None:
    await tool_repository.merge_preferences("a#b", {"calculator": True})
    await tool_repository.merge_preferences("a", {"calculator": False})

    assert await tool_repository.get_preferences("a#b") == {"calculator": True}
    assert await tool_repository.get_preferences("a") == {"calculator": False}
