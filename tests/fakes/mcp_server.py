"""A real MCP server, built with the `mcp` SDK (MCPServer, formerly FastMCP), served over streamable HTTP on loopback.

Its tools: `add(a, b)` adds two numbers, `divide(a, b)` divides them and fails as a tool (MCP's `isError`) when
`b` is 0. With `bearer_token` set it refuses a request without `Authorization: Bearer <token>` with a 401, and
with `api_key` set (a header name and value) one without that header, before the SDK sees it, as a gateway in
front of a real server would. Every request is recorded with the JSON-RPC method it carried and the client's
port, so a test can count handshakes (`server/discover` or `initialize`, one per client session) and the TCP
connections they came over.

`stop()` takes the server down (connections refused) and `start()` brings it back on the same port, with a
fresh SDK server: nothing of the old one's state survives, as after a real restart.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MCP_PATH = "/mcp"
HANDSHAKE_METHODS = frozenset({"server/discover", "initialize"})
STARTUP_ATTEMPTS = 1000
STARTUP_POLL_SECONDS = 0.01
# Longer than any test: a client that keeps its connection open is seen reusing it.
KEEP_ALIVE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class McpRequest:
    """One HTTP request to the server: the JSON-RPC method in its body (None for a GET or DELETE) and its port."""

    http_method: str
    rpc_method: str | None
    client_port: int
    authorized: bool


@dataclass
class FakeMcpState:
    """What a test sets (the credentials the server wants) and reads (what it was sent)."""

    bearer_token: str | None = None
    # (header name, value)
    api_key: tuple[str, str] | None = None
    requests: list[McpRequest] = field(default_factory=list)

    def methods(self) -> list[str | None]:
        return [request.rpc_method for request in self.requests if request.authorized]

    @property
    def handshakes(self) -> int:
        """Sessions the server accepted: each client opens one when it starts."""
        return sum(method in HANDSHAKE_METHODS for method in self.methods())

    @property
    def tool_calls(self) -> int:
        return self.methods().count("tools/call")

    @property
    def connections(self) -> set[int]:
        """The client ports seen: one per TCP connection."""
        return {request.client_port for request in self.requests}

    def allows(self, headers: dict[str, str]) -> bool:
        if self.bearer_token is not None and headers.get("authorization") != f"Bearer {self.bearer_token}":
            return False
        if self.api_key is not None:
            name, value = self.api_key
            return headers.get(name.lower()) == value
        return True


def build_mcp_server() -> MCPServer:
    """The SDK server with the fake's two tools."""
    server = MCPServer("colloquy-fake-mcp")

    @server.tool()
    def add(a: float, b: float) -> float:
        """Add two numbers and return their sum."""
        return a + b

    @server.tool()
    def divide(a: float, b: float) -> float:
        """Divide a by b."""
        if b == 0:
            raise ValueError("cannot divide by zero")
        return a / b

    return server


class _Gate:
    """Records each request, and answers 401 to one without the credentials the state asks for."""

    def __init__(self, app: ASGIApp, state: FakeMcpState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _whole_body(receive)
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        authorized = self.state.allows(headers)
        self.state.requests.append(McpRequest(scope["method"], _rpc_method(body), scope["client"][1], authorized))
        if not authorized:
            await send({"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"unauthorized"})
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _whole_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _rpc_method(body: bytes) -> str | None:
    try:
        parsed = json.loads(body) if body else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    method = parsed.get("method") if isinstance(parsed, dict) else None
    return method if isinstance(method, str) else None


class RunningMcpServer:
    """The fake served in a thread; `url` is its MCP endpoint, the same across `stop()` and `start()`."""

    def __init__(self, state: FakeMcpState) -> None:
        self.state = state
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{MCP_PATH}"

    def start(self) -> None:
        """Listen (on the port it had, after a stop); a new SDK server each time, as after a restart."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        app = _Gate(build_mcp_server().streamable_http_app(streamable_http_path=MCP_PATH), self.state)
        # lifespan on: the SDK's session manager runs in the app's lifespan. log_config=None: uvicorn must not
        # reconfigure the test session's logging.
        config = uvicorn.Config(
            app,
            lifespan="on",
            log_config=None,
            access_log=False,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"fake-mcp-{self.port}")
        thread.daemon = True
        thread.start()
        self._server, self._thread, self._socket = server, thread, sock
        pause = threading.Event()
        for _ in range(STARTUP_ATTEMPTS):
            if server.started:
                return
            if not thread.is_alive():
                raise RuntimeError("the fake MCP server stopped while starting")
            pause.wait(STARTUP_POLL_SECONDS)
        raise RuntimeError("the fake MCP server did not start")

    def stop(self) -> None:
        """Stop listening: a client's next request is refused."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None


@contextmanager
def running_mcp_server(state: FakeMcpState | None = None) -> Iterator[RunningMcpServer]:
    """The fake served on loopback until the block ends."""
    running = RunningMcpServer(state if state is not None else FakeMcpState())
    running.start()
    try:
        yield running
    finally:
        running.stop()
