"""Costs of model calls: price snapshots and the arithmetic of a call's cost."""

from apis.shared.costs.calculator import PRICE_FIELDS, cost_of_usage

__all__ = ["PRICE_FIELDS", "cost_of_usage"]
