"""A web client served from another origin, through HTTP on both services: CORS preflights and answers, and
paths that answer with or without a trailing slash."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from apis.app_api.main import create_app as create_app_api
from apis.inference_api.main import create_app as create_inference_api
from apis.shared.config import HttpSettings
from apis.shared.observability import JsonFormatter
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings, random_session_id, random_user_id

CLIENT = "http://localhost:4200"
STRANGER = "http://evil.example"
SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"


@pytest.fixture
async def cors_services(tmp_path: Path) -> AsyncIterator[Services]:
    """Both services allowing the reference client's dev server, as CORS_ALLOWED_ORIGINS would."""
    settings = service_settings(local_storage_settings(tmp_path)).model_copy(
        update={"http": HttpSettings(cors_allowed_origins=f"{CLIENT}, https://chat.example")}
    )
    async with open_services(settings) as services:
        yield services


def preflight(origin: str, method: str, headers: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}


@pytest.mark.parametrize(
    ("service", "method", "path", "headers"),
    [
        ("app", "GET", "/users/me", "authorization"),
        ("app", "PUT", "/sessions/abc/metadata", "authorization,content-type"),
        ("inference", "POST", "/invocations", f"authorization,content-type,{SESSION_HEADER.lower()}"),
    ],
)
async def test_a_preflight_from_an_allowed_origin_is_answered_without_a_token(
    cors_services: Services, service: str, method: str, path: str, headers: str
) -> None:
    client = cors_services.app if service == "app" else cors_services.inference

    response = await client.options(path, headers=preflight(CLIENT, method, headers))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == CLIENT
    assert method in response.headers["access-control-allow-methods"]
    allowed = {name.strip().lower() for name in response.headers["access-control-allow-headers"].split(",")}
    assert set(headers.split(",")) <= allowed
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_preflight_from_another_origin_is_refused(cors_services: Services) -> None:
    for client, path in ((cors_services.app, "/users/me"), (cors_services.inference, "/invocations")):
        response = await client.options(path, headers=preflight(STRANGER, "POST", "authorization"))

        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers


async def test_answers_and_errors_carry_cors_headers_for_an_allowed_origin(cors_services: Services) -> None:
    services, user = cors_services, random_user_id()
    origin = {"Origin": CLIENT}
    answers = {
        "profile": await services.app.get("/users/me", headers={**origin, **services.auth(user)}),
        "401": await services.app.get("/users/me", headers=origin),
        "403": await services.app.get("/admin/roles", headers={**origin, **services.auth(user)}),
        "404": await services.app.get("/nowhere", headers=origin),
        "422": await services.inference.post("/invocations", json={}, headers={**origin, **services.auth(user)}),
        "turn": await services.inference.post(
            "/invocations",
            json={"message": "hello"},
            headers={**origin, **services.auth(user), SESSION_HEADER: random_session_id()},
        ),
    }

    assert {name: answer.status_code for name, answer in answers.items()} == {
        "profile": 200,
        "401": 401,
        "403": 403,
        "404": 404,
        "422": 422,
        "turn": 200,
    }
    for name, answer in answers.items():
        assert answer.headers["access-control-allow-origin"] == CLIENT, name
        exposed = {header.strip() for header in answer.headers["access-control-expose-headers"].split(",")}
        assert {"X-Request-ID", "X-Session-ID"} <= exposed, name
    assert answers["turn"].headers["x-session-id"]


async def test_answers_to_another_origin_carry_no_permission(cors_services: Services) -> None:
    response = await cors_services.app.get("/users/me", headers={"Origin": STRANGER, **cors_services.auth("u")})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


async def test_with_no_origin_configured_nothing_changes(local_services: Services) -> None:
    services = local_services
    app_preflight = await services.app.options("/users/me", headers=preflight(CLIENT, "GET", "authorization"))
    turn_preflight = await services.inference.options("/invocations", headers=preflight(CLIENT, "POST", "content-type"))
    answer = await services.app.get("/users/me", headers={"Origin": CLIENT, **services.auth("u")})

    assert app_preflight.status_code == turn_preflight.status_code == 405
    for response in (app_preflight, turn_preflight, answer):
        assert not any(name.startswith("access-control-") for name in response.headers)


