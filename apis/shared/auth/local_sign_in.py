"""A sign-in for trials in local mode: a user name typed on a small page of the app API becomes a local token.

It is off unless LOCAL_SIGNIN_ENABLED is set, and offered in local mode only. Anyone who can reach the page
signs in as any name, with LOCAL_SIGNIN_ROLES: it is for trying the web client, never for a deployment.

It speaks the reference client's OIDC-shaped protocol, so that client needs no change. Every value that
travels through the browser is a token signed with the local key in DATA_DIR under an audience of its own
(never accepted as a bearer token, nor a bearer token as one of these): the state (ten minutes), the code
the page hands to the client's callback (one minute, bound to the state) and the refresh token. Nothing is
kept on the server, so any number of app API processes on the same DATA_DIR can serve one sign-in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from functools import partial
from typing import Any

import anyio.to_thread
import jwt

from apis.shared.auth.exceptions import InvalidGrant, InvalidRefreshToken, InvalidSignInState
from apis.shared.auth.local_keys import LocalKeyPair
from apis.shared.auth.sign_in import SignInStart, SignInTokens, WebClient, with_query
from apis.shared.auth.tokens import LOCAL_ALGORITHM, mint_local_token
from apis.shared.clock import utc_now
from apis.shared.config import AuthSettings, StorageSettings
from apis.shared.errors import AppError, RuleViolation

STATE_AUDIENCE = "colloquy-local-sign-in-state"
CODE_AUDIENCE = "colloquy-local-sign-in-code"
REFRESH_AUDIENCE = "colloquy-local-refresh"
STATE_TTL_SECONDS = 600
CODE_TTL_SECONDS = 60
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
USER_NAME_RULE = "1 to 64 letters, digits and . _ @ + -, starting with a letter or digit"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class LocalSignIn:
    """The SignInFlow of local mode when LOCAL_SIGNIN_ENABLED is set."""

    def __init__(
        self,
        *,
        settings: AuthSettings,
        storage: StorageSettings,
        key_pair: LocalKeyPair,
        web_client: WebClient,
        page_path: str,
    ) -> None:
        self._settings = settings
        self._data_dir = storage.data_dir
        self._key_pair = key_pair
        self.web_client = web_client
        self._page_path = page_path

    async def begin(self, *, redirect_uri: str | None, prompt: str | None) -> SignInStart:
        """The page of this service where a name is typed; `prompt` means nothing here."""
        self.web_client.callback(redirect_uri)
        state = self._sign({"jti": secrets.token_urlsafe(24)}, STATE_AUDIENCE, STATE_TTL_SECONDS)
        return SignInStart(authorization_url=with_query(self._page_path, {"state": state}), state=state)

    def check_state(self, state: str) -> None:
        """InvalidSignInState unless `state` is a live state of this service."""
        self._verify(state, STATE_AUDIENCE, InvalidSignInState("the sign-in state is invalid or has expired"))

    def grant(self, *, state: str, user_name: str) -> str:
        """The client's callback URL with a code for `user_name`, bound to `state` (the page's form answer)."""
        self.check_state(state)
        if user_name_problem(user_name):
            raise RuleViolation(f"a user name is {USER_NAME_RULE}", code="invalid_user_name")
        code = self._sign({"sub": user_name, "sth": _digest(state)}, CODE_AUDIENCE, CODE_TTL_SECONDS)
        return with_query(self.web_client.redirect_uri, {"code": code, "state": state})

    async def finish(self, *, code: str, state: str, redirect_uri: str | None) -> SignInTokens:
        self.check_state(state)
        self.web_client.callback(redirect_uri)
        claims = self._verify(code, CODE_AUDIENCE, InvalidGrant("the sign-in code is invalid or has expired"))
        if claims.get("sth") != _digest(state):
            raise InvalidGrant("the sign-in code was not issued for this state")
        user_name = claims["sub"]
        refresh_ttl = self._settings.local_signin_refresh_ttl_seconds
        refresh_token = self._sign({"sub": user_name}, REFRESH_AUDIENCE, refresh_ttl)
        return await self._tokens(user_name, refresh_token)

    async def refresh(self, refresh_token: str) -> SignInTokens:
        """A new access token with today's LOCAL_SIGNIN_ROLES and claims; the refresh token itself is kept
        until it expires (LOCAL_SIGNIN_REFRESH_TTL_SECONDS after the sign-in), like a provider's that does not
        rotate them."""
        refused = InvalidRefreshToken("the refresh token is invalid or has expired: sign in again")
        claims = self._verify(refresh_token, REFRESH_AUDIENCE, refused)
        return await self._tokens(claims["sub"], refresh_token)

    async def logout_url(self, *, post_logout_redirect_uri: str | None) -> str:
        """Nothing to end on a server that keeps no session: back to the client, which forgets its tokens."""
        return self.web_client.after_logout(post_logout_redirect_uri) or self.web_client.origin + "/"

    async def _tokens(self, user_name: str, refresh_token: str) -> SignInTokens:
        mint = partial(
            mint_local_token,
            settings=self._settings,
            data_dir=self._data_dir,
            user_id=user_name,
            email=user_name if _EMAIL.fullmatch(user_name) else None,
            name=user_name,
            roles=self._settings.signin_roles,
            # The reference client wants `email` or `preferred_username` in the token it decodes.
            extra_claims={**self._settings.signin_claims, "preferred_username": user_name},
        )
        access_token = await anyio.to_thread.run_sync(mint)  # reads the key file, as `colloquy token` does
        return SignInTokens(
            access_token=access_token,
            refresh_token=refresh_token,
            id_token=None,
            expires_in=self._settings.local_token_ttl_seconds,
            scope="",
        )

    def _sign(self, claims: dict[str, Any], audience: str, ttl_seconds: int) -> str:
        now = utc_now().replace(microsecond=0)
        body = {
            **claims,
            "iss": self._settings.local_token_issuer,
            "aud": audience,
            "iat": now,
            "exp": now + timedelta(seconds=ttl_seconds),
        }
        key = self._key_pair
        return jwt.encode(body, key.private_key, algorithm=LOCAL_ALGORITHM, headers={"kid": key.kid})

    def _verify(self, token: str, audience: str, refused: AppError) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key_pair.public_key,
                algorithms=[LOCAL_ALGORITHM],
                audience=audience,
                issuer=self._settings.local_token_issuer,
                options={"require": ["exp"]},
            )
        except jwt.PyJWTError as exc:
            raise refused from exc
        subject = claims.get("sub")  # a code and a refresh token name the user; a state names nobody
        if audience != STATE_AUDIENCE and not (isinstance(subject, str) and USER_NAME.fullmatch(subject)):
            raise refused
        return claims


def user_name_problem(user_name: str) -> str | None:
    """Why `user_name` cannot sign in, or None."""
    return None if USER_NAME.fullmatch(user_name) else f"A user name is {USER_NAME_RULE}."


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()
