"""Where a user's spend comes from: a port the caller supplies, so that quotas need not know how costs count.

The monthly spend is the costs domain's month summary; a day's spend is whatever per-day total the caller has
(pass it as `daily` to `usage_from_costs`). A tier with a daily limit needs it: without it the check raises
`UsageUnavailable` rather than let the daily limit go unchecked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from apis.shared.costs import CostRepository
from apis.shared.quota.checker import QuotaWindow
from apis.shared.quota.exceptions import UsageUnavailable

# (user id, UTC day "YYYY-MM-DD") -> USD spent that day.
DailySpend = Callable[[str, str], Awaitable[float]]


class Usage(Protocol):
    """What a user spent, in USD, in one UTC window (a month or a day)."""

    async def __call__(self, user_id: str, window: QuotaWindow) -> float: ...


def usage_from_costs(costs: CostRepository, *, daily: DailySpend | None = None) -> Usage:
    """Months from `costs.get_summary`; days from `daily` (`UsageUnavailable` when a day is asked without it)."""

    async def usage(user_id: str, window: QuotaWindow) -> float:
        if window.period_type == "monthly":
            return (await costs.get_summary(user_id, window.key)).total_cost
        if daily is None:
            raise UsageUnavailable("a tier has a daily limit, and no daily spend was wired to the quota check")
        return await daily(user_id, window.key)

    return usage
