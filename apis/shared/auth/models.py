"""Who is calling: the identity every route works with, and how verified claims become one."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from apis.shared.config import AuthSettings
from apis.shared.errors import AuthenticationError


@dataclass(frozen=True, slots=True)
class AuthenticatedUser:
    """The caller as the token describes them; frozen so no layer can edit an identity once validated."""

    user_id: str
    email: str | None = None
    name: str | None = None
    roles: tuple[str, ...] = ()
    picture: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimNames:
    """Which claims carry the identity; a name with dots is a path into nested objects."""

    user_id: str = "sub"
    email: str = "email"
    name: str = "name"
    roles: str = "roles"
    picture: str = "picture"

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> ClaimNames:
        return cls(
            user_id=settings.oidc_user_id_claim,
            email=settings.oidc_email_claim,
            name=settings.oidc_name_claim,
            roles=settings.oidc_roles_claim,
            picture=settings.oidc_picture_claim,
        )


def user_from_claims(claims: Mapping[str, Any], names: ClaimNames) -> AuthenticatedUser:
    """Map verified claims to a user; a token that names no user cannot be served."""
    user_id = _claim(claims, names.user_id)
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)
    if not isinstance(user_id, str) or not user_id.strip():
        raise AuthenticationError("token has no user id")
    return AuthenticatedUser(
        user_id=user_id,
        email=_text(_claim(claims, names.email)),
        name=_text(_claim(claims, names.name)),
        roles=_roles(_claim(claims, names.roles)),
        picture=_text(_claim(claims, names.picture)),
    )


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by its exact name (URL-style names contain dots), else by a dotted path into nested objects."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _roles(value: Any) -> tuple[str, ...]:
    """Roles arrive as a list, or as one string separated by spaces or commas (like OAuth scopes)."""
    if isinstance(value, str):
        names: list[str] = re.split(r"[\s,]+", value)
    elif isinstance(value, list | tuple):
        names = [item for item in value if isinstance(item, str)]
    else:
        return ()
    return tuple(dict.fromkeys(name.strip() for name in names if name.strip()))
