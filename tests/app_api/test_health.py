"""GET /health: storage is checked, that it answers and that it takes writes, without writing anything; a failure
names the check and carries Retry-After."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.storage import Storage
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings


async def test_health_reports_storage_ok_without_a_token(local_services: Services) -> None:
    response = await local_services.app.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["service"] == "app-api"
    assert body["checks"] == {"storage": "ok", "storageWrites": "ok"}
    assert body["version"]


async def test_health_is_503_naming_storage_when_it_cannot_be_reached(local_services: Services) -> None:
    storage: Storage = local_services.app_asgi.state.storage
    await storage.close()  # every connection gone: what a vanished database looks like to the service

    response = await local_services.app.get("/health")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["storage"].startswith("failed")
    assert body["code"] == "unhealthy"


def tree_of(root: Path) -> dict[str, tuple[int, int]]:
    """Every name under `root` (folders too) with its size and modification time: what a write would change."""
    found: dict[str, tuple[int, int]] = {}
    for folder, folders, files in os.walk(root):
        for name in (".", *folders, *files):
            path = Path(folder, name)
            found[str(path.relative_to(root))] = (path.stat().st_size, path.stat().st_mtime_ns)
    return found


async def test_health_writes_nothing(local_services: Services) -> None:
    data_dir = local_services.settings.storage.data_dir
    await local_services.app.get("/health")  # the blob folder is made on first use
    before = tree_of(data_dir)

    answers = [await local_services.app.get("/health") for _ in range(5)]

    assert [answer.status_code for answer in answers] == [200] * 5
    assert tree_of(data_dir) == before


@pytest.fixture
async def services_short_of_space(tmp_path: Path) -> AsyncIterator[Services]:
    """Services whose DATA_DIR has less free space than they require: more than any disk has."""
    settings = service_settings(local_storage_settings(tmp_path, storage_min_free_bytes=2**62))
    async with open_services(settings) as opened:
        yield opened


async def test_health_is_503_degraded_when_data_dir_is_short_of_space(services_short_of_space: Services) -> None:
    response = await services_short_of_space.app.get("/health")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    body = response.json()
    assert (body["status"], body["code"]) == ("degraded", "degraded")
    assert body["checks"]["storage"] == "ok"
    assert body["checks"]["storageWrites"].startswith("failing: ")
    assert "STORAGE_MIN_FREE_BYTES" in body["checks"]["storageWrites"]
    assert str(services_short_of_space.settings.storage.data_dir) not in response.text
