"""MCP servers as tool sources: sealed credentials, discovery of a server's tools, and the clients turns share.

Importing this package loads neither the `mcp` SDK nor Strands (each takes about a second): discovery and the pool
import them when a server is first reached.
"""

from __future__ import annotations

from apis.shared.tools.mcp.connection import (
    API_KEY,
    BEARER_TOKEN,
    DEFAULT_API_KEY_HEADER,
    McpConnection,
    credential_headers,
)
from apis.shared.tools.mcp.discovery import DiscoveredTool, discover_tools
from apis.shared.tools.mcp.exceptions import McpCredentialsUnreadable, McpServerFailed, McpServerUnavailable
from apis.shared.tools.mcp.pool import McpClientPool
from apis.shared.tools.mcp.secrets import SecretBox, secret_box_for

__all__ = [
    "API_KEY",
    "BEARER_TOKEN",
    "DEFAULT_API_KEY_HEADER",
    "DiscoveredTool",
    "McpClientPool",
    "McpConnection",
    "McpCredentialsUnreadable",
    "McpServerFailed",
    "McpServerUnavailable",
    "SecretBox",
    "credential_headers",
    "discover_tools",
    "secret_box_for",
]
