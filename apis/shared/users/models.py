"""User profiles as the domain and the API see them, and what a token says about its user."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, Field

from apis.shared.partial_updates import PartialUpdate
from apis.shared.schemas import ApiModel


class UserStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


def email_domain_of(email: str | None) -> str | None:
    """The lower-cased part after the last "@", so admins can filter users by organisation; None without one."""
    if not email or "@" not in email:
        return None
    domain = email.rpartition("@")[2].strip().lower()
    return domain or None


class UserProfile(ApiModel):
    """One person who signed in: the token's claims at the last sync, plus what only admins change (status)."""

    user_id: str
    email: str | None = None
    name: str | None = None
    roles: list[str] = Field(default_factory=list)
    picture: str | None = None
    email_domain: str | None = None
    created_at: str
    last_login_at: str
    status: UserStatus = UserStatus.ACTIVE


class UserUpdate(PartialUpdate):
    """What an admin may change of a profile (see partial_updates.py): the status, which cannot be null."""

    record: ClassVar[type[BaseModel]] = UserProfile

    status: UserStatus | None = None


@dataclass(frozen=True, slots=True)
class UserLogin:
    """What a validated token says about its user; frozen, as an identity is never edited once validated."""

    user_id: str
    email: str | None = None
    name: str | None = None
    roles: tuple[str, ...] = ()
    picture: str | None = None

    @property
    def email_domain(self) -> str | None:
        return email_domain_of(self.email)

    def matches(self, profile: UserProfile) -> bool:
        """Whether `profile` already holds these claims, so that syncing them would change nothing but times."""
        return (
            profile.email == self.email
            and profile.name == self.name
            and profile.roles == list(self.roles)
            and profile.picture == self.picture
        )

    def new_profile(self, *, at: str) -> UserProfile:
        """The profile of a user seen for the first time at `at`: active."""
        return UserProfile(
            user_id=self.user_id,
            email=self.email,
            name=self.name,
            roles=list(self.roles),
            picture=self.picture,
            email_domain=self.email_domain,
            created_at=at,
            last_login_at=at,
            status=UserStatus.ACTIVE,
        )

    def apply_to(self, profile: UserProfile, *, at: str) -> UserProfile:
        """`profile` with these claims and a login at `at`; its status and createdAt stay as they are."""
        return profile.model_copy(
            update={
                "email": self.email,
                "name": self.name,
                "roles": list(self.roles),
                "picture": self.picture,
                "email_domain": self.email_domain,
                "last_login_at": at,
            }
        )
