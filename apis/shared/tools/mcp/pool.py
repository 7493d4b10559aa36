"""One started Strands MCP client per registered server, shared by every turn of the service.

A turn asks `tools_for` and gets the server's tools for its agent. The first turn that needs a server starts its
client (Strands runs it on a thread of its own, with its own event loop); later turns reuse it, so a turn never
opens a connection of its own. A server's key names it (its catalogue record); the connection's fingerprint
tells when the admin changed its URL or credentials, and then the old client is stopped and a new one started.

A server that is down never fails a turn. When its client cannot start, the turn gets stand-ins with the specs
the catalogue last discovered, which answer every call with a tool error, and the start is not tried again
before a back-off (doubling from `retry_after_seconds` up to `max_retry_after_seconds`) so that a dead server is
not asked once per turn. When a call fails outside the tool (the connection dropped, no answer in time) the model
reads a tool error, and the next turn replaces the client. Each failure counts in
`colloquy_mcp_errors_total{server, stage}` (stage `connect` or `call`).

Concurrency: turns run on one event loop, and starting or stopping a client blocks (Strands waits for its thread),
so that work runs in a worker thread under a per-server lock; two turns never start two clients for one server.
A turn waits for another's start at most about the connect timeout, then goes on with stand-ins. A turn whose
server is started (or known down) is answered on the event loop without a thread.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import anyio

from apis.shared.config import ToolsSettings
from apis.shared.observability import MCP_ERRORS
from apis.shared.tools.mcp.connection import McpConnection
from apis.shared.tools.mcp.discovery import CLIENT_NAME, translated
from apis.shared.tools.mcp.transport import open_transport

if TYPE_CHECKING:
    from strands.tools.mcp import MCPClient
    from strands.types.tools import AgentTool

    from apis.shared.tools.mcp.agent_tools import ToolDescription

logger = logging.getLogger(__name__)

# Strands' `stop()` hands a coroutine to the client's event loop even when that loop has ended (the connection
# failed, the reason for stopping it), and the coroutine is dropped unawaited, sometimes only at a later garbage
# collection. Harmless, and nothing a reader of the logs could act on: that one warning is hidden, for the whole
# process, from the moment the pool can exist.
STRANDS_STOP_WARNING = r"coroutine 'MCPClient\.stop\.<locals>\._set_close_event' was never awaited"
warnings.filterwarnings("ignore", message=STRANDS_STOP_WARNING, category=RuntimeWarning)

# A start takes at most about two connect timeouts (a handshake that times out, then Strands waiting for its thread
# to end, each request bounded by the connect timeout while starting). A turn waiting for another turn's start of
# the same server gives up after three and goes on with stand-ins: a backstop, not the expected path.
_START_WAIT_TIMEOUTS = 3
_START_WAIT_MARGIN_SECONDS = 1.0
# A server that pages its tool list forever is not answering.
_MAX_PAGES = 50


@dataclass(eq=False)
class _Server:
    """One server's client and what is known about it; changed only under `lock`, except the `broken` flag."""

    key: str
    fingerprint: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    client: MCPClient | None = None
    tools: list[AgentTool] = field(default_factory=list)
    # Set from a turn's call when the client failed; the next turn replaces the client.
    broken: bool = False
    failures: int = 0
    retry_at: float = 0.0
    # Replaced by a newer configuration, discarded or closed: never started again.
    retired: bool = False


