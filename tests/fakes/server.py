"""What every fake provider shares: a state object, request recording, a failure switch, and a live server.

A fake is a Starlette app built by `fake_app` around a state object that a test fills and reads: the
models to list, `fail_status` to make every request fail, and `requests`, each request as the SDK sent it.
`serve` runs the app with uvicorn on a loopback port in a thread, so the real SDK talks real HTTP to it.

Chat endpoints answer from the state's `script` (tests/fakes/scripts.py): `take_turn` records the call in
`chat_calls` and takes the next turn; a `ScriptedStream` plays it through the provider's `TurnEncoder`, and
appends to `stream_outcomes` how the stream ended.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar
from urllib.parse import parse_qs

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.fakes.scripts import ChatScript, Content, Drop, Fail, StreamError, Turn, failure, total_delay

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
    # The port the request came from: requests over one kept-alive connection share it.
    client_port: int | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


StreamOutcome = Literal["completed", "stream_error", "dropped", "disconnected"]


@dataclass(frozen=True, slots=True)
class ChatCall:
    """One call to a chat endpoint: the model the path or body named, whether it streams, and the JSON body."""

    model: str
    stream: bool
    # The request body as JSON: messages, system prompt, temperature, token limit, tools, cache points, media.
    body: Any
    headers: dict[str, str]


@dataclass
class FakeProviderState:
    """What a test sets and reads on any fake; each provider's state adds its catalogue."""

    requests: list[RecordedRequest] = field(default_factory=list)
    # When set, every request is answered with this status and the provider's error body.
    fail_status: int | None = None
    # What the chat endpoints answer, one turn per call.
    script: ChatScript = field(default_factory=ChatScript)
    # Each call to a chat endpoint, in order: what the model was sent.
    chat_calls: list[ChatCall] = field(default_factory=list)
    # How each scripted stream ended, in order.
    stream_outcomes: list[StreamOutcome] = field(default_factory=list)


S = TypeVar("S", bound=FakeProviderState)
ErrorResponse = Callable[[int, str], Response]


class ChatErrorResponse(Protocol):
    """A provider's error answer; `code` is its own code (OpenAI's `code`, Bedrock's error type, Google's status)."""

    def __call__(self, status: int, message: str, *, code: str | None = None) -> Response: ...


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
        client_port=scope["client"][1] if scope.get("client") else None,
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


NO_TURN_LEFT = "the fake's chat script has no turn left for this call"


async def json_body(request: Request) -> Any:
    """The request's body parsed as JSON; None when it is empty or not JSON."""
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


async def take_turn(
    state: FakeProviderState,
    request: Request,
    body: Any,
    error_response: ChatErrorResponse,
    *,
    model: str,
    stream: bool,
) -> Turn | Response:
    """Record a chat call and take its turn, or the error that answers it before the first byte.

    That error is the turn's `Fail` (after its delay), or a 400 when the script has no turn left.
    """
    headers = {name.lower(): value for name, value in request.headers.items()}
    state.chat_calls.append(ChatCall(model=model, stream=stream, body=body, headers=headers))
    turn = state.script.next_turn()
    if turn is None:
        return error_response(400, NO_TURN_LEFT)
    if (failed := failure(turn)) is not None:
        await anyio.sleep(failed.delay_seconds)
        return error_response(failed.status, failed.message, code=failed.code)
    return turn


async def whole_answer(turn: Turn, answer: dict[str, Any], error_response: ErrorResponse) -> Response:
    """A non-streaming answer after the turn's delays: `answer`, the error of a `StreamError`, or a cut `Drop`."""
    await anyio.sleep(total_delay(turn))
    for step in turn:
        if isinstance(step, Drop):
            return CutResponse(json.dumps(answer).encode("utf-8"), media_type="application/json")
        if isinstance(step, StreamError):
            return error_response(step.status, step.message)
    return JSONResponse(answer)


def sse_event(data: Any, *, separator: str = "\n\n") -> bytes:
    """One server-sent event carrying `data` as JSON on a single `data:` line."""
    return f"data: {json.dumps(data)}{separator}".encode()


class TurnEncoder(Protocol):
    """How one provider writes a scripted turn on its wire.

    `opening` gives the frames sent as the stream starts, `step` those of one content step (usage and
    MaxTokens steps usually give none: the provider reports them at the end), `stream_error` the frames of
    the provider's in-stream error (the stream then ends), and `closing` the frames that end a complete turn:
    stop reason, usage and any terminator. Each frame is sent as one HTTP chunk.
    """

    def opening(self) -> list[bytes]: ...

    def step(self, step: Content) -> list[bytes]: ...

    def stream_error(self, error: StreamError) -> list[bytes]: ...

    def closing(self) -> list[bytes]: ...


class ScriptedStream(Response):
    """A streamed answer that plays a turn step by step, and notices a client that goes away meanwhile."""

    def __init__(
        self,
        turn: Turn,
        encoder: TurnEncoder,
        outcomes: list[StreamOutcome],
        *,
        media_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)
        self.turn = turn
        self.encoder = encoder
        self.outcomes = outcomes

    async def _chunk(self, send: Send, frames: list[bytes]) -> None:
        for frame in frames:
            await send({"type": "http.response.body", "body": frame, "more_body": True})

    async def _play(self, send: Send) -> StreamOutcome:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await self._chunk(send, self.encoder.opening())
        for step in self.turn:
            await anyio.sleep(step.delay_seconds)
            match step:
                case Drop():
                    # Returning without the final chunk makes uvicorn close the connection mid-body.
                    return "dropped"
                case StreamError():
                    await self._chunk(send, self.encoder.stream_error(step))
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return "stream_error"
                case Fail():
                    continue
                case _:
                    await self._chunk(send, self.encoder.step(step))
        await self._chunk(send, self.encoder.closing())
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return "completed"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def play() -> None:
                try:
                    self.outcomes.append(await self._play(send))
                except anyio.get_cancelled_exc_class():
                    self.outcomes.append("disconnected")
                    raise
                group.cancel_scope.cancel()

            group.start_soon(play)
            while (await receive())["type"] != "http.disconnect":
                pass
            group.cancel_scope.cancel()


class CutResponse(Response):
    """A whole-body answer cut halfway: the headers promise `body`, the connection closes after half of it."""

    def __init__(self, body: bytes, *, media_type: str) -> None:
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.body = body
        self.init_headers(None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})
