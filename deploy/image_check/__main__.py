"""Check both services' images: contents, size, and both running together on each backend (`.ci/images` runs it
in a private network namespace, after building the images).

Usage: python -m deploy.image_check --app IMAGE --inference IMAGE --base IMAGE [--work DIR]
Exits 0 when every check passed, 1 with the failing check named otherwise.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import socket
import sys
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

from deploy.image_check.containers import CheckFailed, Container, Image
from deploy.image_check.contents import check_contents
from deploy.image_check.scenarios import FAKE_AWS, Outcome, Pair, dynamodb, embedded

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {"app": ROOT / "requirements" / "app.txt", "inference": ROOT / "requirements" / "inference.txt"}
PORTS = {"app": "8000/tcp", "inference": "8080/tcp"}
# The budget (docs/decisions.md, "Images"): what each Dockerfile adds to its base image, in MB of 10^6 bytes.
# Measured 189 MB each on 2026-11-30 (the venv 185, our code 5); the base is Debian's, about 125 MB.
ADDED_BUDGET_MB = 220


def _say(line: str) -> None:
    sys.stdout.write(f"image-check: {line}\n")
    sys.stdout.flush()


def _ports_free() -> None:
    """The images listen on their own ports, so the check runs where nothing else does (a network namespace)."""
    for port in (8000, 8080):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise CheckFailed(f"port {port} is taken here; run the check in a network namespace (.ci/images)")


def _sizes(images: dict[str, Image], base: Image) -> list[str]:
    lines = []
    for service, image in images.items():
        added = (image.size_bytes - base.size_bytes) / 1e6
        lines.append(
            f"{service} image {image.name}: {image.size_bytes / 1e6:.0f} MB, of which {added:.0f} MB above its"
            f" base (budget {ADDED_BUDGET_MB} MB)"
        )
        if added > ADDED_BUDGET_MB:
            raise CheckFailed(lines[-1] + ": over budget")
    return lines


def _check_config(service: str, image: Image) -> None:
    if image.exposed_ports != (PORTS[service],):
        raise CheckFailed(f"{image.name} exposes {image.exposed_ports}, not {PORTS[service]}")
    if not image.command:
        raise CheckFailed(f"{image.name} has no CMD")


def run_checks(images: dict[str, Image], base: Image, work: Path) -> list[Outcome]:
    from tests.fixtures.moto import SerializedMotoServer  # the tests' moto server, one request at a time

    for line in _sizes(images, base):
        _say(line)
    suffix = uuid.uuid4().hex[:8]
    pair = Pair(
        app=Container(images["app"], f"colloquy-check-app-{suffix}"),
        inference=Container(images["inference"], f"colloquy-check-inference-{suffix}"),
    )
    moto: SerializedMotoServer | None = None
    try:
        uids = set()
        for service, container in (("app", pair.app), ("inference", pair.inference)):
            _check_config(service, container.image)
            contents = check_contents(container, service=service, lock=LOCKS[service])
            uids.add(contents.uid)
            _say(
                f"{service} image: only {service}'s package, exactly the {len(contents.distributions)} packages"
                f" {LOCKS[service].relative_to(ROOT)} names for it, runs as uid {contents.uid}"
                f" (USER {container.image.user})"
            )
        if len(uids) != 1:
            raise CheckFailed(f"the images run as different users {sorted(uids)}: a shared volume needs one")
        _ports_free()
        uid = uids.pop()
        moto = SerializedMotoServer()
        moto.start()
        return [embedded(pair, work, uid), dynamodb(pair, work, uid, moto.url)]
    finally:
        if moto is not None:
            moto.stop()
        pair.app.remove()
        pair.inference.remove()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.image_check")
    parser.add_argument("--app", required=True, help="the app API's image")
    parser.add_argument("--inference", required=True, help="the inference API's image")
    parser.add_argument("--base", required=True, help="the base image both were built from")
    parser.add_argument("--work", type=Path, help="where logs and volumes go (default: a temporary folder)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request otherwise
    for name, value in FAKE_AWS.items():
        # The check's own boto3 client (reading the table) uses the same fake credentials as the images.
        os.environ.setdefault(name, value)
    work = args.work or Path(tempfile.mkdtemp(prefix="colloquy-image-check-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        images = {"app": Image.inspect(args.app), "inference": Image.inspect(args.inference)}
        outcomes = run_checks(images, Image.inspect(args.base), work)
    except CheckFailed as failure:
        _say(f"FAILED: {failure}")
        _say(f"logs and volumes are in {work}")
        return 1
    for outcome in outcomes:
        started = ", ".join(f"{name} serving after {seconds:.1f} s" for name, seconds in outcome.start_seconds.items())
        _say(f"{outcome.name}: {started}")
        for note in outcome.notes:
            _say(f"{outcome.name}: {note}")
    _say("all checks passed")
    if args.work is None:
        shutil.rmtree(work)  # kept only when something failed, or when the caller named it
    return 0


if __name__ == "__main__":
    sys.exit(main())
