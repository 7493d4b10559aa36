"""Minting local-mode tokens: what the `colloquy` command hands to a user in a self-hosted install."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt

from apis.shared.auth.local_keys import load_or_create_key_pair
from apis.shared.clock import new_id, utc_now
from apis.shared.config import AuthSettings
from apis.shared.errors import RuleViolation

LOCAL_ALGORITHM = "ES256"
# Claims the minter writes itself from its own arguments: an extra claim may not replace them.
MINTED_CLAIMS = frozenset({"iss", "aud", "sub", "roles", "iat", "nbf", "exp", "jti", "email", "name"})


def mint_local_token(
    *,
    settings: AuthSettings,
    data_dir: Path,
    user_id: str,
    email: str | None = None,
    name: str | None = None,
    roles: Sequence[str] = (),
    ttl_seconds: int | None = None,
    extra_claims: Mapping[str, Any] | None = None,
) -> str:
    """Sign a token for `user_id` with the key in `data_dir`, which both services verify against.

    `extra_claims` are added as they are (a web client may want claims of its own), never over MINTED_CLAIMS.
    """
    if not user_id.strip():
        raise RuleViolation("a token needs a user id")
    if isinstance(roles, str):
        raise TypeError("roles must be a sequence of role names, not one string")
    ttl = settings.local_token_ttl_seconds if ttl_seconds is None else ttl_seconds
    if ttl < 1:
        raise RuleViolation("a token must live at least one second")
    replaced = sorted(MINTED_CLAIMS.intersection(extra_claims or {}))
    if replaced:
        raise RuleViolation(f"extra claims may not replace {', '.join(replaced)}")
    key_pair = load_or_create_key_pair(data_dir)
    issued_at = utc_now().replace(microsecond=0)
    claims: dict[str, Any] = {
        **(extra_claims or {}),
        "iss": settings.local_token_issuer,
        "aud": settings.local_token_audience,
        "sub": user_id,
        "roles": list(roles),
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + timedelta(seconds=ttl),
        "jti": new_id(),
    }
    if email is not None:
        claims["email"] = email
    if name is not None:
        claims["name"] = name
    return jwt.encode(claims, key_pair.private_key, algorithm=LOCAL_ALGORITHM, headers={"kid": key_pair.kid})
