"""Users service: read, list and search profiles, and the admin's update (the suspension switch)."""

from __future__ import annotations

from apis.shared.errors import RuleViolation
from apis.shared.pagination import Page
from apis.shared.partial_updates import merged
from apis.shared.users.exceptions import UserNotFound
from apis.shared.users.models import UserProfile, UserStatus, UserUpdate
from apis.shared.users.repository import UserRepository

MIN_SEARCH_LENGTH = 2


async def get_or_raise(*, users: UserRepository, user_id: str) -> UserProfile:
    profile = await users.get(user_id)
    if profile is None:
        raise UserNotFound(f"user {user_id} not found")
    return profile


async def list_users(
    *,
    users: UserRepository,
    limit: int,
    page_token: str | None = None,
    status: UserStatus | None = None,
    email_domain: str | None = None,
) -> Page[UserProfile]:
    """Every user for admins; a domain may be given as "Example.com" or "@example.com"."""
    domain = email_domain.strip().removeprefix("@").lower() if email_domain else None
    return await users.list_users(limit=limit, page_token=page_token, status=status, email_domain=domain or None)


async def search(*, users: UserRepository, query: str, limit: int, page_token: str | None = None) -> Page[UserProfile]:
    """Users whose name or email contains `query`, ignoring case; a shorter query than 2 characters would list
    nearly everyone, so it is refused."""
    needle = query.strip()
    if len(needle) < MIN_SEARCH_LENGTH:
        raise RuleViolation(f"a search needs at least {MIN_SEARCH_LENGTH} characters", code="search_query_too_short")
    return await users.search(needle, limit=limit, page_token=page_token)


async def search_by_email(
    *, users: UserRepository, email: str, limit: int, page_token: str | None = None
) -> Page[UserProfile]:
    """The users with exactly this email, ignoring case and surrounding spaces (the admins' lookup)."""
    wanted = email.strip()
    if not wanted:
        raise RuleViolation("give the email address to look up", code="search_query_too_short")
    return await users.search_by_email(wanted, limit=limit, page_token=page_token)


async def list_email_domains(*, users: UserRepository, limit: int) -> list[str]:
    """The email domains users have, for the admins' domain filter."""
    return await users.list_email_domains(limit=limit)


async def update(*, users: UserRepository, user_id: str, changes: UserUpdate) -> UserProfile:
    """Apply what an admin sent: suspend or reactivate a user, effective on their next request (see sync.py).

    The profile as it would be stored is validated first (InvalidInput, 422): nothing unreadable is written.
    """
    current = await get_or_raise(users=users, user_id=user_id)
    merged(current, changes.sent_fields())
    if changes.status is None:
        return current
    profile = await users.set_status(user_id, changes.status)
    if profile is None:
        raise UserNotFound(f"user {user_id} not found")
    return profile