class McpClientPool:
    """The MCP clients of one service: created in its composition root, closed at shutdown."""

    def __init__(
        self,
        settings: ToolsSettings,
        *,
        retry_after_seconds: float = 5.0,
        max_retry_after_seconds: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._retry_after = retry_after_seconds
        self._max_retry_after = max_retry_after_seconds
        self._clock = clock
        self._servers: dict[str, _Server] = {}
        self._lock = threading.Lock()
        self._closed = False

    async def tools_for(
        self,
        server_key: str,
        connection: McpConnection,
        allowed: Collection[str] | None = None,
        *,
        known: Sequence[ToolDescription] = (),
    ) -> list[AgentTool]:
        """The server's tools named in `allowed` (all when None), for an agent's `tools=`; never raises for a
        server that is down: `known` (the catalogue's last discovery) then gives stand-ins that answer errors."""
        server = self._servers.get(server_key)
        if server is not None and server.fingerprint == connection.fingerprint and not server.retired:
            if server.client is not None and not server.broken:
                return _select(server.tools, allowed)
            if server.client is None and self._clock() < server.retry_at:
                return self._stand_ins(server_key, allowed, known)
        return await anyio.to_thread.run_sync(self._prepare, server_key, connection, allowed, known)

    async def discard(self, server_key: str) -> None:
        """Stop the server's client, if any: its record was deleted."""
        with self._lock:
            server = self._servers.pop(server_key, None)
        if server is not None:
            await anyio.to_thread.run_sync(self._retire, server)

    async def close(self) -> None:
        """Stop every client; later turns get stand-ins. Called once, at shutdown."""
        with self._lock:
            self._closed = True
            servers = list(self._servers.values())
            self._servers.clear()
        for server in servers:
            await anyio.to_thread.run_sync(self._retire, server)

    # --- in a worker thread ----------------------------------------------------------------------------------------

    def _prepare(
        self,
        server_key: str,
        connection: McpConnection,
        allowed: Collection[str] | None,
        known: Sequence[ToolDescription],
    ) -> list[AgentTool]:
        server, replaced = self._server_for(server_key, connection)
        if replaced is not None:
            self._retire(replaced)
        if server is None:
            return self._stand_ins(server_key, allowed, known)
        wait = self._settings.mcp_connect_timeout_seconds * _START_WAIT_TIMEOUTS + _START_WAIT_MARGIN_SECONDS
        if not server.lock.acquire(timeout=wait):
            logger.warning(
                "MCP server %s: another turn is still connecting to it; this one goes on without", server_key
            )
            return self._stand_ins(server_key, allowed, known)
        try:
            if server.retired:
                return self._stand_ins(server_key, allowed, known)
            if server.client is not None and server.broken:
                self._stop(server)
            if server.client is None and self._clock() >= server.retry_at:
                self._start(server, connection)
            if server.client is not None:
                return _select(server.tools, allowed)
            return self._stand_ins(server_key, allowed, known)
        finally:
            server.lock.release()

    def _server_for(self, server_key: str, connection: McpConnection) -> tuple[_Server | None, _Server | None]:
        """The server's entry (None once the pool is closed), and the entry it replaced for a new configuration."""
        with self._lock:
            if self._closed:
                return None, None
            current = self._servers.get(server_key)
            if current is not None and current.fingerprint == connection.fingerprint:
                return current, None
            fresh = _Server(key=server_key, fingerprint=connection.fingerprint)
            self._servers[server_key] = fresh
            return fresh, current

    def _start(self, server: _Server, connection: McpConnection) -> None:
        """Start a client and list the server's tools; on failure, count it and wait before the next try."""
        from strands.tools.mcp import MCPClient
        from strands.types.exceptions import MCPClientInitializationError

        starting = threading.Event()
        starting.set()
        client = MCPClient(
            lambda: open_transport(connection, self._settings, starting=starting),
            startup_timeout=max(1, math.ceil(self._settings.mcp_connect_timeout_seconds)),
            application_name=CLIENT_NAME,
        )
        try:
            client.start()
        except MCPClientInitializationError as exc:
            # Strands stopped the client already; the turn goes on with stand-ins.
            self._failed_to_start(server, connection, exc)
            return
        try:
            tools = self._listed_tools(server, client)
        except Exception as exc:
            _stop_client(server.key, client)
            if translated(exc, connection, None) is None:
                raise
            self._failed_to_start(server, connection, exc)
            return
        finally:
            starting.clear()
        server.tools = tools
        server.client = client
        server.broken = False
        server.failures = 0
        server.retry_at = 0.0
        logger.info("MCP server %s: connected, %d tools", server.key, len(tools))

    def _listed_tools(self, server: _Server, client: MCPClient) -> list[AgentTool]:
        from strands.tools.mcp import MCPAgentTool

        from apis.shared.tools.mcp.agent_tools import PooledMcpTool

        timeout = timedelta(seconds=self._settings.mcp_call_timeout_seconds)
        tools: dict[str, AgentTool] = {}
        token: str | None = None
        for _ in range(_MAX_PAGES):
            page = client.list_tools_sync(token)
            for listed in page:
                inner = MCPAgentTool(listed.mcp_tool, client, timeout=timeout)
                tools.setdefault(inner.tool_name, PooledMcpTool(inner, self._reporter(server, client)))
            token = page.pagination_token
            if token is None:
                break
        return list(tools.values())

    def _failed_to_start(self, server: _Server, connection: McpConnection, exc: BaseException) -> None:
        MCP_ERRORS.labels(server=server.key, stage="connect").inc()
        server.failures += 1
        backoff = min(self._max_retry_after, self._retry_after * 2 ** (server.failures - 1))
        server.retry_at = self._clock() + backoff
        # Strands wraps what stopped the start in its own error.
        reason = translated(exc.__cause__ or exc, connection, None)
        logger.warning(
            "MCP server %s cannot be reached (%s): its tools answer with an error, next try in %.0f s",
            server.key,
            reason.detail if reason is not None else type(exc).__name__,
            backoff,
        )

    def _reporter(self, server: _Server, client: MCPClient) -> Callable[[], None]:
        """What a tool of `client` calls when a call failed outside the tool: the next turn replaces the client."""

        def report() -> None:
            MCP_ERRORS.labels(server=server.key, stage="call").inc()
            if server.client is client:
                server.broken = True  # one attribute write: safe from the event loop without the lock

        return report

    def _stand_ins(
        self, server_key: str, allowed: Collection[str] | None, known: Sequence[ToolDescription]
    ) -> list[AgentTool]:
        from apis.shared.tools.mcp.agent_tools import UnavailableMcpTool

        def count() -> None:
            MCP_ERRORS.labels(server=server_key, stage="call").inc()

        described = {tool.name: tool for tool in known}
        names = list(described) if allowed is None else list(dict.fromkeys(allowed))
        stand_ins: list[AgentTool] = []
        for name in names:
            tool = described.get(name)
            description, schema = (tool.description, tool.input_schema) if tool is not None else ("", {})
            stand_ins.append(UnavailableMcpTool(name, description, schema, count))
        return stand_ins

    def _retire(self, server: _Server) -> None:
        with server.lock:
            server.retired = True
            self._stop(server)

    def _stop(self, server: _Server) -> None:
        client, server.client, server.tools = server.client, None, []
        if client is not None:
            _stop_client(server.key, client)


def _stop_client(server_key: str, client: MCPClient) -> None:
    try:
        client.stop(None, None, None)
    except RuntimeError:
        # Strands reports here that the connection had failed: the reason it is being stopped. Its thread has
        # ended and it has cleaned up before saying so.
        logger.info("MCP server %s: stopped a client whose connection had failed", server_key)


def _select(tools: Sequence[AgentTool], allowed: Collection[str] | None) -> list[AgentTool]:
    if allowed is None:
        return list(tools)
    wanted = set(allowed)
    return [tool for tool in tools if tool.tool_name in wanted]
