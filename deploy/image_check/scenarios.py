"""The two ways the images run together: the embedded backend on one shared data volume, and DynamoDB/S3 through
an endpoint (a moto server on this machine) with only the signing key on the volume."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import httpx
from cryptography.fernet import Fernet

from deploy.image_check.containers import CheckFailed, Container, Mount, Service
from deploy.image_check.http_checks import (
    APP_URL,
    INFERENCE_URL,
    REQUEST_TIMEOUT_SECONDS,
    check_app,
    check_inference,
    check_turn_stored,
    wait_until_serving,
)

DATA = "/data"  # the images' DATA_DIR
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# The settings each backend's run gives both images; compose.yaml gives the same (tests/deploy/test_compose.py).
EMBEDDED_SETTINGS = {"STORAGE_BACKEND": "local", "AUTH_MODE": "local"}


def dynamodb_settings(endpoint: str, suffix: str) -> dict[str, str]:
    """DynamoDB/S3 through `endpoint` with fake credentials, a table and buckets of this run, local tokens."""
    return {
        "STORAGE_BACKEND": "dynamodb",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": FAKE_AWS["AWS_REGION"],
        "AWS_ACCESS_KEY_ID": FAKE_AWS["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
        "DYNAMODB_TABLE_NAME": f"colloquy-image-{suffix}",
        "S3_BUCKET_NAME": f"colloquy-image-files-{suffix}",
        "S3_VECTORS_BUCKET_NAME": f"colloquy-image-vectors-{suffix}",
        "AUTH_MODE": "local",
        "MCP_SECRETS_KEY": Fernet.generate_key().decode(),
    }


@dataclass(frozen=True, slots=True)
class Pair:
    """The two images' working containers."""

    app: Container
    inference: Container


@dataclass(slots=True)
class Outcome:
    """What one scenario showed, for the report."""

    name: str
    start_seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def data_volume(work: Path, name: str, uid: int) -> Path:
    """An empty folder owned by the images' user, as a named volume made from the image's /data would be."""
    folder = work / name
    folder.mkdir(parents=True)
    os.chown(folder, uid, -1)
    folder.chmod(0o700)
    return folder


@contextmanager
def running(pair: Pair, env: dict[str, str], mounts: list[Mount], logs: Path, outcome: Outcome) -> Iterator[None]:
    """Both images' own commands, the app API first (it makes the signing key), each waited for until it serves."""
    services: list[Service] = []
    try:
        app = pair.app.start(env=env, mounts=mounts, log=logs / f"{outcome.name}-app.log")
        services.append(app)
        outcome.start_seconds["app"] = wait_until_serving(f"{APP_URL}/health", app)
        inference = pair.inference.start(env=env, mounts=mounts, log=logs / f"{outcome.name}-inference.log")
        services.append(inference)
        outcome.start_seconds["inference"] = wait_until_serving(f"{INFERENCE_URL}/ping", inference)
        yield
    finally:
        for service in services:
            service.stop()


def exercise(pair: Pair, env: dict[str, str], mounts: list[Mount], outcome: Outcome) -> None:
    """A token minted by `colloquy` in the app image; the app's round trip; a turn; the turn read back."""
    token = pair.app.run(["colloquy", "token", "--user", "image-check", "--ttl", "600"], env=env, mounts=mounts)
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as client:
        session_id = check_app(client, token.strip())
        outcome.notes.append(f"app: /health healthy, session {session_id} stored, read back and listed")
        turn_session = check_inference(client, token.strip())
        outcome.notes.append(f"inference: /ping Healthy, a turn streamed by the offline model ({turn_session})")
        stored = check_turn_stored(client, token.strip(), turn_session)
        outcome.notes.append(f"app reads the inference image's turn: {stored} messages, messageCount 2")


def embedded(pair: Pair, work: Path, uid: int) -> Outcome:
    """STORAGE_BACKEND=local: one data volume mounted by both images holds the database, blobs and key pair."""
    outcome = Outcome("embedded")
    data = data_volume(work, "embedded-data", uid)
    mounts = [Mount(data, DATA)]
    env = {**EMBEDDED_SETTINGS, "LOG_LEVEL": "WARNING"}
    with running(pair, env, mounts, work, outcome):
        exercise(pair, env, mounts, outcome)
    if not (data / "colloquy.sqlite3").exists():
        raise CheckFailed(f"the embedded run left no database on the shared volume: {sorted(data.iterdir())}")
    return outcome


def dynamodb(pair: Pair, work: Path, uid: int, endpoint: str) -> Outcome:
    """STORAGE_BACKEND=dynamodb through `endpoint`: `colloquy storage init` in the app image makes the table and
    buckets; both images then keep nothing on the volume but the local signing key."""
    outcome = Outcome("dynamodb")
    settings = dynamodb_settings(endpoint, uuid.uuid4().hex[:12])
    table = settings["DYNAMODB_TABLE_NAME"]
    env = {**settings, "LOG_LEVEL": "WARNING"}
    data = data_volume(work, "dynamodb-keys", uid)
    mounts = [Mount(data, DATA)]
    printed = pair.app.run(["colloquy", "storage", "init"], env=env, mounts=mounts)
    outcome.notes.append("colloquy storage init: " + "; ".join(printed.strip().splitlines()[:3]))
    with running(pair, env, mounts, work, outcome):
        exercise(pair, env, mounts, outcome)
    stray = sorted(path.name for path in data.iterdir() if path.name != "auth")
    if stray:
        raise CheckFailed(f"on DynamoDB the images wrote {stray} to the volume, besides the signing key (auth/)")
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=FAKE_AWS["AWS_REGION"])
    items = client.scan(TableName=table, Select="COUNT")["Count"]
    if items == 0:
        raise CheckFailed(f"the table {table} is empty after the turns")
    outcome.notes.append(f"table {table} holds {items} items, the volume only the signing key")
    return outcome
