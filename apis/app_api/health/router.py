"""GET /health: is this instance able to serve? It checks storage, the one dependency every route needs."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from apis.app_api.deps import AppSettings, StorageDep
from apis.shared.bootstrap import service_version
from apis.shared.errors import StorageError
from apis.shared.http import error_body

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)


@router.get("/health")
async def health(request: Request, storage: StorageDep, settings: AppSettings) -> JSONResponse:
    """200 when storage answers; 503 naming the failed check otherwise (a load balancer takes us out)."""
    body: dict[str, object] = {"service": "app-api", "version": service_version()}
    try:
        await storage.ping()
    except StorageError as exc:
        checks = {"storage": f"failed: {exc.detail}"}
        return JSONResponse(
            {
                **error_body(request, detail="storage check failed", code="unhealthy"),
                **body,
                "status": "unhealthy",
                "checks": checks,
            },
            status_code=503,
            headers={"Retry-After": str(settings.storage.storage_retry_after_seconds)},
        )
    return JSONResponse({"status": "healthy", **body, "checks": {"storage": "ok"}})
