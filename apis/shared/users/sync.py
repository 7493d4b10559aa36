"""Login sync: on every request, refuse a suspended user and keep their profile in step with their token.

The suspension check is one key read per request, on both services: they are separate processes with no
shared memory, and a suspension must take effect on the user's very next request. The profile write is not
made per request: only for a new user, when the token's claims changed, or when this process has not synced
the user for `interval_seconds` (which keeps lastLoginAt roughly fresh).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from apis.shared.clock import now_iso
from apis.shared.errors import StorageError
from apis.shared.observability import SUPPRESSED_ERRORS
from apis.shared.users.exceptions import UserSuspended
from apis.shared.users.models import UserLogin, UserProfile, UserStatus
from apis.shared.users.repository import UserRepository

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 300.0
DEFAULT_REMEMBERED_USERS = 10_000


class LoginSync:
    """Built once per service process; remembers when it last synced each of the most recent users."""

    def __init__(
        self,
        *,
        users: UserRepository,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        remembered_users: int = DEFAULT_REMEMBERED_USERS,
    ) -> None:
        self._users = users
        self._interval = interval_seconds
        self._clock = clock
        self._capacity = max(1, remembered_users)
        # user id -> clock time of the last sync attempt, least recently seen first; at most `_capacity` users.
        self._synced: OrderedDict[str, float] = OrderedDict()

    async def ensure_active(self, login: UserLogin) -> UserProfile:
        """The caller's profile, synced from `login` when due; raises UserSuspended for a suspended account.

        A storage failure while reading propagates (fail closed: a suspension cannot be ruled out), and so
        does a failed first write (the user must exist before going on). A failed refresh of an existing
        profile is not needed by this request: it is logged, counted, and the stored profile is returned.
        """
        profile = await self._users.get(login.user_id)
        if profile is not None and profile.status is UserStatus.SUSPENDED:
            raise UserSuspended()
        if profile is not None and not self._due(login, profile):
            self._synced.move_to_end(login.user_id)  # seen just now: forget users who were idle longer first
            return profile
        try:
            synced = await self._users.upsert_login(login, at=now_iso())
        except StorageError as exc:  # suppressed: a refresh of a profile that exists; this request needs none
            if profile is None:
                raise
            self._remember(login.user_id)  # do not retry on every request while the backend refuses writes
            SUPPRESSED_ERRORS.labels(where="users.sync").inc()
            logger.warning("could not refresh a user profile; going on with the stored one", exc_info=exc)
            return profile
        self._remember(login.user_id)
        # An admin may have suspended the user between the read and the write; the write returns their status.
        if synced.status is UserStatus.SUSPENDED:
            raise UserSuspended()
        return synced

    def _due(self, login: UserLogin, profile: UserProfile) -> bool:
        """Whether the profile needs a write: its claims differ from the token's, or its sync is stale here."""
        if not login.matches(profile):
            return True
        last = self._synced.get(login.user_id)
        return last is None or self._clock() - last >= self._interval

    def _remember(self, user_id: str) -> None:
        self._synced[user_id] = self._clock()
        self._synced.move_to_end(user_id)
        while len(self._synced) > self._capacity:
            self._synced.popitem(last=False)
