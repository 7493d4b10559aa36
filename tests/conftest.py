"""Fixtures shared by the whole suite: storage on each backend, opened and closed per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from apis.shared.config import StorageSettings
from apis.shared.storage import Storage, initialize_storage, open_storage
from tests.fakes.s3vectors_server import running_s3vectors
from tests.helpers import BACKENDS, settings_for_backend

# boto3 asks the instance-metadata address for credentials when it finds none: never from a test machine.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

pytest_plugins = ["tests.fixtures.moto", "tests.fixtures.services", "tests.fixtures.providers"]


@pytest.fixture(params=BACKENDS)
def storage_settings(request: pytest.FixtureRequest, tmp_path: Path) -> StorageSettings:
    return settings_for_backend(request.param, request, tmp_path)


@pytest.fixture
async def storage(storage_settings: StorageSettings) -> AsyncIterator[Storage]:
    """An initialised, open store on each backend in turn."""
    await initialize_storage(storage_settings)
    opened = await open_storage(storage_settings)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(scope="session")
def s3vectors_server_url(moto_server_url: str) -> Iterator[str]:
    """S3 Vectors for the session: moto's, behind a front that adds QueryVectors (tests/fakes/s3vectors_server.py)."""
    with running_s3vectors(moto_server_url) as url:
        yield url
