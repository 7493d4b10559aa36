"""OIDC mode against a real (tiny) identity provider on 127.0.0.1: discovery, JWKS, rotation, outages."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from apis.shared.auth import AuthenticatedUser, IdentityProviderUnavailable, OidcTokenValidator
from apis.shared.config import AuthMode, AuthSettings
from apis.shared.errors import AuthenticationError, ConfigurationError

AUDIENCE = "colloquy-api"
DISCOVERY = "/realms/colloquy/.well-known/openid-configuration"
JWKS = "/keys"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    def jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


class IdentityProvider:
    """Serves a discovery document and a JWKS that a test can change, and counts what was fetched."""

    def __init__(self) -> None:
        self.published: dict[str, SigningKey] = {}
        self.hits: Counter[str] = Counter()
        self.broken: set[str] = set()  # paths that answer junk, as a proxy in front of a sick issuer would
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self.issuer = f"{self.base_url}/realms/colloquy"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def publish(self, key: SigningKey) -> None:
        self.published[key.kid] = key

    def body_for(self, path: str) -> bytes | None:
        if path in self.broken:
            return b"<html>502 Bad Gateway</html>"
        if path == DISCOVERY:
            return json.dumps({"issuer": self.issuer, "jwks_uri": self.base_url + JWKS}).encode()
        if path == JWKS:
            return json.dumps({"keys": [key.jwk() for key in self.published.values()]}).encode()
        return None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _handler_for(provider: IdentityProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.hits[self.path] += 1
            body = provider.body_for(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # the base class names it `format`
            """Keep test output quiet."""

    return Handler


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    return SigningKey("rsa-1", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def rotated_key() -> SigningKey:
    return SigningKey("rsa-2", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def ec_key() -> SigningKey:
    return SigningKey("ec-1", "ES256", ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture
def provider(rsa_key: SigningKey, ec_key: SigningKey) -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    provider.publish(rsa_key)
    provider.publish(ec_key)
    yield provider
    provider.close()


def _settings(issuer: str, **overrides: Any) -> AuthSettings:
    values: dict[str, Any] = {
        "auth_mode": AuthMode.OIDC,
        "oidc_issuer": issuer,
        "oidc_audience": AUDIENCE,
        "oidc_jwks_url": None,
        "oidc_leeway_seconds": 30,
        "oidc_algorithms": "RS256,ES256",
        "oidc_user_id_claim": "sub",
        "oidc_email_claim": "email",
        "oidc_name_claim": "name",
        "oidc_roles_claim": "roles",
    }
    values.update(overrides)
    return AuthSettings(**values)


def _validator(issuer: str, *, cooldown: float = 0.0, **overrides: Any) -> OidcTokenValidator:
    return OidcTokenValidator(
        _settings(issuer, **overrides), http_timeout_seconds=5.0, refresh_cooldown_seconds=cooldown
    )


def _token(key: SigningKey, issuer: str, *, kid: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    body: dict[str, Any] = {"iss": issuer, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 300}
    body.update(claims)
    body = {name: value for name, value in body.items() if value is not None}
    return jwt.encode(body, key.private_key, algorithm=key.algorithm, headers={"kid": kid or key.kid})


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def _refusal(validator: OidcTokenValidator, token: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        await validator.validate(token)
    return caught.value.detail


async def test_the_jwks_url_is_discovered_once_and_the_key_set_cached(
    provider: IdentityProvider, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    validator = _validator(provider.issuer)

    first = await validator.validate(_token(rsa_key, provider.issuer, email="ada@example.com"))
    second = await validator.validate(_token(ec_key, provider.issuer, sub="user-2"))

    assert first == AuthenticatedUser(user_id="user-1", email="ada@example.com")
    assert second.user_id == "user-2"
    assert provider.hits == Counter({DISCOVERY: 1, JWKS: 1})


async def test_a_configured_jwks_url_skips_discovery(provider: IdentityProvider, rsa_key: SigningKey) -> None:
    validator = _validator(provider.issuer, oidc_jwks_url=provider.base_url + JWKS)

    assert (await validator.validate(_token(rsa_key, provider.issuer))).user_id == "user-1"
    assert provider.hits == Counter({JWKS: 1})


async def test_a_key_published_after_rotation_is_fetched_and_accepted(
    provider: IdentityProvider, rsa_key: SigningKey, rotated_key: SigningKey
) -> None:
    validator = _validator(provider.issuer)
    await validator.validate(_token(rsa_key, provider.issuer))

    provider.publish(rotated_key)
    user = await validator.validate(_token(rotated_key, provider.issuer, sub="user-9"))

    assert user.user_id == "user-9"
    assert provider.hits[JWKS] == 2


async def test_a_kid_still_unknown_after_a_refetch_is_refused(
    provider: IdentityProvider, rsa_key: SigningKey, rotated_key: SigningKey
) -> None:
    validator = _validator(provider.issuer)
    await validator.validate(_token(rsa_key, provider.issuer))

    reason = await _refusal(validator, _token(rotated_key, provider.issuer))

    assert reason == "token signed by an unknown key"
    assert provider.hits[JWKS] == 2


async def test_unknown_kids_refetch_the_key_set_at_most_once_per_cooldown(
    provider: IdentityProvider, rsa_key: SigningKey, rotated_key: SigningKey
) -> None:
    validator = _validator(provider.issuer, cooldown=3600.0)
    await validator.validate(_token(rsa_key, provider.issuer))

    for kid in ("made-up-1", "made-up-2", "made-up-3"):
        assert await _refusal(validator, _token(rotated_key, provider.issuer, kid=kid)) == (
            "token signed by an unknown key"
        )

    assert provider.hits[JWKS] == 2


async def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(
    provider: IdentityProvider, rsa_key: SigningKey, rotated_key: SigningKey
) -> None:
    token = _token(rotated_key, provider.issuer, kid=rsa_key.kid)

    assert await _refusal(_validator(provider.issuer), token) == "token signature invalid"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": 1_000_000}, "token expired"),
        ({"iss": "https://evil.example"}, "token issuer not accepted"),
        ({"aud": "another-app"}, "token audience not accepted"),
        ({"sub": None}, "token has no user id"),
    ],
)
async def test_tokens_with_wrong_claims_are_refused(
    provider: IdentityProvider, rsa_key: SigningKey, claims: dict[str, Any], reason: str
) -> None:
    assert await _refusal(_validator(provider.issuer), _token(rsa_key, provider.issuer, **claims)) == reason


async def test_a_token_naming_no_key_is_refused_without_asking_the_issuer(
    provider: IdentityProvider, rsa_key: SigningKey
) -> None:
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": AUDIENCE, "sub": "u", "exp": now + 60}
    token = jwt.encode(claims, rsa_key.private_key, algorithm="RS256")

    assert await _refusal(_validator(provider.issuer), token) == "token names no signing key"
    assert provider.hits == Counter()


async def test_alg_none_and_hs256_keyed_with_a_public_key_are_refused(
    provider: IdentityProvider, rsa_key: SigningKey
) -> None:
    validator = _validator(provider.issuer)
    claims = {"iss": provider.issuer, "aud": AUDIENCE, "sub": "u", "exp": int(time.time()) + 60}
    unsigned = jwt.encode(claims, "", algorithm="none", headers={"kid": rsa_key.kid})
    public_pem = rsa_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # PyJWT refuses a PEM as an HMAC secret, so sign with a different secret: the header alone must decide.
    hmac_signed = jwt.encode(claims, public_pem[:32], algorithm="HS256", headers={"kid": rsa_key.kid})

    assert await _refusal(validator, unsigned) == "token algorithm not accepted"
    assert await _refusal(validator, hmac_signed) == "token algorithm not accepted"
    assert provider.hits == Counter()


async def test_an_algorithm_the_settings_do_not_list_is_refused(provider: IdentityProvider, ec_key: SigningKey) -> None:
    validator = _validator(provider.issuer, oidc_algorithms="RS256")

    assert await _refusal(validator, _token(ec_key, provider.issuer)) == "token algorithm not accepted"


async def test_claims_are_mapped_by_the_configured_names_with_nested_roles(
    provider: IdentityProvider, rsa_key: SigningKey
) -> None:
    validator = _validator(
        provider.issuer,
        oidc_user_id_claim="oid",
        oidc_email_claim="preferred_username",
        oidc_name_claim="given_name",
        oidc_roles_claim="realm_access.roles",
        oidc_picture_claim="avatar",
    )
    token = _token(
        rsa_key,
        provider.issuer,
        sub="ignored",
        oid="object-7",
        preferred_username="ada@example.com",
        given_name="Ada",
        realm_access={"roles": ["admin", "admin", "staff", 7]},
        avatar="https://pictures.example/ada.png",
    )

    user = await validator.validate(token)

    assert user == AuthenticatedUser(
        user_id="object-7",
        email="ada@example.com",
        name="Ada",
        roles=("admin", "staff"),
        picture="https://pictures.example/ada.png",
    )


@pytest.mark.parametrize(
    ("roles_claim", "claims", "roles"),
    [
        ("roles", {"roles": "admin staff"}, ("admin", "staff")),
        ("roles", {"roles": "admin, staff,,auditor"}, ("admin", "staff", "auditor")),
        ("roles", {"roles": {"not": "a list"}}, ()),
        ("roles", {}, ()),
        ("https://colloquy.example/roles", {"https://colloquy.example/roles": ["a"]}, ("a",)),
        ("realm_access.roles", {"realm_access": "flat"}, ()),
    ],
)
async def test_roles_are_read_from_lists_strings_and_dotted_names(
    provider: IdentityProvider,
    rsa_key: SigningKey,
    roles_claim: str,
    claims: dict[str, Any],
    roles: tuple[str, ...],
) -> None:
    validator = _validator(provider.issuer, oidc_roles_claim=roles_claim)

    assert (await validator.validate(_token(rsa_key, provider.issuer, **claims))).roles == roles


async def test_an_unreachable_jwks_endpoint_is_a_503_not_the_callers_fault(rsa_key: SigningKey) -> None:
    issuer = "https://issuer.example"
    validator = _validator(issuer, oidc_jwks_url=_closed_port_url() + JWKS)

    with pytest.raises(IdentityProviderUnavailable) as caught:
        await validator.validate(_token(rsa_key, issuer))

    assert caught.value.status_code == 503
    assert caught.value.code == "identity_provider_unavailable"
    assert "Errno" not in caught.value.detail


async def test_an_unreachable_discovery_document_is_a_503(rsa_key: SigningKey) -> None:
    issuer = _closed_port_url() + "/realms/colloquy"

    with pytest.raises(IdentityProviderUnavailable):
        await _validator(issuer).validate(_token(rsa_key, issuer))


@pytest.mark.parametrize("path", [DISCOVERY, JWKS])
async def test_an_issuer_answering_junk_is_a_503(provider: IdentityProvider, rsa_key: SigningKey, path: str) -> None:
    provider.broken.add(path)

    with pytest.raises(IdentityProviderUnavailable):
        await _validator(provider.issuer).validate(_token(rsa_key, provider.issuer))


@pytest.mark.parametrize("path", [DISCOVERY, JWKS])
async def test_a_failed_fetch_is_tried_again_on_the_next_token(
    provider: IdentityProvider, rsa_key: SigningKey, path: str
) -> None:
    provider.broken.add(path)
    validator = _validator(provider.issuer)
    with pytest.raises(IdentityProviderUnavailable):
        await validator.validate(_token(rsa_key, provider.issuer))

    provider.broken.clear()

    assert (await validator.validate(_token(rsa_key, provider.issuer))).user_id == "user-1"
    assert provider.hits[path] == 2


@pytest.mark.parametrize("algorithms", ["RS256,HS256", "none", "RS265"])
def test_symmetric_unknown_or_no_algorithms_stop_the_service(algorithms: str) -> None:
    with pytest.raises(ConfigurationError, match="OIDC_ALGORITHMS"):
        _validator("https://issuer.example", oidc_algorithms=algorithms)


def test_oidc_mode_without_issuer_or_audience_stops_the_service() -> None:
    with pytest.raises(ConfigurationError, match="OIDC_ISSUER"):
        OidcTokenValidator(AuthSettings(auth_mode=AuthMode.OIDC, oidc_issuer=None, oidc_audience=AUDIENCE))
    with pytest.raises(ConfigurationError, match="OIDC_ISSUER"):
        _validator("not a url")
