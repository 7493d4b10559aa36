"""Signing in with the configured OIDC provider: authorization code with PKCE (S256), state and nonce.

The tokens handed to the web client are checked here first, with the service's own validator: the ID token
(signature, issuer, the client id as audience, expiry, this sign-in's nonce), and the token the client will
send as its bearer token (OIDC_BEARER_TOKEN), exactly as every later request will check it. A provider or a
configuration whose tokens this service would refuse fails the sign-in with a 502 that says so, instead of
a signed-in client whose every request is a 401.
"""

from __future__ import annotations

import hmac
from typing import Any

from apis.shared.auth.exceptions import IdentityProviderError, InvalidGrant
from apis.shared.auth.models import ClaimNames, user_from_claims
from apis.shared.auth.oidc_client import OidcClient, ProviderTokens
from apis.shared.auth.sign_in import SignInStart, SignInTokens, WebClient
from apis.shared.auth.sign_in_state import SignInStates, pkce_challenge
from apis.shared.auth.validators import OidcTokenValidator
from apis.shared.clock import utc_now
from apis.shared.config import AuthSettings, BearerToken
from apis.shared.errors import AuthenticationError


class OidcSignIn:
    """The SignInFlow of OIDC mode."""

    def __init__(
        self,
        *,
        settings: AuthSettings,
        client: OidcClient,
        states: SignInStates,
        validator: OidcTokenValidator,
        web_client: WebClient,
    ) -> None:
        if not settings.oidc_client_id:
            raise ValueError("OidcSignIn needs OIDC_CLIENT_ID")
        self._client_id = settings.oidc_client_id
        self._bearer = settings.oidc_bearer_token
        self._scopes = settings.oidc_scope
        self._claim_names = ClaimNames.from_settings(settings)
        self._client = client
        self._states = states
        self._validator = validator
        self._web_client = web_client

    async def begin(self, *, redirect_uri: str | None, prompt: str | None) -> SignInStart:
        callback = self._web_client.callback(redirect_uri)
        state, handle = self._states.issue()
        url = await self._client.authorization_url(
            redirect_uri=callback,
            state=state,
            nonce=self._states.nonce(handle),
            code_challenge=pkce_challenge(self._states.pkce_verifier(handle)),
            prompt=prompt,
        )
        return SignInStart(authorization_url=url, state=state)

    async def finish(self, *, code: str, state: str, redirect_uri: str | None) -> SignInTokens:
        handle = self._states.verify(state)
        callback = self._web_client.callback(redirect_uri)
        tokens = await self._client.exchange_code(
            code=code, code_verifier=self._states.pkce_verifier(handle), redirect_uri=callback
        )
        if tokens.id_token is None:
            raise IdentityProviderError("the identity provider sent no ID token: OIDC_SCOPES must include openid")
        id_claims = await self._checked(tokens.id_token, "ID token", audience=self._client_id)
        nonce = id_claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(nonce, self._states.nonce(handle)):
            raise InvalidGrant("the ID token was not issued for this sign-in (nonce mismatch)", code="nonce_mismatch")
        return await self._answer(tokens, refresh_token=tokens.refresh_token or "")

    async def refresh(self, refresh_token: str) -> SignInTokens:
        tokens = await self._client.refresh(refresh_token)
        if tokens.id_token is not None:
            # OIDC Core 12.2: no nonce is promised here, the rest of the ID token must hold.
            await self._checked(tokens.id_token, "ID token", audience=self._client_id)
        # Providers that do not rotate refresh tokens answer without one: the one sent stays valid.
        return await self._answer(tokens, refresh_token=tokens.refresh_token or refresh_token)

    async def logout_url(self, *, post_logout_redirect_uri: str | None) -> str:
        after = self._web_client.after_logout(post_logout_redirect_uri)
        url = await self._client.end_session_url(post_logout_redirect_uri=after)
        # No end-session endpoint: forgetting the tokens is all a sign-out can do; back to the client.
        return url or after or self._web_client.origin + "/"

    async def _answer(self, tokens: ProviderTokens, *, refresh_token: str) -> SignInTokens:
        bearer = tokens.access_token if self._bearer is BearerToken.ACCESS_TOKEN else tokens.id_token
        if bearer is None:
            raise IdentityProviderError("the identity provider's refresh answer has no ID token to use as bearer")
        claims = await self._checked(bearer, f"{self._bearer.value} (OIDC_BEARER_TOKEN)", audience=None)
        try:
            user_from_claims(claims, self._claim_names)
        except AuthenticationError as exc:
            raise IdentityProviderError(f"the identity provider's {self._bearer.value} names no user") from exc
        return SignInTokens(
            access_token=bearer,
            refresh_token=refresh_token,
            id_token=tokens.id_token,
            expires_in=max(0, int(claims["exp"]) - int(utc_now().timestamp())),
            scope=tokens.scope or self._scopes,
        )

    async def _checked(self, token: str, what: str, *, audience: str | None) -> dict[str, Any]:
        """The token's claims; one this service would refuse makes the provider's answer unusable (502)."""
        try:
            return await self._validator.verified_claims(token, audience=audience)
        except AuthenticationError as exc:
            raise IdentityProviderError(
                f"the identity provider's {what} is not accepted by this service: {exc.detail}"
            ) from exc
