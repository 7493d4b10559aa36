"""The one way this package talks to an MCP server: the `mcp` SDK's streamable HTTP client over its own HTTP
client, so that the timeouts are ours and redirects are not followed (an API key in a custom header would go
wherever a redirect points; an admin registers the URL the server really answers on).

The `mcp` SDK takes most of a second to import: it is imported when a server is first reached, not when a
service starts.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from apis.shared.config import ToolsSettings
from apis.shared.tools.mcp.connection import McpConnection

if TYPE_CHECKING:
    import httpx2

# Called with each HTTP response the server gives, before its body is read.
ResponseHook = Callable[["httpx2.Response"], Awaitable[None]]


@asynccontextmanager
async def open_transport(
    connection: McpConnection,
    settings: ToolsSettings,
    *,
    on_response: ResponseHook | None = None,
    starting: threading.Event | None = None,
) -> AsyncIterator[Any]:
    """The SDK's (read stream, write stream) pair to `connection`, closed with its HTTP client at the end.

    Requests wait for an answer up to the call timeout, except while `starting` is set: a handshake or a tool
    listing that takes longer than the connect timeout means the server is not answering, and a turn must not
    wait a whole call timeout to learn it.
    """
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    timeout = httpx2.Timeout(settings.mcp_call_timeout_seconds, connect=settings.mcp_connect_timeout_seconds)
    short = httpx2.Timeout(settings.mcp_connect_timeout_seconds).as_dict()

    async def bound(request: httpx2.Request) -> None:
        if starting is not None and starting.is_set():
            request.extensions["timeout"] = short

    hooks: dict[str, list[Any]] = {"request": [bound]}
    if on_response is not None:
        hooks["response"] = [on_response]
    async with (
        httpx2.AsyncClient(
            headers=dict(connection.headers), timeout=timeout, follow_redirects=False, event_hooks=hooks
        ) as http,
        streamable_http_client(connection.url, http_client=http) as streams,
    ):
        yield streams
