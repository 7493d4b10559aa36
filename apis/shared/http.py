"""The FastAPI pieces both services install: request ids, access logs, metrics, safe response headers, and the
error handlers.

Every error leaves as `{"detail", "code", "requestId"}` (API.md), plus `message`, the same text as `detail`:
the reference web client shows `message` where it does not look for `detail` (a refused turn, for one).

The middleware is plain ASGI rather than BaseHTTPMiddleware so that it never buffers or delays a server-sent
event stream, and it is one middleware doing all of this: the turn's stream sends a message per delta, and each
layer would add a call to each. CORS and trailing slashes (`web_clients.py`) are separate: CORS only where it is
configured, and the trailing slash adds nothing to a stream's messages.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apis.shared.errors import AppError, AuthenticationError, QuotaExceededError
from apis.shared.observability import HTTP_REQUEST_SECONDS, HTTP_REQUESTS, request_id_var
from apis.shared.web_clients import cors_headers, install_cors, install_trailing_slash_routing

logger = logging.getLogger("apis.http")
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/files/uploads/{token}`), or "unmatched": what logs and metrics name."""
    template = getattr(scope.get("route"), "path", None)
    return template if isinstance(template, str) else "unmatched"


def request_id_of(scope: Scope) -> str | None:
    state: dict[str, Any] = scope.get("state") or {}
    request_id = state.get("request_id")
    return request_id if isinstance(request_id, str) else None


NOSNIFF = "nosniff"
NO_STORE = "no-store"


def _is_json(content_type: bytes) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or media_type.endswith(b"+json")


def with_safe_headers(headers: list[tuple[bytes, bytes]], *, authenticated: bool) -> list[tuple[bytes, bytes]]:
    """`headers` plus `X-Content-Type-Options: nosniff`, and `Cache-Control: no-store` on a JSON answer or an
    answer to a request that carried credentials, unless the route chose its own caching (the stream's
    `no-cache`, a download's `private, no-store`). A browser then never sniffs a stored file into a page, and
    no cache on the way keeps a user's data, or the presigned URL of a redirect, after the answer."""
    names = {name.lower(): value for name, value in headers}
    added = []
    if b"x-content-type-options" not in names:
        added.append((b"x-content-type-options", NOSNIFF.encode()))
    if b"cache-control" not in names and (authenticated or _is_json(names.get(b"content-type", b""))):
        added.append((b"cache-control", NO_STORE.encode()))
    return headers + added


class RequestContextMiddleware:
    """Gives each request an id (the client's X-Request-ID when sane), echoes it, logs and measures the call,
    and adds the headers of `with_safe_headers` to every answer."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = dict(scope["headers"])
        sent = request_headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = sent if _CLIENT_REQUEST_ID.match(sent) else uuid.uuid4().hex
        # A signed upload URL's credential is its path; its answers (an empty 200 to a PUT, JSON errors) are
        # not stored by caches either way.
        authenticated = b"authorization" in request_headers
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = with_safe_headers(headers, authenticated=authenticated)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            template = route_template(scope)
            method = scope["method"]
            HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            HTTP_REQUEST_SECONDS.labels(self.service, method, template).observe(elapsed)
            # The route's template, never the path or the query: a path may be a credential (the signed
            # upload URL `/files/uploads/{token}`), and so may a query (`token=`, presigned parameters).
            logger.info(
                "%s %s %s",
                method,
                template,
                status,
                extra={"method": method, "route": template, "status": status, "durationMs": round(elapsed * 1000, 2)},
            )
            request_id_var.reset(token)


def error_body(request: Request, *, detail: str, code: str, **extra: Any) -> dict[str, Any]:
    """API.md's error body; `message` repeats `detail` for clients that read that field."""
    return {"detail": detail, "message": detail, "code": code, "requestId": request_id_of(request.scope), **extra}


def error_response(
    request: Request,
    status: int,
    *,
    detail: str,
    code: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    # A 500 leaves through Starlette's outermost middleware, past ours: name the request and set the safe
    # headers here too.
    all_headers = {"X-Content-Type-Options": NOSNIFF, "Cache-Control": NO_STORE, **(headers or {})}
    request_id = request_id_of(request.scope)
    if request_id:
        all_headers["X-Request-ID"] = request_id
    return JSONResponse(error_body(request, detail=detail, code=code, **extra), status, headers=all_headers)


def install_error_handlers(app: FastAPI, *, retry_after_seconds: int, cors_origins: Sequence[str] = ()) -> None:
    """Map AppError, validation and routing errors, and anything unexpected, to API.md's error body.

    `cors_origins` are those of `install_cors`: a 500 leaves past its middleware, so it adds their headers itself.
    """

    async def on_app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        headers: dict[str, str] = {}
        if isinstance(exc, AuthenticationError):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, QuotaExceededError):
            headers["Retry-After"] = str(exc.retry_after_seconds)
        elif exc.status_code == 503:
            headers["Retry-After"] = str(retry_after_seconds)
        if exc.status_code >= 500:
            logger.warning("request failed: %s", exc.code, extra={"code": exc.code, "status": exc.status_code})
        return error_response(request, exc.status_code, detail=exc.detail, code=exc.code, headers=headers)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"loc": [str(part) for part in error["loc"]], "msg": error["msg"], "type": error["type"]}
            for error in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(p['loc'])}: {p['msg']}" for p in problems[:5])
        return error_response(
            request, 422, detail=f"invalid request: {summary}", code="validation_error", errors=problems
        )

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(request, exc.status_code, detail=detail, code=code, headers=exc.headers)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        logger.error("unhandled error", exc_info=exc)
        headers = cors_headers(cors_origins, request.headers.get("origin"))
        return error_response(request, 500, detail="internal server error", code="internal_error", headers=headers)

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


# What `on_validation_error` really answers, in place of FastAPI's default 422 schema in the OpenAPI document.
_VALIDATION_ERROR_SCHEMAS: dict[str, Any] = {
    "HTTPValidationError": {
        "title": "ValidationErrorBody",
        "type": "object",
        "required": ["detail", "message", "code", "requestId", "errors"],
        "properties": {
            "detail": {"type": "string"},
            "message": {"type": "string"},
            "code": {"type": "string"},
            "requestId": {"type": ["string", "null"]},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
        },
    },
    "ValidationError": {
        "title": "ValidationProblem",
        "type": "object",
        "required": ["loc", "msg", "type"],
        "properties": {
            "loc": {"type": "array", "items": {"type": "string"}},
            "msg": {"type": "string"},
            "type": {"type": "string"},
        },
    },
}


def document_error_bodies(app: FastAPI) -> None:
    """Make the OpenAPI document describe the 422 body this service sends, so clients and fuzzers can rely on it."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_VALIDATION_ERROR_SCHEMAS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to adjust its schema


def install_common(app: FastAPI, *, service: str, retry_after_seconds: int, cors_origins: Sequence[str] = ()) -> None:
    """Everything a Colloquy service shares: middleware, error handlers, their OpenAPI bodies, GET /metrics.

    The last middleware added runs first: the request context wraps everything (a preflight's answer has a
    request id and nosniff too), CORS marks every answer that reaches it (errors included), and the trailing
    slash is dealt with just before routing.
    """
    install_trailing_slash_routing(app)
    install_cors(app, cors_origins)
    app.add_middleware(RequestContextMiddleware, service=service)
    install_error_handlers(app, retry_after_seconds=retry_after_seconds, cors_origins=cors_origins)
    document_error_bodies(app)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
