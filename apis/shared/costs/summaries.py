"""Cost summary service: count each turn's cost into its user's month and day, and read them back.

`monthly_total` and `daily_total` are what a quota check reads: one stored total each, by key.
"""

from __future__ import annotations

from apis.shared.costs.models import CostEntry, CostSummary
from apis.shared.costs.periods import day_of, period_of, validate_day, validate_period
from apis.shared.costs.repository import CostRepository

__all__ = [
    "daily_total",
    "day_of",
    "day_summary",
    "monthly_total",
    "period_of",
    "record",
    "summary",
    "validate_day",
    "validate_period",
]


async def record(*, costs: CostRepository, entry: CostEntry) -> None:
    """Count one model call or turn into its user's month and day and the system's rollups; storage failures
    propagate (nothing was counted)."""
    await costs.add(entry)


async def summary(*, costs: CostRepository, user_id: str, period: str) -> CostSummary:
    """The caller's spend in `period`; zeros for a month without any, InvalidPeriod for a malformed period."""
    return await costs.get_summary(user_id, validate_period(period))


async def day_summary(*, costs: CostRepository, user_id: str, day: str) -> CostSummary:
    """The user's spend on the UTC `day`; zeros for a day without any, InvalidDay for a malformed day."""
    return await costs.get_day_summary(user_id, validate_day(day))


async def monthly_total(*, costs: CostRepository, user_id: str, period: str) -> float:
    """The user's total cost (USD) in the UTC month `period` ("YYYY-MM"), 0.0 before any spend."""
    return await costs.get_spend(user_id, validate_period(period))


async def daily_total(*, costs: CostRepository, user_id: str, day: str) -> float:
    """The user's total cost (USD) on the UTC `day` ("YYYY-MM-DD"), 0.0 before any spend."""
    return await costs.get_spend(user_id, validate_day(day))
