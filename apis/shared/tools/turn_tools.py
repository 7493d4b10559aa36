"""A turn's `enabled_tools` made into the tools the model is offered, by the catalogue's one access rule.

Each requested id is checked in API.md's order: a tool the caller may not use is 403 (public, or granted by
one of their roles, access.py), one that does not exist or cannot run here is 400. A built-in is built from its
code with this deployment's settings; an MCP server offers its tools through the process's client pool, which
keeps one connection per server across turns.

The catalogue is read at most once per `ttl_seconds` per process (PERMISSION_CACHE_SECONDS, like the roles it
goes with), and only by turns that ask for tools: an admin's change reaches turns within that bound.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from apis.shared.config import ToolsSettings
from apis.shared.errors import ForbiddenError, RuleViolation
from apis.shared.rbac import EffectivePermissions
from apis.shared.tools import load_tool
from apis.shared.tools.access import is_granted, may_use
from apis.shared.tools.mcp.connection import McpConnection
from apis.shared.tools.mcp.secrets import SecretBox
from apis.shared.tools.mcp_servers import connection_for
from apis.shared.tools.models import DiscoveredTool, ToolRecord
from apis.shared.tools.repository import ToolRepository


class McpToolSource(Protocol):
    """Where an MCP server's tools come from for a turn (mcp/pool.py's pool)."""

    async def tools_for(
        self,
        server_key: str,
        connection: McpConnection,
        allowed: Collection[str] | None = None,
        *,
        known: Sequence[DiscoveredTool] = (),
    ) -> list[Any]: ...

    async def discard(self, server_key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class _Snapshot:
    records: dict[str, ToolRecord]
    expires_at: float


class TurnToolbox:
    """The tools of one process's turns: a cached catalogue, the built-ins' code and the MCP client pool."""

    def __init__(
        self,
        *,
        tools: ToolRepository,
        settings: ToolsSettings,
        mcp: McpToolSource,
        box: SecretBox | None,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tools = tools
        self._settings = settings
        self._mcp = mcp
        self._box = box
        self._ttl_seconds = ttl_seconds
        self._clock = clock
        self._snapshot: _Snapshot | None = None
        self._lock = asyncio.Lock()

    async def catalogue(self) -> dict[str, ToolRecord]:
        """Every record as of at most `ttl_seconds` ago; a storage failure propagates (the turn is a 503)."""
        snapshot = self._snapshot
        if snapshot is not None and snapshot.expires_at > self._clock():
            return snapshot.records
        async with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and snapshot.expires_at > self._clock():
                return snapshot.records
            records = {tool.tool_id: tool for tool in await self._tools.list_tools()}
            previous = self._snapshot.records if self._snapshot is not None else {}
            self._snapshot = _Snapshot(records, self._clock() + self._ttl_seconds)
            for gone in _servers(previous) - _servers(records):
                await self._mcp.discard(gone)  # a deleted server's connection is not kept for nothing
            return records

    async def resolve(self, requested: Sequence[str], permissions: EffectivePermissions) -> list[Any]:
        """The tools to offer for `requested` (duplicates once), or the first refusal."""
        if not requested:
            return []
        records = await self.catalogue()
        checked = [self._checked(tool_id, records.get(tool_id), permissions) for tool_id in dict.fromkeys(requested)]
        offered: list[Any] = []
        for tool in checked:
            offered += await self._built(tool)
        _check_names_distinct(offered)
        return offered

    def _checked(self, tool_id: str, tool: ToolRecord | None, permissions: EffectivePermissions) -> ToolRecord:
        if tool is not None and may_use(tool, permissions):
            return tool
        if not is_granted(tool_id, tool, permissions):
            raise ForbiddenError(f"tool {tool_id!r} is not allowed for your roles", code="tool_not_allowed")
        if tool is None:
            raise RuleViolation(f"unknown tool {tool_id!r}", code="unknown_tool")
        raise RuleViolation(f"tool {tool_id!r} is {tool.status.value}, not active", code="tool_inactive")

    async def _built(self, tool: ToolRecord) -> list[Any]:
        if tool.is_mcp_server and tool.mcp_config is not None:
            config = tool.mcp_config
            return await self._mcp.tools_for(
                tool.tool_id, connection_for(config, self._box), config.tools or None, known=config.discovered_tools
            )
        return [load_tool(tool.tool_id, self._settings)]


def _servers(records: dict[str, ToolRecord]) -> set[str]:
    return {tool_id for tool_id, tool in records.items() if tool.is_mcp_server}


def _check_names_distinct(offered: Sequence[Any]) -> None:
    """The model calls tools by name: two enabled records offering one name (two MCP servers with an `add`) would
    leave it to chance which runs, so the turn is refused (400) naming them."""
    names = [str(tool.tool_name) for tool in offered]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise RuleViolation(
            f"the enabled tools offer the same tool name more than once ({', '.join(clashes)}): enable one of them",
            code="tool_name_clash",
        )
