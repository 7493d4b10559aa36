"""The caller's own profile, and finding other users to share with (API.md "Roles and users")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from apis.app_api.deps import CallerPermissions, CurrentProfile, UsersRepo
from apis.app_api.users.schemas import UserSearchPage, UserSummary, UserWithPermissions
from apis.shared.users import service as users_service

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", response_model=UserWithPermissions)
async def read_me(profile: CurrentProfile, permissions: CallerPermissions) -> UserWithPermissions:
    """The caller's profile as synced from the token, and what the caller's roles allow."""
    return UserWithPermissions(**profile.model_dump(), effective_permissions=permissions)


@router.get("/search", response_model=UserSearchPage)
async def search_users(
    profile: CurrentProfile,
    users: UsersRepo,
    q: Annotated[str, Query(max_length=200, description="part of a name or email, 2 characters or more")],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> UserSearchPage:
    page = await users_service.search(users=users, query=q, limit=limit, page_token=next_token)
    summaries = [UserSummary(user_id=u.user_id, email=u.email, name=u.name) for u in page.items]
    return UserSearchPage(users=summaries, next_token=page.next_token)
