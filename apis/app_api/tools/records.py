"""From the admin's bodies to catalogue records: built-in ids checked, credentials sealed, fields merged."""

from __future__ import annotations

from apis.app_api.tools.schemas import McpConfigIn, ToolCreate, ToolUpdate
from apis.shared.clock import now_iso
from apis.shared.tools.builtin_catalog import builtin_tools
from apis.shared.tools.exceptions import SecretsKeyMissing, UnsupportedTool
from apis.shared.tools.mcp.secrets import SecretBox
from apis.shared.tools.models import McpAuthType, McpServerConfig, ToolProtocol, ToolRecord

_NEEDS = {McpAuthType.BEARER_TOKEN: "bearerToken", McpAuthType.API_KEY: "apiKey"}


def new_record(body: ToolCreate, *, box: SecretBox | None, admin_id: str) -> ToolRecord:
    """The record a create stores (before discovery); 422 for a built-in id with no code behind it."""
    config = mcp_config(body.mcp_config, box=box, current=None) if body.mcp_config else None
    now = now_iso()
    record = ToolRecord(
        **body.model_dump(exclude={"mcp_config", "a2a_config"}),
        mcp_config=config,
        created_at=now,
        updated_at=now,
        created_by=admin_id,
        updated_by=admin_id,
    )
    check_runnable(record)
    return record


def updated_record(current: ToolRecord, body: ToolUpdate, *, box: SecretBox | None, admin_id: str) -> ToolRecord:
    """`current` with the sent fields; `mcpConfig` replaces the server's settings and keeps its credential unless
    a new one is sent or the authentication type changed (then a new one is required)."""
    sent = body.model_dump(include=body.model_fields_set - {"mcp_config", "a2a_config"})
    fields: dict[str, object] = {name: value for name, value in sent.items() if value is not None}
    if "requires_oauth_provider" in body.model_fields_set:
        fields["requires_oauth_provider"] = None
    if "icon" in body.model_fields_set:
        fields["icon"] = body.icon
    if body.mcp_config is not None:
        fields["mcp_config"] = mcp_config(body.mcp_config, box=box, current=current.mcp_config)
    elif "mcp_config" in body.model_fields_set:
        fields["mcp_config"] = None
    record = current.model_copy(update={**fields, "updated_at": now_iso(), "updated_by": admin_id})
    if record.protocol is ToolProtocol.LOCAL:
        record = record.model_copy(update={"mcp_config": None})
    check_runnable(record)
    return record


def mcp_config(body: McpConfigIn, *, box: SecretBox | None, current: McpServerConfig | None) -> McpServerConfig:
    """The stored form of a server's settings; the discovery fields carry over from `current` when the server is
    the same one (same URL), since a change of name list or credential does not change what it offers."""
    credential = body.credential()
    if credential and box is None:
        raise SecretsKeyMissing
    sealed = box.seal(credential) if credential and box else None
    if sealed is None and current is not None and current.auth_type is body.auth_type:
        sealed = current.sealed_credentials
    if body.auth_type in _NEEDS and sealed is None:
        name = _NEEDS[body.auth_type]
        raise UnsupportedTool(("mcpConfig", name), f"authType {body.auth_type.value} needs {name}")
    if body.auth_type is McpAuthType.NONE:
        sealed = None
    values = body.model_dump(exclude={"bearer_token", "api_key"})
    carried = {}
    if current is not None and current.server_url == body.server_url:
        carried = current.model_dump(include={"discovered_tools", "last_synced_at", "sync_error"})
    return McpServerConfig.model_validate({**values, **carried, "sealed_credentials": sealed})


def check_runnable(record: ToolRecord) -> None:
    if record.protocol is ToolProtocol.LOCAL and record.tool_id not in builtin_tools():
        raise UnsupportedTool(
            ("toolId",),
            f"no built-in tool has the id {record.tool_id!r}: built-ins are {', '.join(sorted(builtin_tools()))};"
            " register an MCP server with protocol mcp_external",
        )
    if record.protocol is ToolProtocol.MCP_EXTERNAL and record.mcp_config is None:
        raise UnsupportedTool(("mcpConfig",), "protocol mcp_external needs mcpConfig")
