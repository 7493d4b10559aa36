"""Ask an MCP server which tools it has: what an admin's sync stores in the catalogue.

A discovery opens its own short connection (the pool's long-lived clients are for turns) and lists every page.
A failure is an error the admin routes answer: McpServerUnavailable (503) when nothing answered in time,
McpServerFailed (502) when something answered that is not a working MCP server (the credentials refused, no MCP
endpoint at that URL, a redirect, an MCP error). Each is counted in `colloquy_mcp_errors_total{stage="discover"}`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio

from apis.shared.config import ToolsSettings
from apis.shared.errors import AppError
from apis.shared.observability import MCP_ERRORS
from apis.shared.tools.mcp.connection import McpConnection
from apis.shared.tools.mcp.exceptions import McpServerFailed, McpServerUnavailable
from apis.shared.tools.mcp.transport import open_transport

if TYPE_CHECKING:
    import httpx2

CLIENT_NAME = "colloquy"
# A server that pages its tool list forever is not answering.
MAX_PAGES = 50
UNREGISTERED = "unregistered"


@dataclass(frozen=True, slots=True)
class DiscoveredTool:
    """One tool as the server describes it: the name the model calls, what it is for, its JSON input schema."""

    name: str
    description: str
    input_schema: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Answer:
    """The first HTTP answer that was not a success, noted as it arrives: the SDK reports only that one failed."""

    status: int | None = None
    location: str | None = None

    async def note(self, response: httpx2.Response) -> None:
        if self.status is None and response.status_code >= 300:
            self.status = response.status_code
            self.location = response.headers.get("location")


async def discover_tools(
    connection: McpConnection, settings: ToolsSettings, *, server_key: str | None = None
) -> list[DiscoveredTool]:
    """Every tool the server lists; McpServerUnavailable or McpServerFailed when it cannot tell."""
    answer = _Answer()
    deadline = settings.mcp_connect_timeout_seconds + settings.mcp_call_timeout_seconds
    try:
        with anyio.fail_after(deadline):
            return await _list_tools(connection, settings, answer)
    except Exception as exc:
        error = translated(exc, connection, answer.status, answer.location)
        if error is None:
            raise
        MCP_ERRORS.labels(server=server_key or UNREGISTERED, stage="discover").inc()
        if error is exc:
            raise
        raise error from exc


async def _list_tools(connection: McpConnection, settings: ToolsSettings, answer: _Answer) -> list[DiscoveredTool]:
    import mcp.types as mcp_types
    from mcp.client._probe import negotiate_auto
    from mcp.client.session import ClientSession

    found: dict[str, DiscoveredTool] = {}
    client_info = mcp_types.Implementation(name=CLIENT_NAME, version="1")
    async with (
        open_transport(connection, settings, on_response=answer.note) as (read_stream, write_stream),
        ClientSession(
            read_stream, write_stream, read_timeout_seconds=settings.mcp_call_timeout_seconds, client_info=client_info
        ) as session,
    ):
        await negotiate_auto(session)
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await session.list_tools(params=params)
            for tool in page.tools:
                found.setdefault(tool.name, DiscoveredTool(tool.name, tool.description or "", dict(tool.input_schema)))
            cursor = page.next_cursor
            if cursor is None:
                return list(found.values())
    raise McpServerFailed(f"the MCP server at {_place(connection)} listed more than {MAX_PAGES} pages of tools")


def translated(
    exc: BaseException, connection: McpConnection, status: int | None, location: str | None = None
) -> AppError | None:
    """What a failure to talk to the server means for a person; None for anything that is not such a failure."""
    import httpx2
    from mcp.shared.exceptions import MCPError
    from pydantic import ValidationError

    place = _place(connection)
    leaves = list(_leaves(exc))
    if any(isinstance(leaf, AppError) for leaf in leaves):
        return next(leaf for leaf in leaves if isinstance(leaf, AppError))
    if status is not None:
        return _refused(status, location, place)
    if any(isinstance(leaf, TimeoutError | httpx2.TimeoutException) for leaf in leaves):
        return McpServerUnavailable(f"the MCP server at {place} did not answer in time")
    if any(isinstance(leaf, httpx2.TransportError) for leaf in leaves):
        return McpServerUnavailable(f"the MCP server at {place} cannot be reached")
    if mcp_errors := [leaf for leaf in leaves if isinstance(leaf, MCPError)]:
        return McpServerFailed(f"the MCP server at {place} answered with an error: {mcp_errors[0].message[:200]}")
    if any(isinstance(leaf, ValidationError | httpx2.DecodingError) for leaf in leaves):
        return McpServerFailed(f"the server at {place} does not answer as an MCP server does")
    return None


def _refused(status: int, location: str | None, place: str) -> AppError:
    if status in (401, 403):
        return McpServerFailed(
            f"the MCP server at {place} refused the credentials (HTTP {status}): check its authType and credentials",
            code="mcp_credentials_refused",
        )
    if 300 <= status < 400:
        target = f" to {location}" if location else ""
        return McpServerFailed(
            f"the MCP server at {place} answered with a redirect (HTTP {status}){target}: register the URL it"
            " redirects to"
        )
    if status in (404, 405):
        return McpServerFailed(f"there is no MCP endpoint at this URL on {place} (HTTP {status})")
    if status in (502, 503, 504):
        return McpServerUnavailable(f"the MCP server at {place} is unavailable (HTTP {status})")
    return McpServerFailed(f"the MCP server at {place} answered HTTP {status}")


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    """The failures inside task groups' exception groups (the SDK's transport runs in one)."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def _place(connection: McpConnection) -> str:
    """Host and port only: a URL may carry a key in its query or its user part."""
    parts = urlsplit(connection.url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
