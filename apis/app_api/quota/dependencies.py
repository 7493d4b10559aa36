"""The quota routes' dependencies: the repository, where spend comes from, and who the inspector looks at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query

from apis.app_api.deps import AdminPermissions, PermissionCacheDep, StorageDep
from apis.shared.quota import TIER_ID_PATTERN, QuotaRepository, Usage, usage_from_costs
from apis.shared.users import UserNotFound


async def get_quotas(storage: StorageDep) -> QuotaRepository:
    return storage.quotas


async def get_usage(storage: StorageDep) -> Usage:
    """Spend from the costs domain: a month's total, and a day's for tiers with a daily limit."""
    return usage_from_costs(storage.costs)


QuotasRepo = Annotated[QuotaRepository, Depends(get_quotas)]
UsageDep = Annotated[Usage, Depends(get_usage)]
TierIdPath = Annotated[str, Path(pattern=TIER_ID_PATTERN)]
RecordIdPath = Annotated[str, Path(min_length=1, max_length=64)]
UserIdPath = Annotated[str, Path(min_length=1, max_length=256)]


@dataclass(frozen=True, slots=True)
class InspectedUser:
    """Whom to resolve for: the query's email and roles, else the user's profile as of their last sign-in."""

    user_id: str
    email: str | None
    jwt_roles: Sequence[str]
    app_roles: Sequence[str]


async def inspected_user(
    admin: AdminPermissions,
    user_id: UserIdPath,
    storage: StorageDep,
    cache: PermissionCacheDep,
    email: Annotated[str | None, Query(max_length=320, description="resolve with this email instead")] = None,
    roles: Annotated[str | None, Query(max_length=4096, description="comma-separated token roles instead")] = None,
) -> InspectedUser:
    """The user, as the reference's inspector takes them (`email`, `roles`), or as stored: UserNotFound (404)
    for a user who never signed in, unless the query says whom to resolve for. Admins only, checked first."""
    profile = await storage.users.get(user_id)
    if profile is None and not email and not roles:
        raise UserNotFound(f"user {user_id} not found")
    jwt_roles = [role.strip() for role in roles.split(",") if role.strip()] if roles else []
    if profile is not None:
        email = email or profile.email
        jwt_roles = jwt_roles if roles else list(profile.roles)
    permissions = await cache.permissions_for(jwt_roles)
    return InspectedUser(user_id=user_id, email=email or None, jwt_roles=jwt_roles, app_roles=permissions.app_roles)


InspectedUserDep = Annotated[InspectedUser, Depends(inspected_user)]
