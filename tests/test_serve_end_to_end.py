"""The foundation issue's acceptance run: `colloquy serve` on loopback ports, two users, real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.services import free_port
from tests.helpers import parse_sse

COLLOQUY = [sys.executable, "-m", "apis.shared.cli"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Both services started by `colloquy serve` on free ports; yields their URLs and environment."""
    data_dir = tmp_path_factory.mktemp("served")
    env = {**os.environ, "DATA_DIR": str(data_dir), "STORAGE_BACKEND": "local", "LOG_LEVEL": "WARNING"}
    env.pop("AUTH_MODE", None)
    app_port, inference_port = free_port(), free_port()
    process = subprocess.Popen(
        [*COLLOQUY, "serve", "--app-port", str(app_port), "--inference-port", str(inference_port)],
        env=env,
        cwd=data_dir,
        stdout=subprocess.PIPE,
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
        yield f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{inference_port}", env
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0


def mint(env: dict[str, str], user: str) -> str:
    printed = subprocess.run(
        [*COLLOQUY, "token", "--user", user], env=env, cwd=env["DATA_DIR"], capture_output=True, text=True, check=True
    )
    return printed.stdout.strip()


def test_two_users_on_the_running_services(served: tuple[str, str, dict[str, str]], tmp_path: Path) -> None:
    app_url, inference_url, env = served
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
        assert messages[0]["content"] == [{"text": "Hi there"}]

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
