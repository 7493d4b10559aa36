"""Checking bearer tokens: local mode against the key in `DATA_DIR`, OIDC mode against the issuer's JWKS.

A token the caller could fix is an AuthenticationError (401) whose message names the reason; an identity
provider that cannot be reached is IdentityProviderUnavailable (503). Library exception text never leaks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlparse

import anyio.to_thread
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import get_default_algorithms

from apis.shared.auth.local_keys import LocalKeyPair, load_or_create_key_pair
from apis.shared.auth.models import AuthenticatedUser, ClaimNames, user_from_claims
from apis.shared.auth.oidc_discovery import IdentityProviderUnavailable, fetch_discovery_document
from apis.shared.auth.tokens import LOCAL_ALGORITHM
from apis.shared.auth.verified_tokens import VerifiedTokens
from apis.shared.config import AuthMode, AuthSettings, Settings
from apis.shared.errors import AuthenticationError, ConfigurationError


class TokenValidator(Protocol):
    """Turns a bearer token into the caller's identity; each service builds one at start.

    `validate` raises AuthenticationError for a token that is not acceptable (expired, not yet valid,
    wrong issuer or audience, bad signature, unknown key, malformed, no user id) and
    IdentityProviderUnavailable when the keys to check it cannot be obtained.
    """

    async def validate(self, token: str) -> AuthenticatedUser: ...


class LocalTokenValidator:
    """Verifies tokens minted by `mint_local_token` with the public half of the key in `DATA_DIR`."""

    def __init__(self, settings: AuthSettings, key_pair: LocalKeyPair) -> None:
        self._settings = settings
        self._key_pair = key_pair
        self._verified = VerifiedTokens(leeway_seconds=settings.oidc_leeway_seconds)

    async def validate(self, token: str) -> AuthenticatedUser:
        """Check the token (or find it checked already); ECDSA verification is CPU work of a fraction of a
        millisecond, so no worker thread."""
        if (known := self._verified.get(token)) is not None:
            return known
        header = _checked_header(token, [LOCAL_ALGORITHM])
        kid = header.get("kid")
        if kid is not None and kid != self._key_pair.kid:
            raise AuthenticationError("token signed by an unknown key")
        claims = _decode(
            token,
            self._key_pair.public_key,
            algorithms=[LOCAL_ALGORITHM],
            issuer=self._settings.local_token_issuer,
            audience=self._settings.local_token_audience,
            # The only leeway setting: clock skew is the same concern whichever mode signed the token.
            leeway=self._settings.oidc_leeway_seconds,
        )
        user = user_from_claims(claims, ClaimNames())
        self._verified.remember(token, user, claims)
        return user


class OidcTokenValidator:
    """Verifies tokens of an external issuer against its published signing keys."""

    def __init__(
        self,
        settings: AuthSettings,
        *,
        http_timeout_seconds: float = 10.0,
        jwks_cache_seconds: float = 300.0,
        refresh_cooldown_seconds: float = 30.0,
    ) -> None:
        if not settings.oidc_issuer or not settings.oidc_audience:
            raise ConfigurationError("AUTH_MODE=oidc needs OIDC_ISSUER and OIDC_AUDIENCE")
        if settings.oidc_jwks_url is not None:
            _require_http_url(settings.oidc_jwks_url, "OIDC_JWKS_URL")
        else:
            _require_http_url(settings.oidc_issuer, "OIDC_ISSUER (discovery needs a URL)")
        self._settings = settings
        self._issuer = settings.oidc_issuer
        self._audience = settings.oidc_audience
        self._algorithms = _asymmetric_algorithms(settings.algorithms)
        self._claims = ClaimNames.from_settings(settings)
        self._verified = VerifiedTokens(leeway_seconds=settings.oidc_leeway_seconds)
        self._keys = _IssuerKeys(
            issuer=settings.oidc_issuer,
            jwks_url=settings.oidc_jwks_url,
            timeout=http_timeout_seconds,
            cache_seconds=jwks_cache_seconds,
            refresh_cooldown_seconds=refresh_cooldown_seconds,
        )

    async def validate(self, token: str) -> AuthenticatedUser:
        """Check the token (or find it checked already); fetching keys blocks on the network, so it runs in a
        worker thread."""
        if (known := self._verified.get(token)) is not None:
            return known
        claims = await self.verified_claims(token)
        user = user_from_claims(claims, self._claims)
        self._verified.remember(token, user, claims)
        return user

    async def verified_claims(self, token: str, *, audience: str | None = None) -> dict[str, Any]:
        """The claims of a token whose signature, issuer, audience (OIDC_AUDIENCE unless another is named: the
        sign-in checks ID tokens against its client id) and expiry hold; raises as `validate` does."""
        header = _checked_header(token, self._algorithms)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationError("token names no signing key")
        key = await anyio.to_thread.run_sync(self._keys.find, kid)
        if key is None:
            raise AuthenticationError("token signed by an unknown key")
        return _decode(
            token,
            key,
            algorithms=self._algorithms,
            issuer=self._issuer,
            audience=audience or self._audience,
            leeway=self._settings.oidc_leeway_seconds,
        )


class _IssuerKeys:
    """The issuer's signing keys: JWKS URL discovered once, key set cached by PyJWKClient, fetched again
    when a token names a kid the cached set lacks (at most once per cooldown, so that made-up kids cannot
    hammer the issuer).

    Every method blocks on the network: call it from a worker thread.
    """

    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str | None,
        timeout: float,
        cache_seconds: float,
        refresh_cooldown_seconds: float,
    ) -> None:
        self._issuer = issuer
        self._jwks_url = jwks_url
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._cooldown = refresh_cooldown_seconds
        self._client: jwt.PyJWKClient | None = None
        self._client_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._last_refresh: float | None = None

    def find(self, kid: str) -> jwt.PyJWK | None:
        client = self._jwks_client()
        try:
            key = _match(client.get_signing_keys(), kid)
            if key is None and self._may_refresh():
                key = _match(client.get_signing_keys(refresh=True), kid)
        # PyJWKClient reports unreachable as PyJWKClientError, an empty set as PyJWKSetError, a body that is
        # not JSON as ValueError, and a connection dropped mid-body as OSError: all the issuer's side.
        except (jwt.PyJWKClientError, jwt.PyJWKSetError, ValueError, OSError) as exc:
            raise IdentityProviderUnavailable("the identity provider's signing keys cannot be fetched") from exc
        return key

    def _jwks_client(self) -> jwt.PyJWKClient:
        with self._client_lock:
            if self._client is None:
                url = self._jwks_url or _discover_jwks_url(self._issuer, self._timeout)
                self._client = jwt.PyJWKClient(url, lifespan=self._cache_seconds, timeout=self._timeout)
            return self._client

    def _may_refresh(self) -> bool:
        with self._refresh_lock:
            now = time.monotonic()
            if self._last_refresh is not None and now - self._last_refresh < self._cooldown:
                return False
            self._last_refresh = now
            return True


def build_token_validator(settings: Settings) -> TokenValidator:
    """Pick the validator for the configured mode; local mode loads (or first creates) its key now."""
    match settings.auth.mode_for(settings.storage.storage_backend):
        case AuthMode.LOCAL:
            return LocalTokenValidator(settings.auth, load_or_create_key_pair(settings.storage.data_dir))
        case AuthMode.OIDC:
            return OidcTokenValidator(settings.auth)


def _checked_header(token: str, algorithms: Sequence[str]) -> dict[str, Any]:
    """Refuse junk and foreign algorithms (`none`, HS256 keyed with our public key) before any key lookup."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthenticationError("token malformed") from exc
    if header.get("alg") not in algorithms:
        raise AuthenticationError("token algorithm not accepted")
    return header


