"""Web pages on loopback for the fetch tool's tests, over HTTP and over TLS, and a way to call a tool as Strands does.

The pages are a Starlette app behind the fakes' request recording (tests/fakes/server.py), so a test reads the
`Host` header each request arrived with. The TLS server presents a certificate for `pinned.test` only, issued
by a throwaway CA that the test trusts: a fetch that succeeds proves that the TLS server name was the host's
name, although the connection went to 127.0.0.1.
"""

from __future__ import annotations

import datetime
import gzip
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from strands.types.events import ToolResultEvent

from tests.fakes.server import FakeProviderState, RunningFake, fake_app, serve

TLS_HOST = "pinned.test"
ARTICLE = b"""<!doctype html>
<html><head><title>  The Ferry  Timetable </title><style>body { color: red }</style>
<script>window.secret = "not for the model"</script></head>
<body><nav><a href="/">Home</a> <a href="/about">About</a></nav>
<h1>Ferry timetable</h1>
<p>The first ferry leaves at <b>06:40</b>.</p>
<ul><li>Weekdays: every hour</li><li>Sundays: every two hours</li></ul>
<footer>Copyright the ferry company</footer></body></html>"""


def _page(request: Request) -> Response:
    match request.path_params["name"]:
        case "article":
            return Response(ARTICLE, media_type="text/html; charset=utf-8")
        case "plain":
            return PlainTextResponse("line one\n  line two, indented\n")
        case "data.json":
            return JSONResponse({"ferries": [{"at": "06:40"}]})
        case "image.png":
            return Response(b"\x89PNG\r\n\x1a\n" + bytes(64), media_type="image/png")
        case "big":
            return PlainTextResponse("x" * int(request.query_params["size"]))
        case "long":
            words = " ".join(f"word{index}" for index in range(int(request.query_params["words"])))
            return Response(f"<html><body><p>{words}</p></body></html>", media_type="text/html")
        case "gzip":
            return Response(gzip.compress(ARTICLE), media_type="text/html", headers={"Content-Encoding": "gzip"})
        case "bomb":
            return Response(_BOMB, media_type="text/plain", headers={"Content-Encoding": "gzip"})
        case "brotli":
            return Response(b"\x1b\x00", media_type="text/plain", headers={"Content-Encoding": "br"})
        case "host":
            return PlainTextResponse(request.headers.get("host", ""))
        case "missing":
            return PlainTextResponse("no such page", status_code=404)
    return PlainTextResponse("unknown page", status_code=404)


_BOMB = gzip.compress(bytes(8 * 1024 * 1024), compresslevel=9)  # 8 MiB of zeros in about 8 KB


def _redirect(request: Request) -> Response:
    return RedirectResponse(request.query_params["to"], status_code=int(request.query_params.get("status", "302")))


def _loop(request: Request) -> Response:
    return RedirectResponse("/loop", status_code=302)


async def _hang(request: Request) -> Response:
    await anyio.sleep(3600)  # cancelled when the server stops
    return PlainTextResponse("too late")


def _error(status: int, message: str) -> Response:
    return PlainTextResponse(message, status_code=status)


def pages_app(state: FakeProviderState) -> Any:
    routes = [
        Route("/redirect", _redirect),
        Route("/loop", _loop),
        Route("/hang", _hang),
        Route("/{name:path}", _page),
    ]
    return fake_app(routes, state, _error)


@contextmanager
def running_pages() -> Iterator[RunningFake[FakeProviderState]]:
    """The pages over HTTP on 127.0.0.1; `url` has no trailing slash."""
    state = FakeProviderState()
    with serve(pages_app(state)) as url:
        yield RunningFake(url=url, state=state)


@dataclass(frozen=True, slots=True)
class TlsPages:
    """The pages over TLS on 127.0.0.1 as `https://pinned.test:<port>`, and a client context trusting them."""

    url: str
    port: int
    state: FakeProviderState
    client_context: ssl.SSLContext


@contextmanager
def running_tls_pages(directory: Path) -> Iterator[TlsPages]:
    """The pages over TLS, with a certificate for `pinned.test` issued by a CA made for the occasion."""
    ca_pem, cert_path, key_path = _certificates(directory)
    state = FakeProviderState()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        pages_app(state),
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=1,
        ssl_certfile=str(cert_path),
        ssl_keyfile=str(key_path),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"tls-pages-{port}", daemon=True)
    thread.start()
    try:
        started = threading.Event()
        for _ in range(1000):
            if server.started or not thread.is_alive():
                break
            started.wait(0.01)
        assert server.started, "the TLS pages did not start"
        context = ssl.create_default_context(cadata=ca_pem.decode("ascii"))
        yield TlsPages(url=f"https://{TLS_HOST}:{port}", port=port, state=state, client_context=context)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _certificates(directory: Path) -> tuple[bytes, Path, Path]:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Colloquy test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TLS_HOST)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(TLS_HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "leaf.pem", directory / "leaf.key"
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca.public_bytes(serialization.Encoding.PEM), cert_path, key_path


async def call_tool(tool: Any, **tool_input: Any) -> dict[str, Any]:
    """Run a Strands tool as the agent loop does (its `stream`, with a tool use) and return the tool result."""
    result: dict[str, Any] | None = None
    tool_use = {"toolUseId": "call-1", "name": tool.tool_name, "input": tool_input}
    async for event in tool.stream(tool_use, {}):
        if isinstance(event, ToolResultEvent):
            result = dict(event.tool_result)
    assert result is not None, "the tool gave no result"
    return result
