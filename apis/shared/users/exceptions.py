"""What can go wrong with users."""

from __future__ import annotations

from apis.shared.errors import ForbiddenError, NotFoundError


class UserNotFound(NotFoundError):
    """No user with this id has ever signed in."""

    code = "user_not_found"


class UserSuspended(ForbiddenError):
    """An admin suspended this account: every request of it is refused until an admin reactivates it."""

    code = "user_suspended"

    def __init__(self, detail: str = "this account is suspended", *, code: str | None = None) -> None:
        super().__init__(detail, code=code)
