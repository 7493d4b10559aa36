"""Bodies and answers of the tool routes, in the reference's names and casing.

Two differences from the reference, both additions its client ignores: an MCP server's credential is sent in the
body (`bearerToken` or `apiKey`, write-only: answers say only `hasCredentials`), since nothing here reads AWS
Secrets Manager; and answers carry what discovery found (`discoveredTools`, `lastSyncedAt`, `syncError`) and the
record's `kind`. Protocols and authentication types that nothing here can run are refused (422) rather than
stored as tools that would fail in every turn.
"""

from __future__ import annotations

from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from apis.shared.rbac import RoleId
from apis.shared.schemas import ApiModel
from apis.shared.tools.catalog import RoleGrant, UserTool
from apis.shared.tools.models import (
    SUPPORTED_AUTH_TYPES,
    SUPPORTED_PROTOCOLS,
    Description,
    DiscoveredTool,
    DisplayName,
    HeaderName,
    Icon,
    McpAuthType,
    McpServerConfig,
    McpToolName,
    McpTransport,
    ServerUrl,
    ToolCategory,
    ToolId,
    ToolProtocol,
    ToolRecord,
    ToolStatus,
)

Secret = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


def _http_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    return url


def _supported_protocol(protocol: ToolProtocol) -> ToolProtocol:
    if protocol not in SUPPORTED_PROTOCOLS:
        raise ValueError(
            f"protocol {protocol.value!r} is not supported here: use 'local' for a built-in tool or 'mcp_external'"
            " for an MCP server"
        )
    return protocol


def _no_oauth(provider: str | None) -> str | None:
    if provider:
        raise ValueError("tools that act with a user's OAuth connection are not supported here")
    return None


class McpConfigIn(ApiModel):
    """An MCP server's settings as the reference's form sends them, with its credential (write-only)."""

    server_url: Annotated[ServerUrl, AfterValidator(_http_url)]
    transport: McpTransport = McpTransport.STREAMABLE_HTTP
    auth_type: McpAuthType = McpAuthType.NONE
    aws_region: str | None = None
    api_key_header: HeaderName | None = None
    secret_arn: str | None = None
    tools: list[McpToolName] = Field(default_factory=list, max_length=200)
    health_check_enabled: bool = False
    health_check_interval_seconds: int = Field(default=300, ge=10, le=86_400)
    bearer_token: Secret | None = None
    api_key: Secret | None = None

    @field_validator("transport")
    @classmethod
    def _streamable_http(cls, transport: McpTransport) -> McpTransport:
        if transport is not McpTransport.STREAMABLE_HTTP:
            raise ValueError("only the streamable-http transport is supported")
        return transport

    @field_validator("auth_type")
    @classmethod
    def _supported_auth(cls, auth_type: McpAuthType) -> McpAuthType:
        if auth_type not in SUPPORTED_AUTH_TYPES:
            raise ValueError("authType must be none, api-key or bearer-token (with its bearerToken or apiKey)")
        return auth_type

    @field_validator("secret_arn")
    @classmethod
    def _no_secret_arn(cls, secret_arn: str | None) -> str | None:
        if secret_arn:
            raise ValueError("secrets are not read from AWS Secrets Manager here: send bearerToken or apiKey")
        return None

    @model_validator(mode="after")
    def _credential_matches(self) -> Self:
        if self.auth_type is McpAuthType.NONE and (self.bearer_token or self.api_key):
            raise ValueError("authType none takes no bearerToken or apiKey")
        if self.auth_type is McpAuthType.BEARER_TOKEN and self.api_key:
            raise ValueError("authType bearer-token takes a bearerToken, not an apiKey")
        if self.auth_type is McpAuthType.API_KEY and self.bearer_token:
            raise ValueError("authType api-key takes an apiKey, not a bearerToken")
        return self

    def credential(self) -> dict[str, str] | None:
        """What this body sends to seal, or None when it sends nothing (an update then keeps the stored one)."""
        if self.bearer_token:
            return {"bearerToken": self.bearer_token}
        if self.api_key:
            return {"apiKey": self.api_key}
        return None


class ToolCreate(ApiModel):
    tool_id: ToolId
    display_name: DisplayName
    description: Description
    category: ToolCategory = ToolCategory.UTILITY
    icon: Icon | None = None
    protocol: Annotated[ToolProtocol, AfterValidator(_supported_protocol)] = ToolProtocol.LOCAL
    status: ToolStatus = ToolStatus.ACTIVE
    requires_oauth_provider: Annotated[str | None, AfterValidator(_no_oauth)] = None
    is_public: bool = False
    enabled_by_default: bool = False
    mcp_config: McpConfigIn | None = None
    a2a_config: dict[str, Any] | None = Field(default=None, alias="a2aConfig")

    @model_validator(mode="after")
    def _config_matches_protocol(self) -> Self:
        if self.a2a_config is not None:
            raise ValueError("a2aConfig is for agent-to-agent tools, which are not supported here")
        if self.protocol is ToolProtocol.MCP_EXTERNAL and self.mcp_config is None:
            raise ValueError("protocol mcp_external needs mcpConfig (the server's URL and authentication)")
        if self.protocol is ToolProtocol.LOCAL and self.mcp_config is not None:
            raise ValueError("mcpConfig belongs to protocol mcp_external, not to a built-in tool")
        return self


