"""The built-in tools' place in the catalogue: seeded at start, and the reference's registry sync.

The code (builtin.py) decides which built-in tools exist; the catalogue holds what admins change about them
(name, description, category, status, public, enabled by default). A start creates a record for each built-in
that has none and never overwrites one an admin edited. The sync route reports built-ins missing from the
catalogue (`discovered`) and `local` records with no code behind them (`orphaned`, which it marks deprecated so
that nobody is offered a tool that cannot run).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apis.shared.clock import now_iso
from apis.shared.config import ToolsSettings
from apis.shared.tools import BUILTIN_BY_ID, catalog
from apis.shared.tools.builtin import BuiltinTool
from apis.shared.tools.exceptions import ToolExists
from apis.shared.tools.models import ToolCategory, ToolProtocol, ToolRecord, ToolStatus
from apis.shared.tools.repository import ToolRepository

logger = logging.getLogger(__name__)
# Built-ins that are on for a user until they switch them off (the reference's defaults).
ENABLED_BY_DEFAULT = frozenset({"calculator", "fetch_url_content"})


def builtin_tools() -> Mapping[str, BuiltinTool]:
    """Every built-in tool of this version, by id (their code is loaded only when a turn builds one)."""
    return BUILTIN_BY_ID


def builtin_record(spec: BuiltinTool, *, created_by: str | None = None) -> ToolRecord:
    now = now_iso()
    return ToolRecord(
        tool_id=spec.tool_id,
        display_name=spec.display_name,
        description=spec.description,
        category=ToolCategory(spec.category),
        icon=spec.icon,
        protocol=ToolProtocol.LOCAL,
        enabled_by_default=spec.tool_id in ENABLED_BY_DEFAULT,
        created_at=now,
        updated_at=now,
        created_by=created_by,
        updated_by=created_by,
    )


async def seed_builtin_tools(tools: ToolRepository) -> str:
    """Create the missing built-ins' records; a line for the start's log. Safe from several processes at once."""
    existing = {tool.tool_id for tool in await tools.list_tools()}
    created = []
    for tool_id, spec in builtin_tools().items():
        if tool_id in existing:
            continue
        try:
            await tools.create_tool(builtin_record(spec))
        except ToolExists:
            logger.info("built-in tool %s was seeded by another process", tool_id)
        else:
            created.append(tool_id)
    return f"created built-in tools {', '.join(created)}" if created else "built-in tools: exist"


@dataclass(slots=True)
class SyncReport:
    discovered: list[dict[str, Any]] = field(default_factory=list)
    orphaned: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


async def sync_builtin_tools(tools: ToolRepository, *, admin_id: str, dry_run: bool) -> SyncReport:
    """Compare the catalogue's `local` records with the code; unless `dry_run`, create and deprecate."""
    specs = builtin_tools()
    records = {tool.tool_id: tool for tool in await tools.list_tools()}
    report = SyncReport()
    for tool_id, spec in specs.items():
        if tool_id in records:
            report.unchanged.append(tool_id)
            continue
        report.discovered.append(
            {
                "tool_id": tool_id,
                "display_name": spec.display_name,
                "description": spec.description,
                "category": spec.category,
                "protocol": ToolProtocol.LOCAL.value,
                "action": "create",
            }
        )
        if not dry_run:
            try:
                await tools.create_tool(builtin_record(spec, created_by=admin_id))
            except ToolExists:
                logger.info("built-in tool %s was created meanwhile", tool_id)
    for tool_id, record in records.items():
        if record.protocol is ToolProtocol.LOCAL and tool_id not in specs:
            report.orphaned.append({"tool_id": tool_id, "action": "mark_deprecated"})
            if not dry_run and record.status is not ToolStatus.DEPRECATED:
                await catalog.update(tools, tool_id, lambda tool: _deprecated(tool, admin_id))
    report.unchanged.sort()
    return report


def _deprecated(tool: ToolRecord, admin_id: str) -> ToolRecord:
    return tool.model_copy(update={"status": ToolStatus.DEPRECATED, "updated_at": now_iso(), "updated_by": admin_id})


def deployment_runs(tool: ToolRecord, settings: ToolsSettings) -> bool:
    """Whether this deployment can run the record: an MCP server always can (a dead one fails as tool errors),
    a built-in when its code exists and what it needs is configured."""
    if tool.is_mcp_server:
        return True
    spec = builtin_tools().get(tool.tool_id)
    return spec is not None and spec.available(settings)
