"""Backend plumbing. `STORAGE_BACKEND` picks one backend for every domain, once, at a service's start."""

from __future__ import annotations

from apis.shared.config import StorageBackend, StorageSettings
from apis.shared.storage.base import Storage


async def open_storage(settings: StorageSettings) -> Storage:
    """Open the configured backend; its schema or tables must exist (`colloquy storage init`, or start-up).

    Backends are imported here, not at the top: a service on SQLite never loads the AWS SDK's clients.
    """
    match settings.storage_backend:
        case StorageBackend.LOCAL:
            from apis.shared.storage import sqlite

            return await sqlite.open_storage(settings)
        case StorageBackend.DYNAMODB:
            from apis.shared.storage import dynamo

            return await dynamo.open_storage(settings)


async def initialize_storage(settings: StorageSettings, *, vector_dimensions: int | None = None) -> list[str]:
    """Create what the backend needs, idempotently; returns a line per thing created or found.

    `vector_dimensions`: the embedding model's size, when one is configured; DynamoDB's backend makes the S3 Vectors
    index for it (SQLite's knowledge index takes any size).
    """
    match settings.storage_backend:
        case StorageBackend.LOCAL:
            from apis.shared.storage import sqlite

            return await sqlite.initialize(settings)
        case StorageBackend.DYNAMODB:
            from apis.shared.storage import dynamo

            return await dynamo.initialize(settings, vector_dimensions=vector_dimensions)


__all__ = ["Storage", "initialize_storage", "open_storage"]
