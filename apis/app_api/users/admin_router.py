"""Admin view of users: list and filter, read one with what their roles grant, suspend and reinstate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from apis.app_api.deps import AdminPermissions, CurrentUser, PermissionCacheDep, UsersRepo
from apis.app_api.updates import merged_record_validated
from apis.app_api.users.schemas import UserPage, UserWithPermissions
from apis.shared.errors import RuleViolation
from apis.shared.users import UserProfile, UserStatus, UserUpdate
from apis.shared.users import service as users_service

router = APIRouter(prefix="/admin/users", tags=["admin: users"])
UserIdPath = Annotated[str, Path(min_length=1, max_length=256)]


@router.get("", response_model=UserPage)
async def list_users(
    admin: AdminPermissions,
    users: UsersRepo,
    status: UserStatus | None = None,
    domain: Annotated[str | None, Query(max_length=253, description="email domain, e.g. example.com")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> UserPage:
    page = await users_service.list_users(
        users=users, limit=limit, page_token=next_token, status=status, email_domain=domain
    )
    return UserPage(users=page.items, next_token=page.next_token)


@router.get("/{user_id}", response_model=UserWithPermissions)
async def read_user(
    user_id: UserIdPath, admin: AdminPermissions, users: UsersRepo, cache: PermissionCacheDep
) -> UserWithPermissions:
    """The profile, with what the roles of the user's last token grant now."""
    profile = await users_service.get_or_raise(users=users, user_id=user_id)
    permissions = await cache.permissions_for(profile.roles)
    return UserWithPermissions(**profile.model_dump(), effective_permissions=permissions)


@router.patch("/{user_id}", response_model=UserProfile)
async def update_user(
    user_id: UserIdPath, changes: UserUpdate, admin: AdminPermissions, caller: CurrentUser, users: UsersRepo
) -> UserProfile:
    """Suspend or reinstate; a suspended user gets 403 on every route of both services from the next request."""
    if user_id == caller.user_id and changes.status is UserStatus.SUSPENDED:
        raise RuleViolation("you cannot suspend your own account", code="self_suspension")
    with merged_record_validated():
        return await users_service.update(users=users, user_id=user_id, changes=changes)
