"""What every fake provider shares: a state object, request recording, a failure switch, and a live server.

A fake is a Starlette app built by `fake_app` around a state object that a test fills and reads: the
models to list, `fail_status` to make every request fail, and `requests`, each request as the SDK sent it.
`serve` runs the app with uvicorn on a loopback port in a thread, so the real SDK talks real HTTP to it.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STARTUP_ATTEMPTS = 1000
STARTUP_POLL_SECONDS = 0.01


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the fake received it; header names are lower case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    # The body parsed as JSON; None when it is empty or not JSON.
    json: Any

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class FakeProviderState:
    """What a test sets and reads on any fake; each provider's state adds its catalogue."""

    requests: list[RecordedRequest] = field(default_factory=list)
    # When set, every request is answered with this status and the provider's error body.
    fail_status: int | None = None


S = TypeVar("S", bound=FakeProviderState)
ErrorResponse = Callable[[int, str], Response]


@dataclass(frozen=True, slots=True)
class RunningFake(Generic[S]):
    """A fake being served: where it listens and the state that drives it."""

    url: str
    state: S


def _recorded(scope: Scope, body: bytes) -> RecordedRequest:
    try:
        parsed: Any = json.loads(body) if body else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        parsed = None
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    return RecordedRequest(
        method=scope["method"],
        path=scope["path"],
        query=parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True),
        headers=headers,
        body=body,
        json=parsed,
    )


class RecordingMiddleware:
    """Appends every HTTP request to `requests` before the app sees it, then replays its body to the app."""

    def __init__(self, app: ASGIApp, requests: list[RecordedRequest]) -> None:
        self.app = app
        self.requests = requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        self.requests.append(_recorded(scope, body))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class FailSwitchMiddleware:
    """Answers every HTTP request with the provider's error while the state's `fail_status` is set."""

    def __init__(self, app: ASGIApp, state: FakeProviderState, error_response: ErrorResponse) -> None:
        self.app = app
        self.state = state
        self.error_response = error_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = self.state.fail_status
        if scope["type"] != "http" or status is None:
            await self.app(scope, receive, send)
            return
        response = self.error_response(status, f"the fake was told to fail with {status}")
        await response(scope, receive, send)


def fake_app(routes: Sequence[BaseRoute], state: FakeProviderState, error_response: ErrorResponse) -> Starlette:
    """A fake provider's app: `routes`, behind recording (outermost, so failed requests count) and the switch."""
    return Starlette(
        routes=list(routes),
        middleware=[
            Middleware(RecordingMiddleware, requests=state.requests),
            Middleware(FailSwitchMiddleware, state=state, error_response=error_response),
        ],
    )


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    pause = threading.Event()
    for _ in range(STARTUP_ATTEMPTS):
        if server.started:
            return
        if not thread.is_alive():
            raise RuntimeError("the fake server stopped while starting")
        pause.wait(STARTUP_POLL_SECONDS)
    raise RuntimeError("the fake server did not start")


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Serve `app` on a free loopback port in a thread until the block ends; yields its base URL."""
    # Bound here and handed to uvicorn, so no other process can take the port between choosing and listening.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    # log_config=None: uvicorn must not reconfigure the test session's logging.
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"fake-{port}", daemon=True)
    thread.start()
    try:
        _wait_until_started(server, thread)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def closed_port_url() -> str:
    """A loopback URL with nothing listening: the port is bound by the OS for a moment, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
