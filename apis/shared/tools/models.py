"""Tool catalogue records as the domain and the reference's client see them (camelCase on the wire).

A record is either a built-in tool (protocol `local`: code in this repository, see builtin.py) or an MCP server
an admin registered (protocol `mcp_external`), whose tools are discovered from the server and offered together.
Who may use a tool is not stored here: app roles grant tools (`grantedTools`), and `isPublic` opens a tool to
every signed-in user (access.py holds the one rule). The reference's other protocols (`aws_sdk`, `mcp` through
an AgentCore gateway, `a2a`) have nothing to run them here, so the catalogue refuses them rather than list
tools that would fail.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from apis.shared.schemas import ApiModel


class ToolCategory(StrEnum):
    SEARCH = "search"
    DATA = "data"
    VISUALIZATION = "visualization"
    DOCUMENT = "document"
    CODE = "code"
    BROWSER = "browser"
    UTILITY = "utility"
    RESEARCH = "research"
    FINANCE = "finance"
    GATEWAY = "gateway"
    CUSTOM = "custom"


class ToolProtocol(StrEnum):
    LOCAL = "local"
    AWS_SDK = "aws_sdk"
    MCP_GATEWAY = "mcp"
    MCP_EXTERNAL = "mcp_external"
    A2A = "a2a"


SUPPORTED_PROTOCOLS = frozenset({ToolProtocol.LOCAL, ToolProtocol.MCP_EXTERNAL})


class ToolStatus(StrEnum):
    """Only an `active` tool is offered to users and turns; the others stay listed for admins."""

    ACTIVE = "active"
    DEPRECATED = "deprecated"
    DISABLED = "disabled"
    COMING_SOON = "coming_soon"


class McpTransport(StrEnum):
    STREAMABLE_HTTP = "streamable-http"
    SSE = "sse"
    STDIO = "stdio"


class McpAuthType(StrEnum):
    NONE = "none"
    AWS_IAM = "aws-iam"
    API_KEY = "api-key"
    BEARER_TOKEN = "bearer-token"
    OAUTH2 = "oauth2"


SUPPORTED_AUTH_TYPES = frozenset({McpAuthType.NONE, McpAuthType.API_KEY, McpAuthType.BEARER_TOKEN})

# The reference client's pattern for tool ids.
TOOL_ID_PATTERN = r"^[a-z][a-z0-9_]{2,49}$"
ToolId = Annotated[str, StringConstraints(pattern=TOOL_ID_PATTERN)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(max_length=500)]
Icon = Annotated[str, StringConstraints(max_length=50)]
ServerUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2048)]
HeaderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")]
McpToolName = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class DiscoveredTool(ApiModel):
    """A tool an MCP server announced at its last discovery: what the admin sees and a dead server's stand-in."""

    name: McpToolName
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=dict)


class McpServerConfig(ApiModel):
    """How to reach an MCP server, and what was found there.

    `sealed_credentials` holds the bearer token or API key encrypted with MCP_SECRETS_KEY (mcp/secrets.py); it
    never leaves the service. `tools` is the admin's list of tool names to offer (empty: every discovered one),
    as the reference names it. `aws_region`, `secret_arn` and the health-check fields are the reference's and
    are kept as sent, unused: nothing here signs with IAM or reads Secrets Manager (schemas refuse those).
    """

    server_url: ServerUrl
    transport: McpTransport = McpTransport.STREAMABLE_HTTP
    auth_type: McpAuthType = McpAuthType.NONE
    aws_region: str | None = None
    api_key_header: HeaderName | None = None
    secret_arn: str | None = None
    tools: list[McpToolName] = Field(default_factory=list, max_length=200)
    health_check_enabled: bool = False
    health_check_interval_seconds: int = Field(default=300, ge=10, le=86_400)
    sealed_credentials: str | None = None
    discovered_tools: list[DiscoveredTool] = Field(default_factory=list)
    last_synced_at: str | None = None
    sync_error: str | None = None

    def offered_names(self) -> list[str]:
        """The discovered tools a turn offers: those the admin listed, or all of them when the list is empty."""
        names = [tool.name for tool in self.discovered_tools]
        return [name for name in names if name in self.tools] if self.tools else names


class ToolRecord(ApiModel):
    """One catalogue entry, stored whole."""

    tool_id: ToolId
    display_name: DisplayName
    description: Description
    category: ToolCategory = ToolCategory.UTILITY
    icon: Icon | None = None
    protocol: ToolProtocol = ToolProtocol.LOCAL
    status: ToolStatus = ToolStatus.ACTIVE
    requires_oauth_provider: str | None = None
    is_public: bool = False
    enabled_by_default: bool = False
    mcp_config: McpServerConfig | None = None
    created_at: str
    updated_at: str
    created_by: str | None = None
    updated_by: str | None = None
    # Bumped by every write: a write names the revision it read, so two admins' edits cannot silently merge.
    revision: int = Field(default=0, ge=0)

    @property
    def is_mcp_server(self) -> bool:
        return self.protocol is ToolProtocol.MCP_EXTERNAL

    @property
    def kind(self) -> str:
        """`builtin` or `mcp`: what runs the tool."""
        return "mcp" if self.is_mcp_server else "builtin"
