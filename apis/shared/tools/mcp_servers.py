"""MCP servers in the catalogue: their sealed credentials, their connection, and discovery of their tools.

Discovery runs when an admin registers or changes a server, on demand (`POST /admin/tools/{id}/sync` and the
catalogue sync) and every MCP_SYNC_INTERVAL_SECONDS. Its outcome is stored on the record: the tools found and
when, or why it failed (`syncError`), keeping the last tools found, so a server that is down for a while keeps
its place in users' lists and its calls fail as tool errors in turns (mcp/pool.py), not as failed turns.
"""

from __future__ import annotations

import logging
from typing import Any

from apis.shared.clock import now_iso
from apis.shared.config import Settings, ToolsSettings
from apis.shared.errors import AppError, ConfigurationError, CorruptRecord, ProviderError, RuleViolation
from apis.shared.tools import catalog
from apis.shared.tools.exceptions import SecretsKeyMissing
from apis.shared.tools.mcp.connection import McpConnection, credential_headers
from apis.shared.tools.mcp.discovery import discover_tools
from apis.shared.tools.mcp.secrets import SecretBox, secret_box_for
from apis.shared.tools.models import DiscoveredTool, McpServerConfig, ToolRecord
from apis.shared.tools.repository import ToolRepository

logger = logging.getLogger(__name__)
# What a failed discovery may be: the server's fault, a record that cannot be connected, unreadable credentials.
# Each is shown to the admin on the record; anything else is a bug and propagates.
DISCOVERY_FAILURES = (ProviderError, RuleViolation, CorruptRecord, SecretsKeyMissing)


def open_secret_box(settings: Settings) -> SecretBox | None:
    """The deployment's box, or None (logged) without MCP_SECRETS_KEY on DynamoDB: servers without credentials
    still work then, and what must seal or open one is answered 503 (`SecretsKeyMissing`)."""
    try:
        return secret_box_for(settings)
    except ConfigurationError as exc:
        logger.warning("MCP servers' credentials cannot be stored or used: %s", exc.detail)
        return None


def connection_for(config: McpServerConfig, box: SecretBox | None) -> McpConnection:
    """The server's URL with its credential as headers, decrypted only here, only in memory."""
    credentials: dict[str, str] = {}
    if config.sealed_credentials:
        if box is None:
            raise SecretsKeyMissing
        credentials = box.open(config.sealed_credentials)
    headers = credential_headers(config.auth_type.value, credentials, api_key_header=config.api_key_header)
    return McpConnection.build(config.server_url, headers)


async def discovered(
    tool: ToolRecord, settings: ToolsSettings, box: SecretBox | None
) -> tuple[ToolRecord, AppError | None]:
    """`tool` with the outcome of asking its server for its tools now, and the failure if there was one."""
    config = tool.mcp_config
    if config is None:
        raise RuleViolation(f"tool {tool.tool_id!r} is not an MCP server", code="not_an_mcp_server")
    try:
        found = await discover_tools(connection_for(config, box), settings, server_key=tool.tool_id)
    except DISCOVERY_FAILURES as exc:
        logger.warning("discovery of MCP server %s failed: %s", tool.tool_id, exc.detail)
        failed = config.model_copy(update={"sync_error": exc.detail})
        return tool.model_copy(update={"mcp_config": failed}), exc
    tools = [
        DiscoveredTool(name=item.name, description=item.description, input_schema=item.input_schema) for item in found
    ]
    synced = config.model_copy(update={"discovered_tools": tools, "last_synced_at": now_iso(), "sync_error": None})
    return tool.model_copy(update={"mcp_config": synced}), None


async def sync_server(
    tools: ToolRepository, tool_id: str, settings: ToolsSettings, box: SecretBox | None
) -> tuple[ToolRecord, AppError | None]:
    """Discover one server's tools and store the outcome; the failure, if any, is returned beside the record."""
    current = await catalog.get_or_raise(tools, tool_id)
    outcome, failure = await discovered(current, settings, box)
    config = outcome.mcp_config

    def keep_outcome(tool: ToolRecord) -> ToolRecord:
        # Only discovery's fields: an admin's edit that landed meanwhile stays.
        if tool.mcp_config is None or config is None:
            return tool
        fields = {"discovered_tools": config.discovered_tools, "last_synced_at": config.last_synced_at}
        updated = tool.mcp_config.model_copy(update={**fields, "sync_error": config.sync_error})
        return tool.model_copy(update={"mcp_config": updated})

    return await catalog.update(tools, tool_id, keep_outcome), failure


async def sync_all_servers(
    tools: ToolRepository, settings: ToolsSettings, box: SecretBox | None
) -> list[dict[str, Any]]:
    """Discover every MCP server's tools, one after the other; a line per server for the sync report."""
    report = []
    for tool in await tools.list_tools():
        if not tool.is_mcp_server:
            continue
        synced, failure = await sync_server(tools, tool.tool_id, settings, box)
        config = synced.mcp_config
        report.append(
            {
                "tool_id": tool.tool_id,
                "tools": [item.name for item in config.discovered_tools] if config else [],
                "error": failure.detail if failure else None,
            }
        )
    return report
