"""What many tests share: unique test data (so tests never collide on ids), stores on each backend, SSE parsing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from apis.shared.config import StorageBackend, StorageSettings
from apis.shared.storage import Storage, initialize_storage, open_storage

T = TypeVar("T")


def random_user_id() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


def random_session_id() -> str:
    return f"session-{uuid.uuid4().hex[:12]}"


def random_title() -> str:
    return f"Title {uuid.uuid4().hex[:8]}"


BACKENDS = ["local", pytest.param("dynamodb", marks=pytest.mark.dynamodb)]


def local_storage_settings(data_dir: Path, **overrides: object) -> StorageSettings:
    return StorageSettings(storage_backend=StorageBackend.LOCAL, data_dir=data_dir, **overrides)  # type: ignore[arg-type]


def settings_for_backend(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> StorageSettings:
    """Settings for a fresh, empty store on `backend` ("local" or "dynamodb")."""
    if backend == "local":
        return local_storage_settings(tmp_path)
    settings: StorageSettings = request.getfixturevalue("dynamo_storage_settings")
    return with_s3vectors(settings, request.getfixturevalue("s3vectors_server_url"))


def with_s3vectors(settings: StorageSettings, s3vectors_url: str) -> StorageSettings:
    """`settings` with S3 Vectors at the session's front for moto (QueryVectors included) in a vector bucket of
    their own, so that no test sees another's vectors."""
    bucket = f"colloquy-vectors-{uuid.uuid4().hex[:16]}"
    return settings.model_copy(update={"s3_vectors_endpoint_url": s3vectors_url, "s3_vectors_bucket_name": bucket})


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    """The (event, data) pairs of a server-sent event stream; comment lines are skipped."""
    import json

    events: list[tuple[str, dict[str, Any]]] = []
    for block in body.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        fields = dict(line.split(": ", 1) for line in lines)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


@asynccontextmanager
async def repository_on(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    *,
    memory: Callable[[], T],
    pick: Callable[[Storage], T],
) -> AsyncIterator[T]:
    """A fresh repository on the backend of `request.param`: "memory" (the fake), "local" or "dynamodb".

    One contract suite per domain runs against all three through this, each on an empty store.
    """
    if request.param == "memory":
        yield memory()
        return
    settings = settings_for_backend(request.param, request, tmp_path)
    await initialize_storage(settings)
    storage = await open_storage(settings)
    try:
        yield pick(storage)
    finally:
        await storage.close()