class ToolUpdate(ApiModel):
    """Only the fields sent change; `mcpConfig` replaces the server's settings (its credential is kept unless a
    new one is sent or authType changes)."""

    display_name: DisplayName | None = None
    description: Description | None = None
    category: ToolCategory | None = None
    icon: Icon | None = None
    protocol: Annotated[ToolProtocol | None, AfterValidator(lambda p: p if p is None else _supported_protocol(p))] = (
        None
    )
    status: ToolStatus | None = None
    requires_oauth_provider: Annotated[str | None, AfterValidator(_no_oauth)] = None
    is_public: bool | None = None
    enabled_by_default: bool | None = None
    mcp_config: McpConfigIn | None = None
    a2a_config: dict[str, Any] | None = Field(default=None, alias="a2aConfig")

    @model_validator(mode="after")
    def _no_a2a(self) -> Self:
        if self.a2a_config is not None:
            raise ValueError("a2aConfig is for agent-to-agent tools, which are not supported here")
        return self


class McpConfigRead(ApiModel):
    server_url: str
    transport: McpTransport
    auth_type: McpAuthType
    aws_region: str | None = None
    api_key_header: str | None = None
    secret_arn: str | None = None
    tools: list[str]
    health_check_enabled: bool
    health_check_interval_seconds: int
    has_credentials: bool
    discovered_tools: list[DiscoveredTool]
    last_synced_at: str | None = None
    sync_error: str | None = None

    @classmethod
    def of(cls, config: McpServerConfig) -> McpConfigRead:
        values = config.model_dump(exclude={"sealed_credentials"})
        return cls.model_validate({**values, "has_credentials": config.sealed_credentials is not None})


class AdminToolRead(ApiModel):
    tool_id: str
    display_name: str
    description: str
    category: ToolCategory
    icon: str | None
    protocol: ToolProtocol
    status: ToolStatus
    requires_oauth_provider: str | None
    is_public: bool
    allowed_app_roles: list[str]
    enabled_by_default: bool
    created_at: str
    updated_at: str
    created_by: str | None
    updated_by: str | None
    mcp_config: McpConfigRead | None
    a2a_config: None = Field(default=None, alias="a2aConfig")
    kind: str

    @classmethod
    def of(cls, tool: ToolRecord, allowed_app_roles: list[str]) -> AdminToolRead:
        values = tool.model_dump(exclude={"mcp_config", "revision"})
        config = McpConfigRead.of(tool.mcp_config) if tool.mcp_config else None
        return cls.model_validate(
            {**values, "mcp_config": config, "allowed_app_roles": allowed_app_roles, "kind": tool.kind}
        )


class AdminToolList(ApiModel):
    tools: list[AdminToolRead]
    total: int


class UserToolRead(ApiModel):
    tool_id: str
    display_name: str
    description: str
    category: ToolCategory
    icon: str | None
    protocol: ToolProtocol
    status: ToolStatus
    requires_oauth_provider: str | None
    granted_by: list[str]
    enabled_by_default: bool
    user_enabled: bool | None
    is_enabled: bool

    @classmethod
    def of(cls, item: UserTool) -> UserToolRead:
        tool = item.tool
        return cls(
            tool_id=tool.tool_id,
            display_name=tool.display_name,
            description=tool.description,
            category=tool.category,
            icon=tool.icon,
            protocol=tool.protocol,
            status=tool.status,
            requires_oauth_provider=tool.requires_oauth_provider,
            granted_by=item.granted_by,
            enabled_by_default=tool.enabled_by_default,
            user_enabled=item.user_enabled,
            is_enabled=item.is_enabled,
        )


class UserToolsRead(ApiModel):
    tools: list[UserToolRead]
    categories: list[str]
    app_roles_applied: list[str]


class ToolPreferencesIn(ApiModel):
    preferences: Annotated[dict[ToolId, bool], Field(max_length=500)]


class Message(ApiModel):
    message: str


class CatalogueTool(ApiModel):
    """The reference's older listing (`/tools/catalog`, `/tools/available`)."""

    tool_id: str
    name: str
    description: str
    category: str
    is_gateway_tool: bool
    icon: str | None

    @classmethod
    def of(cls, tool: ToolRecord) -> CatalogueTool:
        return cls(
            tool_id=tool.tool_id,
            name=tool.display_name,
            description=tool.description,
            category=tool.category.value,
            is_gateway_tool=tool.protocol is ToolProtocol.MCP_GATEWAY,
            icon=tool.icon,
        )


class CatalogueList(ApiModel):
    tools: list[CatalogueTool]
    total: int


class ToolPermissionsRead(ApiModel):
    user_id: str
    allowed_tools: list[str]
    has_wildcard: bool
    app_roles: list[str]


class RoleGrantRead(ApiModel):
    role_id: str
    display_name: str
    grant_type: str
    inherited_from: str | None
    enabled: bool

    @classmethod
    def of(cls, grant: RoleGrant) -> RoleGrantRead:
        return cls(
            role_id=grant.role_id,
            display_name=grant.display_name,
            grant_type=grant.grant_type,
            inherited_from=grant.inherited_from,
            enabled=grant.enabled,
        )


class ToolRolesRead(ApiModel):
    tool_id: str
    roles: list[RoleGrantRead]


class ToolRolesIn(ApiModel):
    app_role_ids: Annotated[list[RoleId], Field(max_length=100)]


class SyncRead(ApiModel):
    """The reference's report (its items keep its snake_case keys), and what each MCP server's discovery found."""

    discovered: list[dict[str, Any]]
    orphaned: list[dict[str, Any]]
    unchanged: list[str]
    dry_run: bool
    mcp_servers: list[dict[str, Any]] = Field(default_factory=list)
