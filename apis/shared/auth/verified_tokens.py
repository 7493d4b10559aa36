"""Bearer tokens already verified, kept until they expire, so that a client's next request skips the check.

Verifying an ES256 or RS256 signature is the costliest part of authenticating a request (about 0.4 ms of a chat
turn's CPU, docs/decisions.md), and a client sends the same token on every request until it refreshes it. A
token is cached only after it passed every check, and only until the earliest of its own `exp` (plus the
leeway the check allows) and VERIFIED_TOKEN_SECONDS from now: an expired token is checked again, and fails, as
before. The bound also caps how long a token signed by a key the issuer has since withdrawn keeps working
(the key set itself is cached for five minutes). Keys are a digest of the token, not the token itself.
Used from the event loop only, like the validators that own it.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from cachetools import TLRUCache

from apis.shared.auth.models import AuthenticatedUser

VERIFIED_TOKEN_SECONDS = 60.0
VERIFIED_TOKENS_KEPT = 4096

_Entry = tuple[AuthenticatedUser, float]


def _until(_key: bytes, entry: _Entry, _now: float) -> float:
    return entry[1]


class VerifiedTokens:
    """The identities of recently verified tokens, each until its expiry (monotonic clock)."""

    def __init__(self, *, leeway_seconds: float, kept: int = VERIFIED_TOKENS_KEPT) -> None:
        self._leeway = leeway_seconds
        self._cache: TLRUCache[bytes, _Entry] = TLRUCache(maxsize=kept, ttu=_until)

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.blake2b(token.encode(), digest_size=20).digest()

    def get(self, token: str) -> AuthenticatedUser | None:
        entry = self._cache.get(self._key(token))
        return entry[0] if entry is not None else None

    def remember(self, token: str, user: AuthenticatedUser, claims: dict[str, Any]) -> None:
        """Keep `user` for `token`, whose `claims` passed every check (so `exp` is there and a number)."""
        lifetime = float(claims["exp"]) + self._leeway - time.time()
        if lifetime > 0:
            self._cache[self._key(token)] = (user, time.monotonic() + min(lifetime, VERIFIED_TOKEN_SECONDS))
