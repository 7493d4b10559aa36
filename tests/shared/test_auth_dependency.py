"""The FastAPI dependency: bearer tokens in, the user out (and on request.state), 401 otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request

from apis.shared.auth import (
    AuthenticatedUser,
    IdentityProviderUnavailable,
    LocalTokenValidator,
    load_or_create_key_pair,
    mint_local_token,
)
from apis.shared.config import AuthMode, AuthSettings
from apis.shared.dependencies import TokenUser
from apis.shared.http import install_error_handlers


@pytest.fixture
def settings() -> AuthSettings:
    return AuthSettings(auth_mode=AuthMode.LOCAL, local_token_issuer="colloquy-local", local_token_audience="colloquy")


def _app(settings: AuthSettings, data_dir: Path) -> FastAPI:
    app = FastAPI()
    app.state.token_validator = LocalTokenValidator(settings, load_or_create_key_pair(data_dir))

    install_error_handlers(app, retry_after_seconds=1)

    @app.get("/me")
    async def me(user: TokenUser, request: Request) -> dict[str, object]:
        return {"userId": user.user_id, "roles": list(user.roles), "stateUserId": request.state.user.user_id}

    return app


@pytest.fixture
async def client(settings: AuthSettings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(settings, tmp_path))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_a_valid_bearer_token_yields_the_user_and_leaves_it_on_request_state(
    client: httpx.AsyncClient, settings: AuthSettings, tmp_path: Path
) -> None:
    token = mint_local_token(settings=settings, data_dir=tmp_path, user_id="user-1", roles=["staff"])

    response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json() == {"userId": "user-1", "roles": ["staff"], "stateUserId": "user-1"}


async def test_the_scheme_is_matched_without_regard_to_case(
    client: httpx.AsyncClient, settings: AuthSettings, tmp_path: Path
) -> None:
    token = mint_local_token(settings=settings, data_dir=tmp_path, user_id="user-1")

    response = await client.get("/me", headers={"Authorization": f"bearer {token}"})

    assert response.status_code == 200


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc"])
async def test_no_bearer_token_is_a_401_with_a_bearer_challenge(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await client.get("/me", headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"] == "missing bearer token"
    assert response.json()["code"] == "unauthenticated"


async def test_a_token_the_validator_refuses_is_a_401_naming_the_reason(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers={"Authorization": "Bearer not-a-jwt"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"] == "token malformed"


class _UnreachableIssuer:
    """A validator whose identity provider is down."""

    async def validate(self, token: str) -> AuthenticatedUser:
        raise IdentityProviderUnavailable("the identity provider's signing keys cannot be fetched")


async def test_an_unreachable_identity_provider_is_a_503_to_retry_not_a_401(
    settings: AuthSettings, tmp_path: Path
) -> None:
    app = _app(settings, tmp_path)
    app.state.token_validator = _UnreachableIssuer()

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/me", headers={"Authorization": "Bearer some.jwt.token"})

    assert response.status_code == 503
    assert response.json()["code"] == "identity_provider_unavailable"
    assert "Retry-After" in response.headers
    assert "WWW-Authenticate" not in response.headers
