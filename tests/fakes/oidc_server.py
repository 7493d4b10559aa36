"""A fake OIDC provider for the app API's sign-in: discovery, JWKS, authorize, token and end-session.

It follows the specifications a real provider does, so the sign-in meets nothing made for it: the issuer has
a path (`<url>/realms/test`, as Keycloak's), the discovery document names every endpoint, the authorization
endpoint redirects with `code` and `state` at once (the user is always `state.user`), and the token endpoint
authenticates the client (client_secret_basic, or client_secret_post when that is all it lists), checks the
code's redirect URI and its PKCE S256 challenge, uses each code once, and rotates refresh tokens. Refusals
are RFC 6749's `{"error": "invalid_grant"}` with a 400. Access tokens are RS256 JWTs for `api_audience`,
ID tokens for the client id with the authorization request's nonce.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.server import FakeProviderState, RunningFake, fake_app, serve

REALM = "/realms/test"
KID = "fake-oidc-1"


@dataclass
class AuthorizationGrant:
    """What an authorization request asked for, kept with the code it was given."""

    client_id: str
    redirect_uri: str
    code_challenge: str | None
    nonce: str | None
    scope: str
    user: dict[str, Any]
    used: bool = False


@dataclass
class RefreshGrant:
    user: dict[str, Any]
    scope: str
    expires_at: float
    revoked: bool = False


@dataclass
class FakeOidcState(FakeProviderState):
    """The provider's one registered client, its user, and what it issued; a test reads and changes it."""

    client_id: str = "colloquy-web"
    # None: a public client, identified by client_id alone.
    client_secret: str | None = "fake-client-secret"
    redirect_uris: list[str] = field(default_factory=lambda: ["http://client.test/auth/callback"])
    api_audience: str = "colloquy-api"
    token_endpoint_auth_methods: list[str] = field(
        default_factory=lambda: ["client_secret_basic", "client_secret_post"]
    )
    # Who signs in at the authorization endpoint.
    user: dict[str, Any] = field(
        default_factory=lambda: {"sub": "ada", "email": "ada@example.com", "name": "Ada Lovelace", "roles": ["staff"]}
    )
    check_pkce: bool = True
    offer_end_session: bool = True
    issue_refresh_tokens: bool = True
    # The ID token's nonce, when set, instead of the one the authorization request sent.
    id_token_nonce_override: str | None = None
    access_token_seconds: int = 300
    refresh_token_seconds: int = 3600
    # Set once the fake is served.
    issuer: str = ""
    signing_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    codes: dict[str, AuthorizationGrant] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshGrant] = field(default_factory=dict)

    def expire_refresh_tokens(self) -> None:
        for grant in self.refresh_tokens.values():
            grant.expires_at = 0.0


def _oauth_error(status: int, message: str) -> Response:
    error = "invalid_grant" if status == 400 else "server_error"
    return JSONResponse({"error": error, "error_description": message}, status_code=status)


def _refused(error: str, status: int = 400) -> Response:
    return JSONResponse({"error": error}, status_code=status, headers={"Cache-Control": "no-store"})


def _discovery(state: FakeOidcState) -> dict[str, Any]:
    base = state.issuer + "/protocol/openid-connect"
    document: dict[str, Any] = {
        "issuer": state.issuer,
        "authorization_endpoint": f"{base}/auth",
        "token_endpoint": f"{base}/token",
        "jwks_uri": f"{base}/certs",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": state.token_endpoint_auth_methods,
        "prompt_values_supported": ["none", "login", "consent"],
    }
    if state.offer_end_session:
        document["end_session_endpoint"] = f"{base}/logout"
    return document


def _sign(state: FakeOidcState, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, state.signing_key, algorithm="RS256", headers={"kid": KID})


def _tokens(state: FakeOidcState, user: dict[str, Any], scope: str, *, nonce: str | None) -> dict[str, Any]:
    now = int(time.time())
    common = {"iss": state.issuer, "iat": now, "exp": now + state.access_token_seconds, **user}
    id_claims = {**common, "aud": state.client_id}
    if nonce is not None:
        id_claims["nonce"] = nonce
    answer: dict[str, Any] = {
        "access_token": _sign(state, {**common, "aud": state.api_audience, "scope": scope}),
        "id_token": _sign(state, id_claims),
        "token_type": "Bearer",
        "expires_in": state.access_token_seconds,
        "scope": scope,
    }
    if state.issue_refresh_tokens and "offline_access" in scope.split():
        refresh_token = secrets.token_urlsafe(32)
        state.refresh_tokens[refresh_token] = RefreshGrant(
            user=user, scope=scope, expires_at=time.time() + state.refresh_token_seconds
        )
        answer["refresh_token"] = refresh_token
    return answer


