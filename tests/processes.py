"""Services as real processes (`colloquy serve ...`), for tests that need what only a process shows: a SIGKILL,
two writers on one database, the access log of the real server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from tests.fixtures.services import free_port


def start_inference(data_dir: Path, settings: Mapping[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """`colloquy serve inference` on a free port over `data_dir` (local backend and auth), with `settings` as
    its environment on top; returns the process and its base URL once `/ping` answers."""
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "STORAGE_BACKEND": "local",
        "AUTH_MODE": "local",
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "apis.shared.cli", "serve", "inference", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the inference process did not start")
