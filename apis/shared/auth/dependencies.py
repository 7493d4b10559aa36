"""The FastAPI side of authentication: one dependency that every protected route of both services uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from apis.shared.auth.models import AuthenticatedUser
from apis.shared.auth.validators import TokenValidator
from apis.shared.errors import AuthenticationError, ConfigurationError


async def authenticate(request: Request) -> AuthenticatedUser:
    """Validate the bearer token and keep the user on `request.state` for logging and metrics."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("missing bearer token")
    validator: TokenValidator | None = getattr(request.app.state, "token_validator", None)
    if validator is None:
        raise ConfigurationError("no token validator on app.state: the service's startup must build one")
    user = await validator.validate(token)
    request.state.user = user
    return user


TokenUser = Annotated[AuthenticatedUser, Depends(authenticate)]
