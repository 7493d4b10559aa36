"""The storage port of the users domain; one implementation per backend under apis/shared/storage/."""

from __future__ import annotations

from typing import Protocol

from apis.shared.pagination import Page
from apis.shared.users.models import UserLogin, UserProfile, UserStatus


class UserRepository(Protocol):
    """User profiles, one per user id, written by sign-ins (`upsert_login`) and by admins (`set_status`).

    The two writers own different fields: a sign-in owns the token's claims (email, name, roles, picture,
    emailDomain) and lastLoginAt; an admin owns status. Neither write touches the other's fields, so a
    sign-in racing an admin's suspension can never undo it, whatever the order in which they land.

    Methods return `None` only for "no such user"; any backend failure raises `StorageUnavailableError`
    (transient) or `StorageError`. Lists are ordered by user id, ascending; a page holds `limit` profiles
    unless it is the last one, and its `next_token` (None on the last page) is an opaque cursor after its last
    profile that only this repository understands: a foreign or damaged token raises `InvalidPageToken`.
    """

    async def get(self, user_id: str) -> UserProfile | None:
        """The user's profile, or None if they never signed in; read from the primary copy, never stale."""
        ...

    async def upsert_login(self, login: UserLogin, *, at: str) -> UserProfile:
        """Record a sign-in at `at` in one atomic write, and return the profile as stored after it.

        A new user gets a profile with status active and createdAt = lastLoginAt = `at`. An existing user gets
        the claims of `login` (email, name, roles, picture, and emailDomain derived from the email) and
        lastLoginAt = `at`; their status and createdAt are never written, so the returned profile carries
        whatever status is stored (suspended, if an admin got there first).
        """
        ...

    async def set_status(self, user_id: str, status: UserStatus) -> UserProfile | None:
        """Set the user's status and return the updated profile; None (nothing written) if there is no such user."""
        ...

    async def list_users(
        self,
        *,
        limit: int,
        page_token: str | None = None,
        status: UserStatus | None = None,
        email_domain: str | None = None,
    ) -> Page[UserProfile]:
        """Every user, by user id; `status` keeps that status only, `email_domain` that domain (ignoring case)."""
        ...

    async def search(self, query: str, *, limit: int, page_token: str | None = None) -> Page[UserProfile]:
        """Users whose name or email contains `query`, ignoring case, by user id. `query` is used as given."""
        ...

    async def search_by_email(self, email: str, *, limit: int, page_token: str | None = None) -> Page[UserProfile]:
        """Users whose email is `email`, ignoring case (usually one), by user id. `email` is used as given."""
        ...

    async def list_email_domains(self, *, limit: int) -> list[str]:
        """The distinct email domains of the stored profiles (lower case, as `emailDomain`), ascending, at most
        `limit`. A domain no profile has any more is not listed. Never a read of every profile on DynamoDB."""
        ...
