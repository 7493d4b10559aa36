"""The trial sign-in of local mode, through HTTP as the reference client and a browser use it: GET /auth/login,
the page, its form, the callback's POST /auth/token, an API call, refresh and logout."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from apis.app_api.main import create_app
from apis.shared.config import (
    AuthMode,
    AuthSettings,
    Settings,
)
from apis.shared.errors import ConfigurationError
from tests.fixtures.services import running, service_settings
from tests.helpers import local_storage_settings

CALLBACK = "http://localhost:4200/auth/callback"
CLIENT_ORIGIN = "http://localhost:4200"
EMPLOYEE_NUMBER = "http://schemas.example.edu/claims/employeenumber"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def local_settings(data_dir: Path, **auth: Any) -> Settings:
    values: dict[str, Any] = {
        "auth_mode": AuthMode.LOCAL,
        "local_signin_enabled": True,
        "local_signin_redirect_uri": CALLBACK,
        "local_signin_roles": "Admin",
        "local_signin_claims": json.dumps({EMPLOYEE_NUMBER: "123456789"}),
        "admin_jwt_roles": "Admin",
    }
    values.update(auth)
    return service_settings(local_storage_settings(data_dir), AuthSettings(**values))


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(local_settings(tmp_path)), "http://app") as client:
        yield client


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


async def begin(app: httpx.AsyncClient) -> tuple[str, str]:
    """GET /auth/login as the client does: (the page's URL relative to the app, the state)."""
    body = (await app.get("/auth/login", params={"prompt": "select_account"})).json()
    url = urlsplit(body["authorization_url"])
    assert (url.scheme, url.netloc, url.path) == ("http", "app", "/auth/local/sign-in")
    return f"{url.path}?{url.query}", body["state"]


async def submit(app: httpx.AsyncClient, state: str, user_name: str) -> httpx.Response:
    return await app.post("/auth/local/sign-in", data={"state": state, "user_name": user_name}, headers=FORM)


async def sign_in(app: httpx.AsyncClient, user_name: str = "alice") -> dict[str, Any]:
    _, state = await begin(app)
    back = query_of((await submit(app, state, user_name)).headers["location"])
    answer = await app.post("/auth/token", json={"code": back["code"], "state": back["state"]})
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


async def test_a_typed_name_signs_in_with_the_configured_roles_and_claims(app: httpx.AsyncClient) -> None:
    page_url, state = await begin(app)
    page = await app.get(page_url)
    redirect = await submit(app, state, "alice")
    back = query_of(redirect.headers["location"])
    answer = await app.post("/auth/token", json={"code": back["code"], "state": back["state"]})

    assert page.status_code == 200
    assert f'name="state" value="{state}"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert f"form-action 'self' {CLIENT_ORIGIN}" in page.headers["content-security-policy"]
    assert redirect.status_code == 303
    assert redirect.headers["location"].startswith(CALLBACK + "?")
    assert back["state"] == state
    tokens = answer.json()
    assert set(tokens) == {"access_token", "refresh_token", "id_token", "token_type", "expires_in", "scope"}
    assert tokens["token_type"] == "Bearer"
    assert tokens["id_token"] is None
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["preferred_username"], claims["roles"]) == ("alice", "alice", ["Admin"])
    assert claims[EMPLOYEE_NUMBER] == "123456789"
    assert tokens["expires_in"] == claims["exp"] - claims["iat"]
    me = (await app.get("/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})).json()
    assert me["userId"] == "alice"
    assert me["effectivePermissions"]["isAdmin"] is True


async def test_a_name_that_looks_like_an_email_is_the_email(app: httpx.AsyncClient) -> None:
    tokens = await sign_in(app, "bob@example.com")

    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["email"]) == ("bob@example.com", "bob@example.com")


async def test_the_typed_name_is_escaped_when_the_form_comes_back(app: httpx.AsyncClient) -> None:
    _, state = await begin(app)

    answer = await submit(app, state, '"><script>alert(1)</script>')

    assert answer.status_code == 400
    assert "<script>" not in answer.text
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text
    assert "location" not in answer.headers


@pytest.mark.parametrize("state", ["", "forged", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"])
async def test_the_page_and_its_form_refuse_a_state_that_is_not_ours(app: httpx.AsyncClient, state: str) -> None:
    page = await app.get("/auth/local/sign-in", params={"state": state})
    form = await submit(app, state, "alice")

    assert (page.status_code, form.status_code) == (400, 400)
    assert page.json()["code"] == form.json()["code"] == "invalid_state"


async def test_a_bearer_token_is_no_state(app: httpx.AsyncClient) -> None:
    tokens = await sign_in(app)

    answer = await app.get("/auth/local/sign-in", params={"state": tokens["access_token"]})

    assert answer.status_code == 400


async def test_a_code_works_only_with_its_own_state(app: httpx.AsyncClient) -> None:
    _, state = await begin(app)
    _, other_state = await begin(app)
    code = query_of((await submit(app, state, "alice")).headers["location"])["code"]

    answer = await app.post("/auth/token", json={"code": code, "state": other_state})
    forged = await app.post("/auth/token", json={"code": "forged", "state": state})

    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_grant")
    assert (forged.status_code, forged.json()["code"]) == (400, "invalid_grant")


async def test_the_form_must_be_a_form(app: httpx.AsyncClient) -> None:
    _, state = await begin(app)

    answer = await app.post("/auth/local/sign-in", json={"state": state, "user_name": "alice"})

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_form"


async def test_refresh_mints_a_new_token_and_refuses_anything_else(app: httpx.AsyncClient) -> None:
    tokens = await sign_in(app)

    refreshed = await app.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    with_access_token = await app.post("/auth/refresh", json={"refresh_token": tokens["access_token"]})

    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] == tokens["refresh_token"]
    new_claims = jwt.decode(refreshed.json()["access_token"], options={"verify_signature": False})
    assert (new_claims["sub"], new_claims["roles"]) == ("alice", ["Admin"])
    assert with_access_token.status_code == 401
    assert with_access_token.json()["code"] == "invalid_refresh_token"


async def test_logout_goes_back_to_the_client(app: httpx.AsyncClient) -> None:
    named = await app.get("/auth/logout", params={"post_logout_redirect_uri": CLIENT_ORIGIN})
    unnamed = await app.get("/auth/logout")
    foreign = await app.get("/auth/logout", params={"post_logout_redirect_uri": "https://evil.test"})

    assert named.json() == {"logout_url": CLIENT_ORIGIN}
    assert unnamed.json() == {"logout_url": CLIENT_ORIGIN + "/"}
    assert foreign.status_code == 400


async def test_another_callback_is_refused(app: httpx.AsyncClient) -> None:
    answer = await app.get("/auth/login", params={"redirect_uri": "https://evil.test/auth/callback"})

    assert answer.status_code == 400
    assert answer.json()["code"] == "redirect_uri_not_allowed"


async def test_roles_are_none_unless_configured(tmp_path: Path) -> None:
    settings = local_settings(tmp_path, local_signin_roles="", local_signin_claims="{}")

    async with running(create_app(settings), "http://app") as app:
        tokens = await sign_in(app)

    assert jwt.decode(tokens["access_token"], options={"verify_signature": False})["roles"] == []


async def test_off_by_default_every_route_is_a_404(tmp_path: Path) -> None:
    settings = local_settings(tmp_path, local_signin_enabled=False)

    async with running(create_app(settings), "http://app") as app:
        answers = [
            await app.get("/auth/login"),
            await app.post("/auth/token", json={"code": "c", "state": "s"}),
            await app.post("/auth/refresh", json={"refresh_token": "r"}),
            await app.get("/auth/logout"),
            await app.get("/auth/local/sign-in", params={"state": "s"}),
            await app.post("/auth/local/sign-in", data={"state": "s", "user_name": "alice"}, headers=FORM),
        ]

    assert [a.status_code for a in answers] == [404] * 6
    assert {a.json()["code"] for a in answers} == {"sign_in_not_offered"}
    assert AuthSettings(auth_mode=AuthMode.LOCAL).local_signin_enabled is False


async def test_the_page_is_refused_in_oidc_mode(tmp_path: Path) -> None:
    settings = local_settings(
        tmp_path,
        auth_mode=AuthMode.OIDC,
        oidc_issuer="http://127.0.0.1:9/realms/none",
        oidc_audience="colloquy-api",
        oidc_client_id="colloquy-web",
        oidc_state_secret="s" * 32,
        oidc_redirect_uri=CALLBACK,
    )

    async with running(create_app(settings), "http://app") as app:
        answer = await app.get("/auth/local/sign-in", params={"state": "s"})

    assert answer.status_code == 404
    assert "local auth mode only" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({"local_signin_enabled": True}, "LOCAL_SIGNIN_REDIRECT_URI"),
        ({"local_signin_enabled": True, "local_signin_redirect_uri": "/auth/callback"}, "LOCAL_SIGNIN_REDIRECT_URI"),
        ({"local_signin_claims": "[1]"}, "JSON object"),
        ({"local_signin_claims": "{"}, "JSON object"),
        ({"local_signin_claims": '{"roles": ["Admin"]}'}, "roles"),
        ({"local_signin_claims": '{"preferred_username": "x"}'}, "preferred_username"),
        ({"oidc_client_id": "web"}, "OIDC_REDIRECT_URI"),
        ({"oidc_client_id": "web", "oidc_redirect_uri": CALLBACK}, "OIDC_STATE_SECRET"),
        ({"oidc_state_secret": "short"}, "32"),
        ({"oidc_scopes": "profile email"}, "openid"),
    ],
)
def test_sign_in_settings_are_checked_at_start(auth: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises((ConfigurationError, ValueError)) as caught:
        AuthSettings(auth_mode=AuthMode.LOCAL, **auth)

    assert message in str(caught.value)
