"""GET /health: storage is checked, and a failure names the check and carries Retry-After."""

from __future__ import annotations

from apis.shared.storage import Storage
from tests.fixtures.services import Services


async def test_health_reports_storage_ok_without_a_token(local_services: Services) -> None:
    response = await local_services.app.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["service"] == "app-api"
    assert body["checks"] == {"storage": "ok"}
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
