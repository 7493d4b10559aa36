"""The shared HTTP pieces: request ids, the error body, 500s without internals, /metrics, structured logs."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from fastapi import FastAPI

from apis.shared.errors import ConflictError, QuotaExceededError, StorageUnavailableError
from apis.shared.http import install_common
from apis.shared.observability import JsonFormatter, RequestIdFilter, request_id_var
from tests.attachments import download, presign, put_bytes, tiny_png, upload
from tests.fixtures.services import Services
from tests.helpers import random_session_id, random_user_id


def app_with_failures(*, cors_origins: tuple[str, ...] = ()) -> FastAPI:
    app = FastAPI()
    install_common(app, service="test", retry_after_seconds=7, cors_origins=cors_origins)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("password=hunter2 in a library message")

    @app.get("/busy")
    async def busy() -> None:
        raise StorageUnavailableError("the database is busy or unreachable; try again shortly")

    @app.get("/quota")
    async def quota() -> None:
        raise QuotaExceededError("monthly quota used up", retry_after_seconds=3600)

    @app.get("/conflict")
    async def conflict(limit: int) -> None:
        raise ConflictError("the session is in the wrong state")

    @app.get("/log")
    async def log() -> dict[str, str]:
        logging.getLogger("tests.http").warning("inside a request")
        return {"ok": "yes"}

    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app_with_failures(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_a_500_names_the_request_and_hides_the_exception(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom", headers={"X-Request-ID": "trace-123"})

    assert response.status_code == 500
    assert response.json() == {
        "detail": "internal server error",
        "message": "internal server error",
        "code": "internal_error",
        "requestId": "trace-123",
    }
    assert "hunter2" not in response.text
    assert response.headers.get_list("x-request-id") == ["trace-123"]


async def test_storage_unavailable_is_503_with_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/busy")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.json()["code"] == "storage_unavailable"


async def test_quota_exceeded_is_429_with_its_own_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/quota")

    assert response.status_code == 429
    assert response.headers["retry-after"] == "3600"
    assert response.json()["code"] == "quota_exceeded"


@pytest.mark.parametrize("sent", ["", "x" * 200, "bad id with spaces", "<script>"])
async def test_a_missing_or_unsafe_request_id_is_replaced(client: httpx.AsyncClient, sent: str) -> None:
    response = await client.get("/log", headers={"X-Request-ID": sent})

    generated = response.headers["x-request-id"]
    assert generated != sent
    assert len(generated) == 32


async def test_unknown_routes_and_methods_use_the_error_body(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere")
    wrong_method = await client.post("/log")

    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "method_not_allowed")
    assert missing.json()["requestId"] == missing.headers["x-request-id"]


async def test_metrics_count_requests_by_route_template(local_services: Services) -> None:
    await local_services.app.get("/sessions/some-id/metadata", headers=local_services.auth("metrics-user"))

    metrics = await local_services.app.get("/metrics")

    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'route="/sessions/{session_id}/metadata"' in metrics.text
    assert 'route="/sessions/some-id/metadata"' not in metrics.text
    for name in (
        "colloquy_http_requests_total",
        "colloquy_streams_active",
        "colloquy_provider_latency_seconds",
        "colloquy_time_to_first_byte_seconds",
        "colloquy_tokens_total",
        "colloquy_storage_errors_total",
    ):
        assert name in metrics.text
    assert (await local_services.inference.get("/metrics")).status_code == 200


async def test_openapi_pages_are_served(local_services: Services) -> None:
    for client in (local_services.app, local_services.inference):
        schema = await client.get("/openapi.json")
        docs = await client.get("/docs")
        assert schema.status_code == docs.status_code == 200
    paths = (await local_services.app.get("/openapi.json")).json()["paths"]
    assert {"/sessions", "/sessions/{session_id}/metadata", "/sessions/bulk-delete", "/health"} <= set(paths)


def test_json_log_lines_carry_the_request_id() -> None:
    record = logging.LogRecord("apis.test", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    record.durationMs = 1.5
    token = request_id_var.set("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "hello there"
    assert line["request_id"] == "req-42"
    assert line["durationMs"] == 1.5
    assert line["level"] == "INFO"


async def test_the_access_log_names_the_route_template_and_never_the_upload_token(
    local_services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    services, user, png = local_services, random_user_id(), tiny_png()
    presigned = await presign(services, user, random_session_id(), "a.png", "image/png", len(png))
    url = presigned.json()["uploadUrl"]
    token = url.removeprefix("/files/uploads/")

    with caplog.at_level(logging.INFO, logger="apis.http"):
        put = await put_bytes(services, url, png, "image/png")
        forged = await put_bytes(services, f"{url}x?token={token}", png, "image/png")

    assert (put.status_code, forged.status_code) == (200, 403)
    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    assert token[-40:] not in caplog.text
    assert all(token[-40:] not in json.dumps(line) for line in lines)
    access = [line for line in lines if line["logger"] == "apis.http" and line.get("method") == "PUT"]
    assert [line["message"] for line in access] == ["PUT /files/uploads/{token} 200", "PUT /files/uploads/{token} 403"]
    assert {line["request_id"] for line in access} == {put.headers["x-request-id"], forged.headers["x-request-id"]}
    assert all(line["route"] == "/files/uploads/{token}" and line["durationMs"] >= 0 for line in access)


async def test_every_answer_says_nosniff_and_authenticated_json_is_never_stored(local_services: Services) -> None:
    services, user = local_services, random_user_id()
    headers = services.auth(user)
    session_id = random_session_id()
    answers = {
        "authenticated json": await services.app.get("/sessions", headers=headers),
        "created json": await services.app.put(f"/sessions/{session_id}/metadata", json={}, headers=headers),
        "no content": await services.app.delete(f"/sessions/{session_id}", headers=headers),
        "401 json": await services.app.get("/sessions"),
        "health": await services.app.get("/health"),
        "ping": await services.inference.get("/ping"),
        "metrics": await services.app.get("/metrics"),
    }

    assert {name: r.headers.get_list("x-content-type-options") for name, r in answers.items()} == {
        name: ["nosniff"] for name in answers
    }
    for name in ("authenticated json", "created json", "no content", "401 json", "health", "ping"):
        assert answers[name].headers.get_list("cache-control") == ["no-store"], name


async def test_the_stream_and_downloads_keep_their_own_cache_control(local_services: Services) -> None:
    services, user, png = local_services, random_user_id(), tiny_png()
    session_id = random_session_id()
    turn = await services.inference.post(
        "/invocations", json={"session_id": session_id, "message": "hi"}, headers=services.auth(user)
    )
    uploaded = await upload(services, user, session_id, "a.png", "image/png", png)
    downloaded = await download(services, user, uploaded["uploadId"])

    assert turn.headers["content-type"].startswith("text/event-stream")
    assert turn.headers.get_list("cache-control") == ["no-cache"]
    assert downloaded.content == png
    assert downloaded.headers.get_list("cache-control") == ["private, no-store"]
    assert turn.headers["x-content-type-options"] == downloaded.headers["x-content-type-options"] == "nosniff"


async def test_a_500_carries_the_safe_headers_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom")

    assert response.status_code == 500
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]
    assert response.headers.get_list("cache-control") == ["no-store"]


@pytest.mark.parametrize(
    ("path", "status"),
    [("/conflict?limit=1", 409), ("/conflict?limit=x", 422), ("/busy", 503), ("/boom", 500), ("/no", 404)],
)
async def test_every_error_body_repeats_its_detail_as_message(
    client: httpx.AsyncClient, path: str, status: int
) -> None:
    """The reference web client shows `message` (a refused turn, its own pages) where it does not read `detail`."""
    response = await client.get(path)
    body = response.json()

    assert response.status_code == status
    assert body["message"] == body["detail"]
    assert {"detail", "message", "code", "requestId"} <= set(body)


async def test_a_500_carries_cors_headers_for_an_allowed_origin() -> None:
    """A 500 leaves past the CORS middleware: without these headers the page could not read it."""
    app = app_with_failures(cors_origins=("http://localhost:4200",))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        allowed = await client.get("/boom", headers={"Origin": "http://localhost:4200"})
        other = await client.get("/boom", headers={"Origin": "http://elsewhere.example"})

    assert allowed.status_code == other.status_code == 500
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:4200"
    assert "X-Request-ID" in allowed.headers["access-control-expose-headers"]
    assert "access-control-allow-origin" not in other.headers
