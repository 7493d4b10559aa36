"""Costs of model calls: price snapshots, the arithmetic of a call's cost, per-user monthly and daily summaries,
system rollups, and the reports built on them."""

from apis.shared.costs import analytics, reports, summaries
from apis.shared.costs.calculator import PRICE_FIELDS, cost_of_usage
from apis.shared.costs.exceptions import InvalidDateRange, InvalidDay, InvalidPeriod
from apis.shared.costs.models import (
    CostEntry,
    CostSummary,
    ModelCostBreakdown,
    SystemCostSummary,
    SystemModelCost,
    UserPeriodCost,
)
from apis.shared.costs.periods import (
    DAY_PATTERN,
    MAX_RANGE_DAYS,
    PERIOD_PATTERN,
    day_of,
    month_days,
    period_of,
    this_month,
    today,
)
from apis.shared.costs.repository import CostRepository
from apis.shared.costs.summaries import daily_total, monthly_total
from apis.shared.costs.tally import CostTally

__all__ = [
    "DAY_PATTERN",
    "MAX_RANGE_DAYS",
    "PERIOD_PATTERN",
    "PRICE_FIELDS",
    "CostEntry",
    "CostRepository",
    "CostSummary",
    "CostTally",
    "InvalidDateRange",
    "InvalidDay",
    "InvalidPeriod",
    "ModelCostBreakdown",
    "SystemCostSummary",
    "SystemModelCost",
    "UserPeriodCost",
    "analytics",
    "cost_of_usage",
    "daily_total",
    "day_of",
    "month_days",
    "monthly_total",
    "period_of",
    "reports",
    "summaries",
    "this_month",
    "today",
]
