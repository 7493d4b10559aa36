"""A dict-backed UserRepository: the fake that service tests use, held to the same contract suite."""

from __future__ import annotations

from collections.abc import Callable

from apis.shared.pagination import Page, decode_token, encode_token
from apis.shared.users.models import UserLogin, UserProfile, UserStatus

_CURSOR = ("userId",)


class InMemoryUserRepository:
    """Keeps every profile in one process; nothing survives a restart."""

    def __init__(self) -> None:
        self._profiles: dict[str, UserProfile] = {}

    async def get(self, user_id: str) -> UserProfile | None:
        return self._profiles.get(user_id)

    async def upsert_login(self, login: UserLogin, *, at: str) -> UserProfile:
        current = self._profiles.get(login.user_id)
        profile = login.new_profile(at=at) if current is None else login.apply_to(current, at=at)
        self._profiles[login.user_id] = profile
        return profile

    async def set_status(self, user_id: str, status: UserStatus) -> UserProfile | None:
        current = self._profiles.get(user_id)
        if current is None:
            return None
        self._profiles[user_id] = current.model_copy(update={"status": status})
        return self._profiles[user_id]

    async def list_users(
        self,
        *,
        limit: int,
        page_token: str | None = None,
        status: UserStatus | None = None,
        email_domain: str | None = None,
    ) -> Page[UserProfile]:
        domain = email_domain.lower() if email_domain is not None else None
        return self._page(
            lambda p: (status is None or p.status == status) and (domain is None or p.email_domain == domain),
            limit=limit,
            page_token=page_token,
        )

    async def search(self, query: str, *, limit: int, page_token: str | None = None) -> Page[UserProfile]:
        needle = query.lower()
        return self._page(
            lambda p: needle in (p.name or "").lower() or needle in (p.email or "").lower(),
            limit=limit,
            page_token=page_token,
        )

    async def search_by_email(self, email: str, *, limit: int, page_token: str | None = None) -> Page[UserProfile]:
        wanted = email.lower()
        return self._page(lambda p: (p.email or "").lower() == wanted, limit=limit, page_token=page_token)

    async def list_email_domains(self, *, limit: int) -> list[str]:
        return sorted({p.email_domain for p in self._profiles.values() if p.email_domain})[:limit]

    def _page(self, keep: Callable[[UserProfile], bool], *, limit: int, page_token: str | None) -> Page[UserProfile]:
        after = decode_token(page_token, fields=_CURSOR)["userId"] if page_token is not None else None
        matching = [
            self._profiles[user_id]
            for user_id in sorted(self._profiles)
            if (after is None or user_id > after) and keep(self._profiles[user_id])
        ]
        items = matching[:limit]
        if len(matching) <= limit:
            return Page(items=items, next_token=None)
        return Page(items=items, next_token=encode_token({"userId": items[-1].user_id}))
