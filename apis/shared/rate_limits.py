"""A per-user limit on model calls: at most TURN_RATE_LIMIT_PER_MINUTE in any sliding minute, per process.

A sliding window (the times of the user's recent calls), so a burst at a minute's boundary cannot pass twice the
limit. Kept in the process, as a guard against runaway clients rather than an accounting: with N instances
behind a load balancer a user may get up to N times the limit, and a restart forgets the window. Memory stays
bounded: at most `max_users` windows are kept, the least recently seen forgotten first.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from apis.shared.errors import QuotaExceededError

WINDOW_SECONDS = 60.0


class RateLimited(QuotaExceededError):
    """The user sent more model calls in the last minute than TURN_RATE_LIMIT_PER_MINUTE allows."""

    code = "rate_limited"


class TurnRateLimiter:
    """Counts each user's model calls in a sliding minute; `check_and_count` refuses one over the limit."""

    def __init__(
        self, per_minute: int, *, max_users: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self.max_users = max_users
        self.clock = clock
        self._windows: OrderedDict[str, deque[float]] = OrderedDict()

    def check_and_count(self, user_id: str) -> None:
        """Count a call of `user_id` now, or raise RateLimited (with the seconds until one is allowed)."""
        if self.per_minute <= 0:
            return  # no limit
        now = self.clock()
        window = self._windows.pop(user_id, None) or deque()
        while window and now - window[0] >= WINDOW_SECONDS:
            window.popleft()
        self._windows[user_id] = window  # most recently seen last
        if len(window) >= self.per_minute:
            wait = max(1, math.ceil(WINDOW_SECONDS - (now - window[0])))
            raise RateLimited(
                f"too many requests: at most {self.per_minute} a minute; try again in {wait} s",
                retry_after_seconds=wait,
            )
        window.append(now)
        while len(self._windows) > self.max_users:
            self._windows.popitem(last=False)
