"""The foundation issue's acceptance run: `colloquy serve` on loopback ports, two users, real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from tests.attachments import tiny_png
from tests.fixtures.services import free_port
from tests.helpers import parse_sse
from tests.processes import start_inference

COLLOQUY = [sys.executable, "-m", "apis.shared.cli"]


class Served(NamedTuple):
    app_url: str
    inference_url: str
    env: dict[str, str]
    log: Path  # both services' log lines (stderr)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Both services started by `colloquy serve` on free ports; yields their URLs, environment and log file."""
    data_dir = tmp_path_factory.mktemp("served")
    log = tmp_path_factory.mktemp("served-log") / "services.log"
    env = {**os.environ, "DATA_DIR": str(data_dir), "STORAGE_BACKEND": "local", "LOG_LEVEL": "INFO"}
    env.pop("AUTH_MODE", None)
    app_port, inference_port = free_port(), free_port()
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [*COLLOQUY, "serve", "--app-port", str(app_port), "--inference-port", str(inference_port)],
            env=env,
            cwd=data_dir,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    try:
        assert process.stdout is not None
        banner = ""
        deadline = time.monotonic() + 60
        while "Press Ctrl+C" not in banner and time.monotonic() < deadline and process.poll() is None:
            banner += process.stdout.readline()
        assert "Colloquy is running" in banner, banner
        assert "colloquy token" in banner
        yield Served(f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{inference_port}", env, log)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0


def mint(env: dict[str, str], user: str) -> str:
    printed = subprocess.run(
        [*COLLOQUY, "token", "--user", user], env=env, cwd=env["DATA_DIR"], capture_output=True, text=True, check=True
    )
    return printed.stdout.strip()


def test_two_users_on_the_running_services(served: Served) -> None:
    app_url, inference_url, env, _ = served
    alice = {"Authorization": f"Bearer {mint(env, 'alice')}"}
    bob = {"Authorization": f"Bearer {mint(env, 'bob')}"}

    with httpx.Client(timeout=30) as client:
        turn = client.post(
            f"{inference_url}/invocations", json={"session_id": "alice-first", "message": "Hi there"}, headers=alice
        )
        events = parse_sse(turn.text)
        assert turn.status_code == 200
        assert [name for name, _ in events][0] == "message_start"
        assert events[-1][0] == "done"

        session = client.get(f"{app_url}/sessions/alice-first/metadata", headers=alice)
        messages = client.get(f"{app_url}/sessions/alice-first/messages", headers=alice).json()["messages"]
        assert session.json()["messageCount"] == 2
        assert [m["role"] for m in messages] == ["user", "assistant"]
        assert messages[0]["content"] == [{"type": "text", "text": "Hi there"}]

        bobs_view = [
            client.get(f"{app_url}/sessions/alice-first/metadata", headers=bob),
            client.put(f"{app_url}/sessions/alice-first/metadata", json={"title": "mine"}, headers=bob),
            client.get(f"{app_url}/sessions/alice-first/messages", headers=bob),
            client.delete(f"{app_url}/sessions/alice-first", headers=bob),
            client.post(
                f"{inference_url}/invocations", json={"session_id": "alice-first", "message": "x"}, headers=bob
            ),
        ]
        assert [r.status_code for r in bobs_view] == [404] * 5
        bulk = client.post(f"{app_url}/sessions/bulk-delete", json={"sessionIds": ["alice-first"]}, headers=bob)
        assert bulk.json()["deletedCount"] == 0
        assert client.get(f"{app_url}/sessions", headers=bob).json()["sessions"] == []
        assert client.get(f"{app_url}/sessions/alice-first/metadata", headers=alice).json()["messageCount"] == 2
        assert client.get(f"{inference_url}/ping").json()["status"] == "Healthy"


def test_the_log_names_the_upload_route_never_its_signed_token(served: Served) -> None:
    headers = {"Authorization": f"Bearer {mint(served.env, 'carol')}"}
    png = tiny_png()

    with httpx.Client(base_url=served.app_url, timeout=30) as client:
        presigned = client.post(
            "/files/presign",
            json={"sessionId": "carol-files", "filename": "a.png", "mimeType": "image/png", "sizeBytes": len(png)},
            headers=headers,
        )
        url = presigned.json()["uploadUrl"]
        put = client.put(url, content=png, headers={"Content-Type": "image/png"})
        client.put(f"{url}?token=leak-me-not", content=png, headers={"Content-Type": "image/png"})

    assert put.status_code == 200
    token = url.removeprefix("/files/uploads/")
    deadline = time.monotonic() + 10
    while put.headers["x-request-id"] not in (logged := served.log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    access = [line for line in logged.splitlines() if put.headers["x-request-id"] in line]
    assert access, logged[-2000:]
    assert all("PUT /files/uploads/{token} 200" in line for line in access)
    assert token[-40:] not in logged
    assert "leak-me-not" not in logged


def test_each_service_settles_its_heap_once_started(served: Served) -> None:
    """Each served process freezes its heap once started (apis/shared/heap.py), the inference API after loading
    Strands and the providers' models in the background: two settled heaps, the inference API's the larger by
    what it loaded."""
    deadline = time.monotonic() + 30
    while (logged := served.log.read_text()).count("heap settled") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)

    settled = [json.loads(line) for line in logged.splitlines() if "heap settled" in line]
    frozen = sorted(int(line["message"].split()[2]) for line in settled)
    assert len(frozen) == 2, logged[-2000:]
    assert frozen[0] > 20_000
    assert frozen[1] > frozen[0] + 10_000  # the inference API's, with Strands and Bedrock's client loaded


def test_answers_name_no_server_and_say_nosniff(served: Served) -> None:
    headers = {"Authorization": f"Bearer {mint(served.env, 'dave')}"}

    with httpx.Client(timeout=30) as client:
        answers = [
            client.get(f"{served.app_url}/health"),
            client.get(f"{served.app_url}/sessions", headers=headers),
            client.get(f"{served.app_url}/nowhere"),
            client.get(f"{served.inference_url}/ping"),
            client.post(f"{served.inference_url}/invocations", json={"session_id": "dave-1", "message": "hi"}),
        ]

    assert [r.status_code for r in answers] == [200, 200, 404, 200, 401]
    assert [r.headers.get("server") for r in answers] == [None] * len(answers)
    assert [r.headers.get("x-content-type-options") for r in answers] == ["nosniff"] * len(answers)
    assert answers[1].headers["cache-control"] == "no-store"


def ping_answer(connection: socket.socket) -> bytes:
    """Ask for /ping on `connection` and read the whole answer (its head, then the body its length announces)."""
    connection.sendall(b"GET /ping HTTP/1.1\r\nHost: colloquy\r\n\r\n")
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(4096)
    head, body = received.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += connection.recv(4096)
    return head


def pinged_connection(url: str) -> socket.socket:
    """A connection to the service at `url` that has had one keep-alive answer and now sits idle."""
    address = httpx.URL(url)
    connection = socket.create_connection((address.host, address.port or 80), timeout=10)
    assert ping_answer(connection).startswith(b"HTTP/1.1 200")
    return connection


def test_an_idle_connection_outlives_the_clients_own_expiry_and_the_setting_bounds_it(tmp_path: Path) -> None:
    """uvicorn's 5 s idle timeout equals httpx's keep-alive expiry: a client reusing a connection as the server
    dropped it lost the request. Served, a connection idle longer than a client's 5 s still answers; with
    HTTP_IDLE_TIMEOUT_SECONDS=1 the server closes it after that second."""
    default, default_url = start_inference(tmp_path / "default", {})
    short, short_url = start_inference(tmp_path / "short", {"HTTP_IDLE_TIMEOUT_SECONDS": "1"})
    try:
        kept, dropped = pinged_connection(default_url), pinged_connection(short_url)
        with kept, dropped:
            time.sleep(6)
            assert dropped.recv(4096) == b"", "the server closed the idle connection"
            assert ping_answer(kept).startswith(b"HTTP/1.1 200")
    finally:
        for process in (default, short):
            process.terminate()
            process.wait(timeout=20)
