"""Profiles of the users in an admin's cost views, read a bounded number at a time: their emails for the lists of
users, and who each is (email, token roles, the app roles those map to) to place them in their quota tier."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import anyio

from apis.shared.quota import Identify, Member
from apis.shared.rbac import PermissionCache
from apis.shared.users import UserProfile, UserRepository

# Profiles read at once.
PROFILE_READS = 16


async def read_profiles(users: UserRepository, user_ids: Iterable[str]) -> dict[str, UserProfile | None]:
    """Each user's profile by id (None for a user with none), PROFILE_READS reads in flight at most."""
    found: dict[str, UserProfile | None] = {}
    limiter = anyio.CapacityLimiter(PROFILE_READS)

    async def read(user_id: str) -> None:
        async with limiter:
            found[user_id] = await users.get(user_id)

    async with anyio.create_task_group() as group:
        for user_id in dict.fromkeys(user_ids):
            group.start_soon(read, user_id)
    return found


def identify_with(users: UserRepository, permissions: PermissionCache) -> Identify:
    """Who users are as of their last sign-in (the inspector's source): the email and token roles of their
    profile, and the app roles those map to now. A user with no profile is left out (resolved by id alone)."""

    async def identify(user_ids: Sequence[str]) -> Mapping[str, Member]:
        members: dict[str, Member] = {}
        for user_id, profile in (await read_profiles(users, user_ids)).items():
            if profile is not None:
                app_roles = (await permissions.permissions_for(profile.roles)).app_roles
                members[user_id] = Member(email=profile.email, jwt_roles=profile.roles, app_roles=app_roles)
        return members

    return identify
