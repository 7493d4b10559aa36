"""Admin view of users, in the reference's shapes: list and filter, find by email, the domains, one user's detail
(profile, month cost, quota), suspend and reinstate.

`/search` and `/domains/list` are declared before `/{user_id}`, which would otherwise read "search" as an id.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from apis.app_api.deps import AdminPermissions, CurrentUser, PermissionCacheDep, StorageDep, UsersRepo
from apis.app_api.quota.user_detail import quota_fields
from apis.app_api.updates import merged_record_validated
from apis.app_api.users.schemas import AdminUserDetail, UserPage
from apis.shared.clock import now_iso
from apis.shared.costs import period_of
from apis.shared.errors import InvalidPageToken, RuleViolation
from apis.shared.users import UserProfile, UserStatus, UserUpdate
from apis.shared.users import detail as users_detail
from apis.shared.users import service as users_service

router = APIRouter(prefix="/admin/users", tags=["admin: users"])
UserIdPath = Annotated[str, Path(min_length=1, max_length=256)]
# The reference client's status filter also offers "inactive", a status no profile here ever has.
StatusFilter = Literal["active", "inactive", "suspended"]


async def page_token(
    cursor: Annotated[str | None, Query(max_length=2048, description="the nextCursor of the previous page")] = None,
    next_token: Annotated[str | None, Query(max_length=2048, description="the same, by API.md's name")] = None,
) -> str | None:
    """The page to read: the reference client sends `cursor`, API.md's clients `next_token`; one token either way."""
    if cursor is not None and next_token is not None and cursor != next_token:
        raise InvalidPageToken("send the page token once, as cursor or as next_token")
    return cursor if cursor is not None else next_token


PageToken = Annotated[str | None, Depends(page_token)]


@router.get("", response_model=UserPage)
async def list_users(
    admin: AdminPermissions,
    users: UsersRepo,
    token: PageToken,
    status: StatusFilter | None = None,
    domain: Annotated[str | None, Query(max_length=253, description="email domain, e.g. example.com")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> UserPage:
    if status == "inactive":
        return UserPage.of([], None)
    page = await users_service.list_users(
        users=users,
        limit=limit,
        page_token=token,
        status=UserStatus(status) if status else None,
        email_domain=domain,
    )
    return UserPage.of(page.items, page.next_token)


@router.get("/search", response_model=UserPage)
async def search_users_by_email(
    admin: AdminPermissions,
    users: UsersRepo,
    token: PageToken,
    email: Annotated[str, Query(min_length=1, max_length=320, description="the whole address; case is ignored")],
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> UserPage:
    """The users with exactly this email (usually one), as the reference's lookup by email."""
    page = await users_service.search_by_email(users=users, email=email, limit=limit, page_token=token)
    return UserPage.of(page.items, page.next_token)


@router.get("/domains/list", response_model=list[str])
async def list_email_domains(
    admin: AdminPermissions, users: UsersRepo, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[str]:
    """The email domains users have, ascending, for the domain filter."""
    return await users_service.list_email_domains(users=users, limit=limit)


@router.get("/{user_id}", response_model=AdminUserDetail)
async def read_user(
    user_id: UserIdPath, admin: AdminPermissions, storage: StorageDep, cache: PermissionCacheDep
) -> AdminUserDetail:
    """The profile, this month's cost, the quota status and recent quota events, with what the roles of the
    user's last token grant now."""
    found = await users_detail.get_detail(
        users=storage.users, costs=storage.costs, user_id=user_id, period=period_of(now_iso())
    )
    permissions = await cache.permissions_for(found.profile.roles)
    quota = await quota_fields(quotas=storage.quotas, detail=found, app_roles=permissions.app_roles)
    return AdminUserDetail(**{**dict(found), **quota}, effective_permissions=permissions)


@router.patch("/{user_id}", response_model=UserProfile)
async def update_user(
    user_id: UserIdPath, changes: UserUpdate, admin: AdminPermissions, caller: CurrentUser, users: UsersRepo
) -> UserProfile:
    """Suspend or reinstate; a suspended user gets 403 on every route of both services from the next request."""
    if user_id == caller.user_id and changes.status is UserStatus.SUSPENDED:
        raise RuleViolation("you cannot suspend your own account", code="self_suspension")
    with merged_record_validated():
        return await users_service.update(users=users, user_id=user_id, changes=changes)
