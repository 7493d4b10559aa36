"""GET /health: is this instance able to serve? It checks storage, the one dependency every route needs: that it
answers (`storage`), and that it takes writes (`storageWrites`, from the outcome of real writes and a probe
that writes nothing: apis/shared/storage/write_health.py). Neither check writes anything."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from apis.app_api.deps import AppSettings, StorageDep
from apis.shared.bootstrap import service_version
from apis.shared.errors import StorageError
from apis.shared.http import error_body

router = APIRouter(tags=["health"])


def _unavailable(
    request: Request, body: dict[str, object], *, retry_after: int, status: str, detail: str, checks: dict[str, str]
) -> JSONResponse:
    """503 with the error body, naming the failed check, and Retry-After: a load balancer takes us out."""
    return JSONResponse(
        {**error_body(request, detail=detail, code=status), **body, "status": status, "checks": checks},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


@router.get("/health")
async def health(request: Request, storage: StorageDep, settings: AppSettings) -> JSONResponse:
    """200 when storage answers and takes writes; 503 `unhealthy` when it does not answer, `degraded` when it
    answers but cannot be written (a full disk, a read-only database, writes refused or throttled)."""
    body: dict[str, object] = {"service": "app-api", "version": service_version()}
    retry_after = settings.storage.storage_retry_after_seconds
    try:
        await storage.ping()
        writes = await storage.writes.problem()
    except StorageError as exc:
        return _unavailable(
            request,
            body,
            retry_after=retry_after,
            status="unhealthy",
            detail="storage check failed",
            checks={"storage": f"failed: {exc.detail}"},
        )
    if writes is not None:
        return _unavailable(
            request,
            body,
            retry_after=retry_after,
            status="degraded",
            detail="storage cannot be written",
            checks={"storage": "ok", "storageWrites": f"failing: {writes}"},
        )
    return JSONResponse({"status": "healthy", **body, "checks": {"storage": "ok", "storageWrites": "ok"}})
