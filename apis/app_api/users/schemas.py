"""Bodies of the user routes."""

from __future__ import annotations

from apis.shared.rbac import EffectivePermissions
from apis.shared.schemas import ApiModel
from apis.shared.users import UserProfile


class UserWithPermissions(UserProfile):
    effective_permissions: EffectivePermissions


class UserSummary(ApiModel):
    """What any signed-in user may learn of another: enough to share something with them."""

    user_id: str
    email: str | None
    name: str | None


class UserSearchPage(ApiModel):
    users: list[UserSummary]
    next_token: str | None


class UserPage(ApiModel):
    users: list[UserProfile]
    next_token: str | None
