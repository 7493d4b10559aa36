"""Running sums of cost figures, with money as exact Decimals: what the in-memory store keeps, what a reader adds
when a report spans several stored totals (days of a range, shards of a system counter), and how the sums
become summaries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal

from apis.shared.costs.models import (
    CostEntry,
    CostSummary,
    ModelCostBreakdown,
    SystemCostSummary,
    SystemModelCost,
    money_decimal,
)


@dataclass
class CostTally:
    """Sums of one user's or every user's spend, overall or for one model; `users` counts active users where
    the store counts them. `provider` and `updated_at` are those of the latest write added."""

    cost: Decimal = Decimal(0)
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    cache_savings: Decimal = Decimal(0)
    users: int = 0
    provider: str = ""
    updated_at: str | None = None

    def count(self, entry: CostEntry, at: str, *, new_user: bool = False) -> None:
        """Add `entry`, written at `at`; `new_user` when it is its user's first in what this tally counts."""
        usage = entry.usage
        self.cost += money_decimal(entry.cost)
        self.requests += entry.requests
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.total_tokens += usage.total_tokens
        self.cache_read_input_tokens += usage.cache_read_input_tokens
        self.cache_write_input_tokens += usage.cache_write_input_tokens
        self.cache_savings += money_decimal(entry.cache_savings)
        self.users += int(new_user)
        self.provider, self.updated_at = entry.provider, at

    def merge(self, other: CostTally) -> None:
        """Add `other`'s sums; its provider and time win when it was written later (or this one has none)."""
        for field in fields(self):
            if field.name not in ("provider", "updated_at"):
                setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))
        later = self.updated_at is None or (other.updated_at is not None and other.updated_at >= self.updated_at)
        if other.provider and (later or not self.provider):
            self.provider = other.provider
        if later:
            self.updated_at = other.updated_at or self.updated_at

    def breakdown(self, model_id: str) -> ModelCostBreakdown:
        return ModelCostBreakdown.model_validate({"model_id": model_id, **self._model_figures()})

    def system_model(self, model_id: str) -> SystemModelCost:
        return SystemModelCost.model_validate(
            {"model_id": model_id, "unique_users": self.users, **self._model_figures()}
        )

    def _model_figures(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "total_cost": float(self.cost),
            "total_requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_write_input_tokens": self.cache_write_input_tokens,
        }

    def _totals(self) -> dict[str, object]:
        return {
            "total_cost": float(self.cost),
            "total_requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_write_input_tokens": self.cache_write_input_tokens,
            "cache_savings": float(self.cache_savings),
            "updated_at": self.updated_at,
        }

    def summary(self, user_id: str, period: str, models: Mapping[str, CostTally]) -> CostSummary:
        """A user's summary of `period` from these totals and each model's."""
        breakdowns = [totals.breakdown(model_id) for model_id, totals in models.items()]
        return CostSummary.model_validate(
            {"user_id": user_id, "period": period, "models": breakdowns, **self._totals()}
        )

    def system_summary(self, period: str, models: Mapping[str, CostTally]) -> SystemCostSummary:
        """The system's summary of `period` from these totals and each model's."""
        breakdowns = [totals.system_model(model_id) for model_id, totals in models.items()]
        return SystemCostSummary.model_validate(
            {"period": period, "active_users": self.users, "models": breakdowns, **self._totals()}
        )


def tally_of(summary: CostSummary | SystemCostSummary) -> tuple[CostTally, dict[str, CostTally]]:
    """A summary back as sums: its totals and each model's."""
    totals = CostTally(
        cost=money_decimal(summary.total_cost),
        requests=summary.total_requests,
        input_tokens=summary.input_tokens,
        output_tokens=summary.output_tokens,
        total_tokens=summary.total_tokens,
        cache_read_input_tokens=summary.cache_read_input_tokens,
        cache_write_input_tokens=summary.cache_write_input_tokens,
        cache_savings=money_decimal(summary.cache_savings),
        users=summary.active_users if isinstance(summary, SystemCostSummary) else 0,
        updated_at=summary.updated_at,
    )
    models = {
        model.model_id: CostTally(
            cost=money_decimal(model.total_cost),
            requests=model.total_requests,
            input_tokens=model.input_tokens,
            output_tokens=model.output_tokens,
            cache_read_input_tokens=model.cache_read_input_tokens,
            cache_write_input_tokens=model.cache_write_input_tokens,
            users=model.unique_users if isinstance(model, SystemModelCost) else 0,
            provider=model.provider,
            updated_at=summary.updated_at,
        )
        for model in summary.models
    }
    return totals, models


def add_up(user_id: str, period: str, summaries: Iterable[CostSummary]) -> CostSummary:
    """One summary of `period` adding up `summaries` (oldest first, so the latest provider of a model wins)."""
    totals, models = CostTally(), dict[str, CostTally]()
    for summary in summaries:
        summary_totals, summary_models = tally_of(summary)
        totals.merge(summary_totals)
        for model_id, model_totals in summary_models.items():
            models.setdefault(model_id, CostTally()).merge(model_totals)
    return totals.summary(user_id, period, models)