_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidIssuerError, "token issuer not accepted"),
    (jwt.InvalidAudienceError, "token audience not accepted"),
    (jwt.InvalidSignatureError, "token signature invalid"),  # before DecodeError, its base class
    (jwt.InvalidAlgorithmError, "token algorithm not accepted"),
    (jwt.DecodeError, "token malformed"),
)


def _decode(
    token: str,
    key: ec.EllipticCurvePublicKey | jwt.PyJWK,
    *,
    algorithms: Sequence[str],
    issuer: str,
    audience: str,
    leeway: int,
) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=list(algorithms),
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            options={"require": ["exp"]},
        )
    except jwt.MissingRequiredClaimError as exc:
        raise AuthenticationError(f"token lacks the {exc.claim} claim") from exc
    except jwt.PyJWTError as exc:
        reason = next((text for kind, text in _REASONS if isinstance(exc, kind)), "token invalid")
        raise AuthenticationError(reason) from exc


def _match(keys: Sequence[jwt.PyJWK], kid: str) -> jwt.PyJWK | None:
    return next((key for key in keys if key.key_id == kid), None)


def _discover_jwks_url(issuer: str, timeout: float) -> str:
    jwks_uri = fetch_discovery_document(issuer, timeout).get("jwks_uri")
    if not isinstance(jwks_uri, str) or urlparse(jwks_uri).scheme not in ("http", "https"):
        raise IdentityProviderUnavailable("the identity provider's discovery document names no usable jwks_uri")
    return jwks_uri


def _asymmetric_algorithms(names: Sequence[str]) -> list[str]:
    """Only public-key algorithms: a JWKS holds public keys, and HS* or `none` would let anyone sign."""
    known = get_default_algorithms()
    refused = [name for name in names if name not in known or name == "none" or name.startswith("HS")]
    if refused:
        raise ConfigurationError(
            f"OIDC_ALGORITHMS may name only public-key algorithms (RS*, PS*, ES*, EdDSA), not {', '.join(refused)}"
        )
    return list(names)


def _require_http_url(value: str, variable: str) -> None:
    if urlparse(value).scheme not in ("http", "https"):
        raise ConfigurationError(f"{variable} must be an http(s) URL")
