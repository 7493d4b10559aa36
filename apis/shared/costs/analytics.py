"""Admin cost analytics over every user's totals: the system's month or day, daily trends, top users, each
model's usage and the list of a month's users that the export streams. Each reads rollups or an index.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from apis.shared.costs.exceptions import InvalidPeriod
from apis.shared.costs.models import SystemCostSummary, SystemModelCost, UserPeriodCost
from apis.shared.costs.periods import checked_range, is_day, is_period, month_days, validate_period
from apis.shared.costs.repository import CostRepository

# Users a page of the export reads at a time.
EXPORT_PAGE_SIZE = 100


async def system_summary(*, costs: CostRepository, period: str) -> SystemCostSummary:
    """Every user's spend in a month ("YYYY-MM") or a day ("YYYY-MM-DD"); InvalidPeriod (400) otherwise."""
    if not (is_period(period) or is_day(period)):
        raise InvalidPeriod(f"period must be a month written YYYY-MM or a day written YYYY-MM-DD, not {period!r}")
    return await costs.get_system_summary(period)


async def daily_trends(*, costs: CostRepository, first_day: str, last_day: str) -> list[SystemCostSummary]:
    """Every user's totals for each day from `first_day` to `last_day`, both included, oldest first; a day
    without spend is there with zeros. InvalidDateRange (400) for an end before the start or too long a span."""
    days = checked_range(first_day, last_day)
    found = {summary.period: summary for summary in await costs.list_system_days(days[0], days[-1])}
    return [found.get(day) or SystemCostSummary(period=day) for day in days]


async def month_trends(*, costs: CostRepository, period: str, today: str) -> list[SystemCostSummary]:
    """`daily_trends` of the month `period` up to `today` (the whole month once it is over; none before it)."""
    first, last = month_days(validate_period(period))
    last = min(last, today)
    if last < first:
        return []
    return await daily_trends(costs=costs, first_day=first, last_day=last)


async def top_users(*, costs: CostRepository, period: str, limit: int, min_cost: float = 0.0) -> list[UserPeriodCost]:
    """Up to `limit` users with the highest spend in `period` and at least `min_cost`, costliest first."""
    return await costs.list_top_users(validate_period(period), limit=limit, min_cost=min_cost)


async def usage_by_model(*, costs: CostRepository, period: str) -> list[SystemModelCost]:
    """Each model's share of every user's spend in the month `period`, costliest first, with its users."""
    return (await costs.get_system_summary(validate_period(period))).models


async def period_users(
    *, costs: CostRepository, period: str, page_size: int | None = None
) -> AsyncIterator[list[UserPeriodCost]]:
    """Every user with spend in `period`, a page (default EXPORT_PAGE_SIZE users) at a time, each once, until the
    last page: never capped."""
    token: str | None = None
    limit = page_size or EXPORT_PAGE_SIZE
    while True:
        page = await costs.list_period_users(validate_period(period), limit=limit, page_token=token)
        if page.items:
            yield page.items
        if page.next_token is None:
            return
        token = page.next_token
