"""The OIDC sign-in's state: what the app API must remember between `/auth/login` and `/auth/token`.

The reference keeps the state, PKCE verifier and nonce in a table (DynamoDB, or a process's memory). Here
nothing is stored: the state is a short-lived token signed with a key every replica shares, and the PKCE
verifier and the nonce are derived from it with that key (HMAC). So any replica can finish a sign-in that
another began, and the verifier never leaves the server: the state travels through the browser and the
provider, the verifier only to the provider's token endpoint. See docs/decisions.md.

A state is not single-use: the authorization code is (the provider refuses it twice), and a state replayed
with a code of another sign-in fails PKCE at the provider and the nonce check here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

import jwt

from apis.shared.auth.exceptions import InvalidSignInState
from apis.shared.clock import utc_now

STATE_AUDIENCE = "colloquy-sign-in-state"
STATE_TTL_SECONDS = 600  # as the reference: ten minutes to sign in at the provider
_ALGORITHM = "HS256"
_KEY_LABEL = b"colloquy oidc sign-in state v1"


class SignInStates:
    """Issues and checks sign-in states, and derives each one's PKCE verifier and nonce."""

    def __init__(self, secret: str, *, issuer: str, ttl_seconds: int = STATE_TTL_SECONDS) -> None:
        # A key of its own, so a client secret that doubles as the source never signs anything else as is.
        self._key = hmac.new(secret.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()
        self._issuer = issuer
        self._ttl = ttl_seconds

    def issue(self) -> tuple[str, str]:
        """A new state and its handle (what `verify` gives back for it)."""
        now = utc_now().replace(microsecond=0)
        handle = secrets.token_urlsafe(24)
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": STATE_AUDIENCE,
            "iat": now,
            "exp": now + timedelta(seconds=self._ttl),
            "jti": handle,
        }
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM), handle

    def verify(self, state: str) -> str:
        """The state's handle (its `jti`), which its verifier and nonce derive from; InvalidSignInState if not ours."""
        try:
            claims = jwt.decode(
                state,
                self._key,
                algorithms=[_ALGORITHM],
                audience=STATE_AUDIENCE,
                issuer=self._issuer,
                options={"require": ["exp", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidSignInState("the sign-in state is invalid or has expired: sign in again") from exc
        handle = claims["jti"]
        if not isinstance(handle, str) or not handle:
            raise InvalidSignInState("the sign-in state is invalid or has expired: sign in again")
        return handle

    def pkce_verifier(self, handle: str) -> str:
        """RFC 7636's code verifier: 43 characters of base64url, as random as the key."""
        return _b64url(self._derive(b"pkce-verifier", handle))

    def nonce(self, handle: str) -> str:
        return _b64url(self._derive(b"nonce", handle))

    def _derive(self, purpose: bytes, handle: str) -> bytes:
        return hmac.new(self._key, purpose + b"\0" + handle.encode("utf-8"), hashlib.sha256).digest()


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of `verifier`: BASE64URL(SHA256(verifier))."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
