"""Several real `colloquy serve` processes of each service on one store, as replicas behind a load balancer.

Each replica is its own process with its own caches, rate limiter, background tasks and sweeps; they share only
the store (the DynamoDB table and buckets on the moto server) and the local signing key in DATA_DIR (a fleet
in production shares its OIDC issuer instead). `Fleet.app(n)` and `Fleet.inference(n)` pick replica `n`
round-robin, as a load balancer would spread requests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.fixtures.services import free_port

SERVICES = {"app": "/health", "inference": "/ping"}
START_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Replica:
    service: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass(frozen=True, slots=True)
class Fleet:
    apps: list[Replica]
    inferences: list[Replica]

    def app(self, index: int) -> str:
        """The base URL of the app replica that request number `index` reaches."""
        return self.apps[index % len(self.apps)].url

    def inference(self, index: int) -> str:
        return self.inferences[index % len(self.inferences)].url

    def logs(self) -> str:
        """Every replica's log, for a failing test's report."""
        return "\n".join(
            f"--- {replica.service} {replica.url}\n{replica.log.read_text(errors='replace')[-3000:]}"
            for replica in [*self.apps, *self.inferences]
        )


def _start(service: str, env: Mapping[str, str], log_dir: Path, index: int) -> Replica:
    port = free_port()
    log = log_dir / f"{service}-{index}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "apis.shared.cli", "serve", service, "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Replica(service, f"http://127.0.0.1:{port}", process, log)


def _wait_serving(replica: Replica, deadline: float) -> None:
    while time.monotonic() < deadline and replica.process.poll() is None:
        try:
            answered = httpx.get(f"{replica.url}{SERVICES[replica.service]}", timeout=1).status_code == 200
        except httpx.TransportError:
            answered = False  # not listening yet
        if answered:
            return
        time.sleep(0.1)
    raise AssertionError(f"{replica.service} replica did not start:\n{replica.log.read_text(errors='replace')}")


def _stop(replica: Replica) -> None:
    if replica.process.poll() is None:
        replica.process.send_signal(signal.SIGTERM)
        try:
            replica.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            replica.process.kill()
            replica.process.wait(timeout=20)


@contextmanager
def running_fleet(env: Mapping[str, str], log_dir: Path, *, apps: int = 2, inferences: int = 2) -> Iterator[Fleet]:
    """`apps` app and `inference` inference processes with `env` over this process's environment, all started
    at once; stopped (SIGTERM, so each drains its background work) when the block ends."""
    replicas = [_start("app", env, log_dir, index) for index in range(apps)]
    replicas += [_start("inference", env, log_dir, index) for index in range(inferences)]
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        for replica in replicas:
            _wait_serving(replica, deadline)
        yield Fleet(apps=replicas[:apps], inferences=replicas[apps:])
    finally:
        for replica in replicas:
            _stop(replica)
