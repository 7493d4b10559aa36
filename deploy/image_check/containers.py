"""Images and containers through podman and buildah, as they run on a machine without a container daemon.

`podman run` needs a runtime that can set resource limits, which some sandboxed machines refuse; `buildah run
--isolation chroot` needs nothing of the kind. It starts the image's command as the image's user, with the
image's environment and working directory, on the network namespace of the caller: `.ci/images` runs the whole
check in a private one, so the images listen on their own ports (8000, 8080) and reach nothing but loopback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A command inside a container (a probe, `colloquy token`) answers within this, or the check fails.
COMMAND_TIMEOUT_SECONDS = 120


class CheckFailed(Exception):
    """A property of an image or of a service in it does not hold; the message says which."""


def _run(argv: Sequence[str], *, timeout: float = COMMAND_TIMEOUT_SECONDS) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise CheckFailed(f"`{' '.join(argv[:4])} ...` exited {result.returncode}: {result.stderr.strip()[-2000:]}")
    return result.stdout


@dataclass(frozen=True, slots=True)
class Image:
    """A built image: its name and what its configuration says."""

    name: str
    size_bytes: int
    user: str
    command: tuple[str, ...]
    exposed_ports: tuple[str, ...]

    @classmethod
    def inspect(cls, name: str) -> Image:
        found: list[dict[str, Any]] = json.loads(_run(["podman", "image", "inspect", name]))
        config = found[0].get("Config") or {}
        return cls(
            name=name,
            size_bytes=int(found[0]["Size"]),
            user=config.get("User") or "",
            command=tuple(config.get("Cmd") or ()),
            exposed_ports=tuple(sorted(config.get("ExposedPorts") or {})),
        )


@dataclass(frozen=True, slots=True)
class Mount:
    host: Path
    inside: str
    read_only: bool = False

    def flag(self) -> str:
        return f"{self.host}:{self.inside}{':ro' if self.read_only else ''}"


class Container:
    """A working container of an image (`buildah from`), removed by `remove()`."""

    def __init__(self, image: Image, name: str) -> None:
        self.image = image
        self.name = name
        _run(["buildah", "from", "--pull-never", "--quiet", "--name", name, image.name])

    def _argv(self, command: Sequence[str], env: Mapping[str, str], mounts: Sequence[Mount]) -> list[str]:
        argv = ["buildah", "run", "--isolation", "chroot", "--user", self.image.user]
        for mount in mounts:
            argv += ["--volume", mount.flag()]
        for key, value in env.items():
            argv += ["--env", f"{key}={value}"]
        return [*argv, self.name, "--", *command]

    def run(self, command: Sequence[str], *, env: Mapping[str, str], mounts: Sequence[Mount] = ()) -> str:
        """Run `command` to its end as the image's user; its standard output."""
        return _run(self._argv(command, env, mounts))

    def start(self, *, env: Mapping[str, str], mounts: Sequence[Mount], log: Path) -> Service:
        """Start the image's own command (its CMD) as the image's user, in the background."""
        with log.open("w") as out:
            process = subprocess.Popen(
                self._argv(self.image.command, env, mounts),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return Service(process, log)

    def remove(self) -> None:
        subprocess.run(["buildah", "rm", self.name], capture_output=True, timeout=COMMAND_TIMEOUT_SECONDS, check=False)


@dataclass(frozen=True, slots=True)
class Service:
    """An image's command running in the background; `stop()` ends its process group."""

    process: subprocess.Popen[bytes]
    log: Path

    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.running():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)
