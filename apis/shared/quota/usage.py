"""Where a user's spend comes from: a port the caller supplies, so that quotas need not know how costs count.

`usage_from_costs` reads a month's or a day's total from the costs domain (`monthly_total`, `daily_total`: one
read of the stored total alone, by key), months and days alike, so a daily limit is always checked.
"""

from __future__ import annotations

from typing import Protocol

from apis.shared.costs import CostRepository, daily_total, monthly_total
from apis.shared.quota.checker import QuotaWindow


class Usage(Protocol):
    """What a user spent, in USD, in one UTC window (a month or a day)."""

    async def __call__(self, user_id: str, window: QuotaWindow) -> float: ...


def usage_from_costs(costs: CostRepository) -> Usage:
    """Each window's spend from the costs domain's totals of that month or day."""

    async def usage(user_id: str, window: QuotaWindow) -> float:
        if window.period_type == "monthly":
            return await monthly_total(costs=costs, user_id=user_id, period=window.key)
        return await daily_total(costs=costs, user_id=user_id, day=window.key)

    return usage
