"""The app API as an OIDC client of the configured provider: authorization URL, code exchange, refresh, and
the end-session URL, each from the provider's discovery document.

Calls to the provider use the standard library's HTTP client in a worker thread, as the token validator's
key fetching does: no HTTP library of its own in the services' dependencies for four calls a sign-in.
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import anyio.to_thread

from apis.shared.auth.exceptions import IdentityProviderError, InvalidGrant, InvalidRefreshToken
from apis.shared.auth.oidc_discovery import IdentityProviderUnavailable, ProviderMetadata, ProviderMetadataCache
from apis.shared.auth.sign_in import with_query
from apis.shared.errors import AppError

MAX_TOKEN_RESPONSE_BYTES = 1_000_000
METADATA_CACHE_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class ProviderTokens:
    """A successful answer of the token endpoint (RFC 6749 5.1; `id_token` from OIDC Core 3.1.3.3)."""

    access_token: str
    id_token: str | None
    refresh_token: str | None
    scope: str | None


class OidcClient:
    """Talks to one provider as one client (`client_id`, and `client_secret` unless it is a public client)."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        scopes: str,
        timeout: float = 10.0,
        metadata_cache_seconds: float = METADATA_CACHE_SECONDS,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._scopes = scopes
        self._timeout = timeout
        self._metadata = ProviderMetadataCache(issuer, timeout=timeout, cache_seconds=metadata_cache_seconds)

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_challenge: str, prompt: str | None
    ) -> str:
        """The provider's authorization endpoint with the request (PKCE S256, state, nonce) in its query."""
        metadata = await self._metadata.get()
        params = {
            "client_id": self._client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": self._scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        if prompt := _supported_prompt(prompt, metadata):
            params["prompt"] = prompt
        return with_query(metadata.authorization_endpoint, params)

    async def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> ProviderTokens:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        refused = InvalidGrant("the authorization code was refused (unknown, used, expired or not this sign-in's)")
        return await self._token_request(form, refused=refused)

    async def refresh(self, refresh_token: str) -> ProviderTokens:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        refused = InvalidRefreshToken("the refresh token was refused (unknown, revoked or expired): sign in again")
        return await self._token_request(form, refused=refused)

    async def end_session_url(self, *, post_logout_redirect_uri: str | None) -> str | None:
        """RP-initiated logout (OIDC RP-Initiated Logout 1.0), or None when the provider offers none."""
        metadata = await self._metadata.get()
        if metadata.end_session_endpoint is None:
            return None
        params = {"client_id": self._client_id}
        if post_logout_redirect_uri is not None:
            params["post_logout_redirect_uri"] = post_logout_redirect_uri
        return with_query(metadata.end_session_endpoint, params)

    async def _token_request(self, form: dict[str, str], *, refused: AppError) -> ProviderTokens:
        """POST to the token endpoint; `refused` is raised for `invalid_grant` (RFC 6749 5.2)."""
        metadata = await self._metadata.get()
        headers, body = self._authenticated(metadata, {**form, "client_id": self._client_id})
        status, answer = await anyio.to_thread.run_sync(
            _post_form, metadata.token_endpoint, body, headers, self._timeout
        )
        if status == 200:
            return _provider_tokens(answer)
        error = answer.get("error") if isinstance(answer, dict) else None
        if status in (400, 401) and error == "invalid_grant":
            raise refused
        if 400 <= status < 500:
            # invalid_client, unauthorized_client, invalid_scope...: this service's configuration, not the user.
            raise IdentityProviderError(f"the identity provider refused the token request ({error or status})")
        raise IdentityProviderUnavailable(f"the identity provider's token endpoint answered {status}")

    def _authenticated(self, metadata: ProviderMetadata, form: dict[str, str]) -> tuple[dict[str, str], str]:
        """Headers and body with the client's credentials, by a method the provider supports (basic first)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self._client_secret is None:
            return headers, urlencode(form)
        methods = metadata.token_endpoint_auth_methods or ("client_secret_basic",)  # the default of the spec
        if "client_secret_basic" in methods:
            # RFC 6749 2.3.1: each part form-encoded, then joined and base64-encoded.
            pair = f"{quote_plus(self._client_id)}:{quote_plus(self._client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
            return headers, urlencode(form)
        if "client_secret_post" in methods:
            return headers, urlencode({**form, "client_secret": self._client_secret})
        raise IdentityProviderError("the identity provider accepts neither client_secret_basic nor client_secret_post")


class _AnswerEveryStatus(urllib.request.HTTPErrorProcessor):
    """Hands 4xx and 5xx answers back as responses: the token endpoint's error body says what went wrong."""

    def http_response(self, request: urllib.request.Request, response: Any) -> Any:
        return response

    https_response = http_response


def _post_form(url: str, body: str, headers: dict[str, str], timeout: float) -> tuple[int, Any]:
    """(status, JSON answer or None); blocks on the network, so it runs in a worker thread."""
    request = urllib.request.Request(url, data=body.encode("ascii"), headers=headers, method="POST")
    opener = urllib.request.build_opener(_AnswerEveryStatus)
    try:
        with opener.open(request, timeout=timeout) as response:
            status: int = response.status
            raw: bytes = response.read(MAX_TOKEN_RESPONSE_BYTES)
    except (OSError, http.client.HTTPException) as exc:
        raise IdentityProviderUnavailable("the identity provider's token endpoint cannot be reached") from exc
    return status, _json_or_none(raw)


def _json_or_none(raw: bytes) -> Any:
    if not raw.strip().startswith(b"{"):
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise IdentityProviderError("the identity provider's token endpoint answered malformed JSON") from exc


def _provider_tokens(answer: Any) -> ProviderTokens:
    if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
        raise IdentityProviderError("the identity provider's token answer has no access_token")
    token_type = answer.get("token_type", "Bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise IdentityProviderError("the identity provider issued tokens of a type other than Bearer")
    return ProviderTokens(
        access_token=answer["access_token"],
        id_token=_text(answer.get("id_token")),
        refresh_token=_text(answer.get("refresh_token")),
        scope=_text(answer.get("scope")),
    )


def _supported_prompt(prompt: str | None, metadata: ProviderMetadata) -> str | None:
    """The prompt values the provider says it supports (all of them when it does not say)."""
    if not prompt:
        return None
    values = prompt.split()
    if metadata.prompt_values:
        values = [value for value in values if value in metadata.prompt_values]
    return " ".join(values) or None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
