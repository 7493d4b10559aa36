"""Costs of model calls: price snapshots, the arithmetic of a call's cost, and per-user monthly summaries."""

from apis.shared.costs import summaries
from apis.shared.costs.calculator import PRICE_FIELDS, cost_of_usage
from apis.shared.costs.exceptions import InvalidPeriod
from apis.shared.costs.models import PERIOD_PATTERN, CostEntry, CostSummary, ModelCostBreakdown
from apis.shared.costs.repository import CostRepository
from apis.shared.costs.summaries import period_of

__all__ = [
    "PERIOD_PATTERN",
    "PRICE_FIELDS",
    "CostEntry",
    "CostRepository",
    "CostSummary",
    "InvalidPeriod",
    "ModelCostBreakdown",
    "cost_of_usage",
    "period_of",
    "summaries",
]
