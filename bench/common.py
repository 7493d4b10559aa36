"""What the benchmarks share: percentiles, a budget table, and starting a service or a fake as its own process."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


@dataclass(frozen=True)
class Row:
    figure: str
    measured: float
    budget: float | None  # None: a figure shown for context, with no budget of its own
    unit: str
    higher_is_better: bool = False

    @property
    def verdict(self) -> str:
        if self.budget is None:
            return "(no budget)"
        ok = self.measured >= self.budget if self.higher_is_better else self.measured <= self.budget
        return "ok" if ok else "OVER BUDGET"


def print_table(title: str, rows: list[Row]) -> None:
    print(f"\n{title}")
    print(f"{'figure':<58} {'measured':>12} {'budget':>12}  verdict")
    for row in rows:
        sign = ">=" if row.higher_is_better else "<="
        measured = f"{row.measured:.2f} {row.unit}"
        budget = f"{sign} {row.budget:.4g} {row.unit}" if row.budget is not None else "-"
        print(f"{row.figure:<58} {measured:>12} {budget:>12}  {row.verdict}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


Probe = Callable[[httpx.AsyncClient, str], Awaitable[object]]


@asynccontextmanager
async def module_process(module: str, *args: str, probe: Probe) -> AsyncIterator[tuple[str, int]]:
    """`python -m MODULE PORT ARGS...` on a free port of loopback (a fake provider, the bare relay), once
    `probe(client, base_url)` answers; yields its base URL and pid, and stops it after."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", module, str(port), *args)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(500):
                try:
                    await probe(client, url)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.02)
            else:
                raise RuntimeError(f"{module} did not answer")
        yield url, process.pid
    finally:
        process.terminate()
        await process.wait()


@contextmanager
def service_process(service: str, data_dir: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes], float]]:
    """Start one service with `colloquy serve`; yields its URL, process and seconds until it answered."""
    port = free_port()
    # No per-user rate limit: a benchmark's load comes from one user.
    environment = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "STORAGE_BACKEND": "local",
        "TURN_RATE_LIMIT_PER_MINUTE": "0",
        **env,
    }
    environment.pop("AUTH_MODE", None)
    probe = "/health" if service == "app" else "/ping"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "apis.shared.cli", "serve", service, "--port", str(port)],
        env=environment,
        cwd=data_dir,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{service} exited with {process.returncode}")
            try:
                if httpx.get(url + probe, timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.01)
        yield url, process, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)


def resident_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS line")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command's closing parenthesis: state is field 3, utime 14 and stime 15 (1-based, man proc).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
