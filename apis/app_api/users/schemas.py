"""Bodies of the user routes."""

from __future__ import annotations

from apis.shared.rbac import EffectivePermissions
from apis.shared.schemas import ApiModel
from apis.shared.users import UserDetail, UserProfile


class UserWithPermissions(UserProfile):
    effective_permissions: EffectivePermissions


class AdminUserDetail(UserDetail):
    """The reference's user detail, plus what the roles of the user's last token grant now."""

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
    """A page of profiles. The reference client pages with `nextCursor`; `nextToken` is API.md's name for the
    same token, and either may be sent back as `cursor` or `next_token`."""

    users: list[UserProfile]
    next_token: str | None
    next_cursor: str | None

    @classmethod
    def of(cls, users: list[UserProfile], token: str | None) -> UserPage:
        return cls(users=users, next_token=token, next_cursor=token)