def _client_authenticated(state: FakeOidcState, request: Request, form: dict[str, str]) -> bool:
    """RFC 6749 2.3.1: Basic credentials (form-encoded parts), or client_secret in the body, or none for a public
    client; only methods the discovery document lists count."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        if "client_secret_basic" not in state.token_endpoint_auth_methods:
            return False
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        return unquote_plus(client_id) == state.client_id and unquote_plus(secret) == state.client_secret
    if form.get("client_id") != state.client_id:
        return False
    if state.client_secret is None:
        return "client_secret" not in form
    if "client_secret_post" not in state.token_endpoint_auth_methods:
        return False
    return form.get("client_secret") == state.client_secret


def _pkce_holds(grant: AuthorizationGrant, verifier: str | None) -> bool:
    if grant.code_challenge is None or verifier is None:
        return False
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return secrets.compare_digest(digest, grant.code_challenge)


def _code_grant(state: FakeOidcState, form: dict[str, str]) -> Response:
    grant = state.codes.get(form.get("code", ""))
    if grant is None or grant.used or grant.redirect_uri != form.get("redirect_uri"):
        return _refused("invalid_grant")
    grant.used = True  # a code works once, whatever the outcome of this request
    if state.check_pkce and not _pkce_holds(grant, form.get("code_verifier")):
        return _refused("invalid_grant")
    nonce = state.id_token_nonce_override or grant.nonce
    return JSONResponse(_tokens(state, grant.user, grant.scope, nonce=nonce), headers={"Cache-Control": "no-store"})


def _refresh_grant(state: FakeOidcState, form: dict[str, str]) -> Response:
    old = form.get("refresh_token", "")
    grant = state.refresh_tokens.get(old)
    if grant is None or grant.revoked or grant.expires_at <= time.time():
        return _refused("invalid_grant")
    grant.revoked = True  # rotation: the old refresh token is spent
    return JSONResponse(_tokens(state, grant.user, grant.scope, nonce=None), headers={"Cache-Control": "no-store"})


def oidc_app(state: FakeOidcState) -> Any:
    """The provider's routes, behind the recording and fail switch every fake has."""

    async def discovery(request: Request) -> Response:
        return JSONResponse(_discovery(state))

    async def certs(request: Request) -> Response:
        jwk = RSAAlgorithm.to_jwk(state.signing_key.public_key(), as_dict=True)
        return JSONResponse({"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]})

    async def authorize(request: Request) -> Response:
        query = request.query_params
        redirect_uri = query.get("redirect_uri", "")
        # An unknown client or redirect URI is never redirected to (RFC 6749 4.1.2.1): the user sees an error.
        if query.get("client_id") != state.client_id or redirect_uri not in state.redirect_uris:
            return PlainTextResponse("unknown client or redirect_uri", status_code=400)
        if query.get("response_type") != "code" or query.get("code_challenge_method", "S256") != "S256":
            refusal = {"error": "invalid_request", "state": query.get("state", "")}
            return RedirectResponse(f"{redirect_uri}?{urlencode(refusal)}")
        code = secrets.token_urlsafe(24)
        state.codes[code] = AuthorizationGrant(
            client_id=state.client_id,
            redirect_uri=redirect_uri,
            code_challenge=query.get("code_challenge"),
            nonce=query.get("nonce"),
            scope=query.get("scope", "openid"),
            user=dict(state.user),
        )
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': query.get('state', '')})}")

    async def token(request: Request) -> Response:
        form = {name: values[0] for name, values in parse_qs((await request.body()).decode()).items()}
        if not _client_authenticated(state, request, form):
            return _refused("invalid_client", 401)
        match form.get("grant_type"):
            case "authorization_code":
                return _code_grant(state, form)
            case "refresh_token":
                return _refresh_grant(state, form)
        return _refused("unsupported_grant_type")

    async def end_session(request: Request) -> Response:
        target = request.query_params.get("post_logout_redirect_uri")
        return RedirectResponse(target) if target else PlainTextResponse("signed out")

    base = REALM + "/protocol/openid-connect"
    routes = [
        Route(REALM + "/.well-known/openid-configuration", discovery),
        Route(f"{base}/certs", certs),
        Route(f"{base}/auth", authorize),
        Route(f"{base}/token", token, methods=["POST"]),
        Route(f"{base}/logout", end_session),
    ]
    return fake_app(routes, state, _oauth_error)


@contextmanager
def running_oidc_provider(state: FakeOidcState | None = None) -> Iterator[RunningFake[FakeOidcState]]:
    """Serve a fake provider on loopback; `url` is its issuer."""
    state = state or FakeOidcState()
    with serve(oidc_app(state)) as url:
        state.issuer = url + REALM
        yield RunningFake(url=state.issuer, state=state)
