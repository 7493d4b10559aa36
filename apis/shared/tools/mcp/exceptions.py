"""What can go wrong with an MCP server, each a kind of the shared hierarchy so that the handlers answer its status.

- McpServerUnavailable (503): nothing answered: refused, unreachable, timed out, or a 502/503/504 in front of it.
- McpServerFailed (502): it answered, but not as an MCP server should: the credentials refused, no MCP endpoint at
  that URL, a redirect, an MCP error or something that is not MCP.
- McpCredentialsUnreadable (500): stored credentials that MCP_SECRETS_KEY cannot decrypt (the key changed, or the
  stored value was altered); only the requests that need them fail.
"""

from __future__ import annotations

from apis.shared.errors import CorruptRecord, ProviderError, ProviderUnavailableError


class McpServerUnavailable(ProviderUnavailableError):
    """The MCP server could not be reached, or did not answer in time."""

    code = "mcp_server_unavailable"


class McpServerFailed(ProviderError):
    """The MCP server answered, but not with what an MCP server answers."""

    code = "mcp_server_error"


class McpCredentialsUnreadable(CorruptRecord):
    """Sealed credentials that the configured key cannot open."""

    code = "mcp_credentials_unreadable"
