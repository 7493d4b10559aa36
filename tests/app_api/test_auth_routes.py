"""Signing in from the browser against a fake OIDC provider on loopback, through HTTP as the reference client does:
GET /auth/login, the provider's authorize redirect, POST /auth/token, an API call, POST /auth/refresh, GET /auth/logout.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apis.app_api.main import create_app
from apis.shared.auth import SignInStates
from apis.shared.auth.sign_in_state import pkce_challenge
from apis.shared.config import (
    AuthMode,
    AuthSettings,
    BearerToken,
    Settings,
)
from tests.fakes.oidc_server import FakeOidcState, running_oidc_provider
from tests.fakes.server import RunningFake, closed_port_url
from tests.fixtures.services import running, service_settings
from tests.helpers import local_storage_settings

CALLBACK = "http://client.test/auth/callback"
CLIENT_ORIGIN = "http://client.test"
STATE_SECRET = "s" * 32


def oidc_settings(data_dir: Path, issuer: str, **auth: Any) -> Settings:
    values: dict[str, Any] = {
        "auth_mode": AuthMode.OIDC,
        "oidc_issuer": issuer,
        "oidc_audience": "colloquy-api",
        "oidc_client_id": "colloquy-web",
        "oidc_client_secret": "fake-client-secret",
        "oidc_redirect_uri": CALLBACK,
    }
    values.update(auth)
    return service_settings(local_storage_settings(data_dir), AuthSettings(**values))


@pytest.fixture
def provider() -> Iterator[RunningFake[FakeOidcState]]:
    with running_oidc_provider() as running_provider:
        yield running_provider


@pytest.fixture
async def app(provider: RunningFake[FakeOidcState], tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(oidc_settings(tmp_path, provider.url)), "http://app") as client:
        yield client


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    """What the browser does between the app API's answers: follow the provider's redirects, by hand."""
    async with httpx.AsyncClient(follow_redirects=False) as client:
        yield client


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


async def authorize(browser: httpx.AsyncClient, app: httpx.AsyncClient) -> tuple[str, str]:
    """Begin a sign-in and pass the provider's authorize step: the (code, state) the client's callback gets."""
    login = (await app.get("/auth/login", params={"prompt": "select_account"})).json()
    answer = await browser.get(login["authorization_url"])
    assert answer.status_code in (302, 303, 307), answer.text
    assert answer.headers["location"].startswith(CALLBACK + "?")
    back = query_of(answer.headers["location"])
    assert back["state"] == login["state"]
    return back["code"], back["state"]


async def sign_in(browser: httpx.AsyncClient, app: httpx.AsyncClient) -> dict[str, Any]:
    code, state = await authorize(browser, app)
    answer = await app.post("/auth/token", json={"code": code, "state": state})
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_login_asks_the_discovered_provider_for_a_code_with_pkce_state_and_nonce(
    app: httpx.AsyncClient, provider: RunningFake[FakeOidcState]
) -> None:
    answer = await app.get("/auth/login", params={"prompt": "select_account"})

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"authorization_url", "state"}
    assert body["authorization_url"].startswith(provider.url + "/protocol/openid-connect/auth?")
    query = query_of(body["authorization_url"])
    assert query["client_id"] == "colloquy-web"
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == CALLBACK
    assert query["scope"] == "openid profile email offline_access"
    assert query["state"] == body["state"]
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["nonce"]) >= 32
    # The provider lists the prompt values it supports; select_account is not one of them.
    assert "prompt" not in query
    assert "code_verifier" not in query


async def test_a_signed_in_client_calls_the_api_with_the_access_token(
    app: httpx.AsyncClient, browser: httpx.AsyncClient, provider: RunningFake[FakeOidcState]
) -> None:
    tokens = await sign_in(browser, app)

    assert set(tokens) == {"access_token", "refresh_token", "id_token", "token_type", "expires_in", "scope"}
    assert tokens["token_type"] == "Bearer"
    assert 290 <= tokens["expires_in"] <= 300
    assert tokens["refresh_token"]
    assert tokens["id_token"]
    assert tokens["scope"] == "openid profile email offline_access"
    me = await app.get("/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    assert (me.json()["userId"], me.json()["email"], me.json()["roles"]) == ("ada", "ada@example.com", ["staff"])
    # The verifier went to the token endpoint only, with the client's credentials, and fits the challenge.
    exchange = next(r for r in provider.state.requests if r.path.endswith("/token"))
    form = query_of("?" + exchange.body.decode())
    assert (exchange.header("authorization") or "").startswith("Basic ")
    grant = next(iter(provider.state.codes.values()))
    assert pkce_challenge(form["code_verifier"]) == grant.code_challenge


async def test_refresh_gives_new_tokens_and_the_spent_refresh_token_is_refused(
    app: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    tokens = await sign_in(browser, app)

    refreshed = await app.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    again = await app.post("/auth/refresh", json={"refreshToken": tokens["refresh_token"]})

    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert (await app.get("/users/me", headers=bearer(new["access_token"]))).status_code == 200
    assert again.status_code == 401
    assert again.json()["code"] == "invalid_refresh_token"
    assert again.headers["www-authenticate"] == "Bearer"


async def test_an_expired_refresh_token_is_a_401(
    app: httpx.AsyncClient, browser: httpx.AsyncClient, provider: RunningFake[FakeOidcState]
) -> None:
    tokens = await sign_in(browser, app)
    provider.state.expire_refresh_tokens()

    answer = await app.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})

    assert answer.status_code == 401
    assert answer.json()["code"] == "invalid_refresh_token"


@pytest.mark.parametrize("tamper", ["junk", "flip", "other-secret"])
async def test_a_state_this_service_did_not_issue_is_refused(
    app: httpx.AsyncClient, browser: httpx.AsyncClient, provider: RunningFake[FakeOidcState], tamper: str
) -> None:
    code, state = await authorize(browser, app)
    forged = {
        "junk": "not-a-state",
        "flip": state[:-2] + ("AA" if not state.endswith("AA") else "BB"),
        "other-secret": _state_signed_elsewhere(),
    }[tamper]

    answer = await app.post("/auth/token", json={"code": code, "state": forged})

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_state"
    assert not any(r.path.endswith("/token") for r in provider.state.requests)


def _state_signed_elsewhere() -> str:
    state, _ = SignInStates("another-secret-of-at-least-32-chars", issuer="colloquy-web").issue()
    return state


async def test_a_replayed_code_is_refused(app: httpx.AsyncClient, browser: httpx.AsyncClient) -> None:
    code, state = await authorize(browser, app)
    first = await app.post("/auth/token", json={"code": code, "state": state})

    second = await app.post("/auth/token", json={"code": code, "state": state})

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["code"] == "invalid_grant"


async def test_a_code_of_another_sign_in_fails_pkce(app: httpx.AsyncClient, browser: httpx.AsyncClient) -> None:
    code, _ = await authorize(browser, app)
    _, other_state = await authorize(browser, app)

    answer = await app.post("/auth/token", json={"code": code, "state": other_state})

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_grant"


async def test_an_id_token_with_another_nonce_is_refused_even_without_pkce(
    app: httpx.AsyncClient, browser: httpx.AsyncClient, provider: RunningFake[FakeOidcState]
) -> None:
    provider.state.check_pkce = False
    code, _ = await authorize(browser, app)
    _, other_state = await authorize(browser, app)

    answer = await app.post("/auth/token", json={"code": code, "state": other_state})

    assert answer.status_code == 400
    assert answer.json()["code"] == "nonce_mismatch"


async def test_only_the_configured_callback_is_accepted(app: httpx.AsyncClient, browser: httpx.AsyncClient) -> None:
    code, state = await authorize(browser, app)

    login = await app.get("/auth/login", params={"redirect_uri": "https://evil.test/auth/callback"})
    same = await app.get("/auth/login", params={"redirect_uri": CALLBACK})
    token = await app.post("/auth/token", json={"code": code, "state": state, "redirect_uri": "https://evil.test/cb"})

    assert login.status_code == 400
    assert login.json()["code"] == "redirect_uri_not_allowed"
    assert same.status_code == 200
    assert token.status_code == 400
    assert token.json()["code"] == "redirect_uri_not_allowed"


async def test_logout_sends_the_browser_to_the_providers_end_session_endpoint(
    app: httpx.AsyncClient, provider: RunningFake[FakeOidcState]
) -> None:
    answer = await app.get("/auth/logout", params={"post_logout_redirect_uri": CLIENT_ORIGIN})
    elsewhere = await app.get("/auth/logout", params={"post_logout_redirect_uri": "http://client.test@evil.test/"})

    assert answer.status_code == 200
    url = answer.json()["logout_url"]
    assert url.startswith(provider.url + "/protocol/openid-connect/logout?")
    assert query_of(url) == {"client_id": "colloquy-web", "post_logout_redirect_uri": CLIENT_ORIGIN}
    assert elsewhere.status_code == 400
    assert elsewhere.json()["code"] == "redirect_uri_not_allowed"


async def test_without_an_end_session_endpoint_logout_goes_back_to_the_client(
    app: httpx.AsyncClient, provider: RunningFake[FakeOidcState]
) -> None:
    provider.state.offer_end_session = False

    named = (await app.get("/auth/logout", params={"post_logout_redirect_uri": CLIENT_ORIGIN})).json()
    unnamed = (await app.get("/auth/logout")).json()

    assert named == {"logout_url": CLIENT_ORIGIN}
    assert unnamed == {"logout_url": CLIENT_ORIGIN + "/"}


async def test_a_public_client_signs_in_with_pkce_alone(
    provider: RunningFake[FakeOidcState], browser: httpx.AsyncClient, tmp_path: Path
) -> None:
    provider.state.client_secret = None
    settings = oidc_settings(tmp_path, provider.url, oidc_client_secret=None, oidc_state_secret=STATE_SECRET)

    async with running(create_app(settings), "http://app") as app:
        tokens = await sign_in(browser, app)

    exchange = next(r for r in provider.state.requests if r.path.endswith("/token"))
    assert exchange.header("authorization") is None
    assert "client_secret" not in query_of("?" + exchange.body.decode())
    assert tokens["access_token"]


async def test_a_provider_that_takes_the_secret_in_the_body_gets_it_there(
    provider: RunningFake[FakeOidcState], browser: httpx.AsyncClient, tmp_path: Path
) -> None:
    provider.state.token_endpoint_auth_methods = ["client_secret_post"]

    async with running(create_app(oidc_settings(tmp_path, provider.url)), "http://app") as app:
        tokens = await sign_in(browser, app)

    assert tokens["access_token"]


async def test_the_id_token_can_be_the_bearer_token(
    provider: RunningFake[FakeOidcState], browser: httpx.AsyncClient, tmp_path: Path
) -> None:
    settings = oidc_settings(
        tmp_path, provider.url, oidc_audience="colloquy-web", oidc_bearer_token=BearerToken.ID_TOKEN
    )

    async with running(create_app(settings), "http://app") as app:
        tokens = await sign_in(browser, app)
        me = await app.get("/users/me", headers=bearer(tokens["access_token"]))

    assert tokens["access_token"] == tokens["id_token"]
    assert me.status_code == 200


async def test_tokens_this_service_would_refuse_fail_the_sign_in_with_a_502(
    provider: RunningFake[FakeOidcState], browser: httpx.AsyncClient, tmp_path: Path
) -> None:
    settings = oidc_settings(tmp_path, provider.url, oidc_audience="some-other-api")

    async with running(create_app(settings), "http://app") as app:
        code, state = await authorize(browser, app)
        answer = await app.post("/auth/token", json={"code": code, "state": state})

    assert answer.status_code == 502
    assert answer.json()["code"] == "identity_provider_error"
    assert "audience" in answer.json()["detail"]


async def test_an_unreachable_provider_is_a_503(tmp_path: Path) -> None:
    async with running(create_app(oidc_settings(tmp_path, closed_port_url())), "http://app") as app:
        answer = await app.get("/auth/login")

    assert answer.status_code == 503
    assert answer.json()["code"] == "identity_provider_unavailable"
    assert "retry-after" in answer.headers


async def test_without_a_client_id_every_route_is_a_404(provider: RunningFake[FakeOidcState], tmp_path: Path) -> None:
    settings = oidc_settings(
        tmp_path, provider.url, oidc_client_id=None, local_signin_enabled=True, local_signin_redirect_uri=CALLBACK
    )

    async with running(create_app(settings), "http://app") as app:
        answers = [
            await app.get("/auth/login"),
            await app.post("/auth/token", json={"code": "c", "state": "s"}),
            await app.post("/auth/refresh", json={"refresh_token": "r"}),
            await app.get("/auth/logout"),
            await app.get("/auth/local/sign-in", params={"state": "s"}),
        ]

    assert [a.status_code for a in answers] == [404] * 5
    assert {a.json()["code"] for a in answers} == {"sign_in_not_offered"}
    assert provider.state.requests == []
