"""A turn's quota check, before the provider is called: resolve what applies, read the spend, decide, record.

Resolution reads several records (overrides, assignments by user, roles and domain, the default), so each
process keeps a user's resolution for QUOTA_CACHE_SECONDS: a change of tier or assignment applies to a user's
turns within that bound. The spend is read at every turn (the month's total; the day's too when the tier
has a daily limit, each one read by key), so a turn sees every cost stored before it. A storage failure in any
of this is a 503: a turn is never let through because its quota could not be read.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime

from apis.shared.clock import utc_now
from apis.shared.costs import CostRepository
from apis.shared.quota import (
    QuotaDecision,
    QuotaRepository,
    ResolvedQuota,
    decide,
    record_outcome,
    resolve_quota,
    usage_from_costs,
)

_MAX_CACHED_USERS = 100_000
_CacheKey = tuple[str, str | None, tuple[str, ...], tuple[str, ...]]


class QuotaGate:
    """Checks a user's turn against their quota, and records the warning or block the check calls for."""

    def __init__(
        self,
        *,
        quotas: QuotaRepository,
        costs: CostRepository,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quotas = quotas
        # The month's spend, and the day's for a daily limit: one read of its total each, by key.
        self.usage = usage_from_costs(costs)
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._resolved: OrderedDict[_CacheKey, tuple[float, ResolvedQuota | None]] = OrderedDict()

    async def check(
        self,
        *,
        user_id: str,
        email: str | None,
        jwt_roles: Sequence[str],
        app_roles: Sequence[str],
        session_id: str,
        now: datetime | None = None,
    ) -> QuotaDecision:
        """The decision for one turn; its block, or its warning (once per tier, period and threshold, however many
        turns run at once), is recorded as an event."""
        moment = now or utc_now()
        resolved = await self._resolution(user_id, email, tuple(jwt_roles), tuple(app_roles), moment)
        decision = await decide(resolved, usage=self.usage, user_id=user_id, now=moment)
        await record_outcome(quotas=self.quotas, user_id=user_id, decision=decision, session_id=session_id, now=moment)
        return decision

    async def _resolution(
        self, user_id: str, email: str | None, jwt_roles: tuple[str, ...], app_roles: tuple[str, ...], now: datetime
    ) -> ResolvedQuota | None:
        key = (user_id, email, jwt_roles, app_roles)
        cached = self._resolved.get(key)
        if cached is not None and self.clock() - cached[0] < self.cache_seconds:
            return cached[1]
        resolved = await resolve_quota(
            quotas=self.quotas, user_id=user_id, email=email, jwt_roles=jwt_roles, app_roles=app_roles, now=now
        )
        self._resolved.pop(key, None)
        self._resolved[key] = (self.clock(), resolved)
        while len(self._resolved) > _MAX_CACHED_USERS:
            self._resolved.popitem(last=False)
        return resolved
