"""An OIDC provider described by its discovery document (`{issuer}/.well-known/openid-configuration`).

Everything the sign-in needs comes from there, so any standard provider works without code of its own:
Keycloak, Entra ID, Okta, Auth0, Cognito, Google, Dex, Authentik.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import anyio.to_thread

from apis.shared.auth.exceptions import IdentityProviderError
from apis.shared.errors import AppError

MAX_DOCUMENT_BYTES = 1_000_000


class IdentityProviderUnavailable(AppError):
    """The issuer's discovery document or signing keys cannot be fetched; the caller is not at fault."""

    status_code = 503
    code = "identity_provider_unavailable"


def fetch_discovery_document(issuer: str, timeout: float) -> dict[str, Any]:
    """The issuer's discovery document as JSON; blocks on the network, so call it from a worker thread."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            document = json.loads(response.read(MAX_DOCUMENT_BYTES))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise IdentityProviderUnavailable("the identity provider's discovery document cannot be fetched") from exc
    if not isinstance(document, dict):
        raise IdentityProviderUnavailable("the identity provider's discovery document is not a JSON object")
    return document


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """The endpoints and capabilities of the provider that sign-in uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    # Absent when the provider offers no RP-initiated logout: signing out then only forgets the tokens.
    end_session_endpoint: str | None
    token_endpoint_auth_methods: tuple[str, ...]
    # Empty when the document does not say: every value is passed on.
    prompt_values: tuple[str, ...]

    @classmethod
    def from_document(cls, document: dict[str, Any], *, expected_issuer: str) -> ProviderMetadata:
        """Read the fields sign-in needs; the issuer must be the configured one exactly (OIDC Discovery 4.3)."""
        if document.get("issuer") != expected_issuer:
            raise IdentityProviderError(
                "the identity provider's discovery document names another issuer than OIDC_ISSUER"
            )
        end_session = document.get("end_session_endpoint")
        return cls(
            issuer=expected_issuer,
            authorization_endpoint=_endpoint(document, "authorization_endpoint"),
            token_endpoint=_endpoint(document, "token_endpoint"),
            end_session_endpoint=_endpoint(document, "end_session_endpoint") if end_session is not None else None,
            token_endpoint_auth_methods=_names(document.get("token_endpoint_auth_methods_supported")),
            prompt_values=_names(document.get("prompt_values_supported")),
        )


class ProviderMetadataCache:
    """The provider's metadata, fetched on first use and again once `cache_seconds` have passed.

    A failed fetch is not cached: the next sign-in tries again.
    """

    def __init__(self, issuer: str, *, timeout: float, cache_seconds: float) -> None:
        self._issuer = issuer
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._metadata: ProviderMetadata | None = None
        self._fetched_at = 0.0

    async def get(self) -> ProviderMetadata:
        return await anyio.to_thread.run_sync(self._get)

    def _get(self) -> ProviderMetadata:
        with self._lock:
            now = time.monotonic()
            if self._metadata is None or now - self._fetched_at >= self._cache_seconds:
                document = fetch_discovery_document(self._issuer, self._timeout)
                self._metadata = ProviderMetadata.from_document(document, expected_issuer=self._issuer)
                self._fetched_at = now
            return self._metadata


def _endpoint(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or urlparse(value).scheme not in ("http", "https"):
        raise IdentityProviderError(f"the identity provider's discovery document names no usable {name}")
    return value


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    return tuple(item for item in value if isinstance(item, str))