def test_an_origin_a_browser_never_sends_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="CORS_ALLOWED_ORIGINS"):
        HttpSettings(cors_allowed_origins="http://localhost:4200/")


# --- Trailing slashes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/admin/roles", 200),
        ("GET", "/admin/managed-models", 200),
        ("GET", "/admin/users", 200),
        ("GET", "/sessions", 200),
        ("GET", "/models", 200),
        ("GET", "/users/me", 200),
        ("GET", "/health", 200),
        ("GET", "/admin/roles/default", 200),
        ("GET", "/admin/roles/no_such_role", 404),
        ("GET", "/tools", 200),
        ("GET", "/admin/tools", 200),
        ("GET", "/admin/oauth-providers", 404),
    ],
)
async def test_app_routes_answer_with_and_without_a_trailing_slash(
    local_services: Services, method: str, path: str, status: int
) -> None:
    admin = local_services.auth_as("root", roles=["admin"])

    bare = await local_services.app.request(method, path, headers=admin)
    slashed = await local_services.app.request(method, f"{path}/", headers=admin)

    assert (bare.status_code, slashed.status_code) == (status, status), slashed.text
    assert "location" not in slashed.headers
    if status == 200 and path != "/health":
        assert slashed.json() == bare.json()


async def test_a_post_with_a_trailing_slash_is_not_redirected(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])

    created = await local_services.app.post(
        "/admin/roles/", json={"roleId": "slashed_role", "displayName": "Slashed"}, headers=admin
    )
    listed = await local_services.app.get("/admin/roles/", headers=admin)

    assert created.status_code == 201, created.text
    assert "slashed_role" in {role["roleId"] for role in listed.json()["roles"]}


async def test_inference_routes_answer_with_and_without_a_trailing_slash(local_services: Services) -> None:
    services, user = local_services, random_user_id()

    ping = await services.inference.get("/ping/")
    turn = await services.inference.post(
        "/invocations/", json={"session_id": random_session_id(), "message": "hi"}, headers=services.auth(user)
    )
    missing = await services.inference.get("/nowhere/")

    assert ping.status_code == turn.status_code == 200
    assert turn.headers["content-type"].startswith("text/event-stream")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


async def test_the_root_path_is_left_alone(local_services: Services) -> None:
    for client in (local_services.app, local_services.inference):
        root, double = await client.get("/"), await client.get("//")

        assert root.status_code == double.status_code == 404
        assert root.json()["code"] == "not_found"


async def test_the_access_log_names_the_route_of_a_slashed_path(
    local_services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="apis.http"):
        await local_services.app.get("/admin/roles/", headers=local_services.auth_as("root", roles=["admin"]))

    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records if record.name == "apis.http"]
    assert [line["message"] for line in lines] == ["GET /admin/roles 200"]


def test_no_route_is_declared_with_a_trailing_slash_and_the_openapi_has_one_spelling() -> None:
    """Slashed paths are routed as their bare spelling, so a route declared with a slash would be shadowed."""
    settings = service_settings(local_storage_settings(Path("unused")))
    for app in (create_app_api(settings), create_inference_api(settings)):
        paths = list(app.openapi()["paths"])

        assert paths, app.title
        assert [path for path in paths if path != "/" and path.endswith("/")] == []
        assert len(paths) == len(set(paths))


async def test_a_trailing_slash_is_routed_on_a_live_server_too(tmp_path: Path) -> None:
    """Through uvicorn, where the raw path travels with the path."""
    from tests.fixtures.services import live_server

    settings = service_settings(local_storage_settings(tmp_path))
    with live_server(lambda: create_app_api(settings)) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            response = await client.get("/health/")

    assert response.status_code == 200
    assert "location" not in response.headers
