"""A dict-backed CostRepository: the fake that service tests use, held to the same contract suite."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from apis.shared.clock import now_iso
from apis.shared.costs.models import CostEntry, CostSummary, ModelCostBreakdown, money_decimal


@dataclass
class _ModelTotals:
    provider: str
    cost: Decimal = Decimal(0)
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0

    def add(self, entry: CostEntry) -> None:
        self.provider = entry.provider
        self.cost += money_decimal(entry.cost)
        self.requests += entry.requests
        self.input_tokens += entry.usage.input_tokens
        self.output_tokens += entry.usage.output_tokens
        self.cache_read_input_tokens += entry.usage.cache_read_input_tokens
        self.cache_write_input_tokens += entry.usage.cache_write_input_tokens


@dataclass
class _MonthTotals:
    updated_at: str
    overall: _ModelTotals = field(default_factory=lambda: _ModelTotals(provider=""))
    total_tokens: int = 0
    cache_savings: Decimal = Decimal(0)
    models: dict[str, _ModelTotals] = field(default_factory=dict)


def _breakdown(model_id: str, totals: _ModelTotals) -> ModelCostBreakdown:
    return ModelCostBreakdown(
        model_id=model_id,
        provider=totals.provider,
        total_cost=float(totals.cost),
        total_requests=totals.requests,
        input_tokens=totals.input_tokens,
        output_tokens=totals.output_tokens,
        cache_read_input_tokens=totals.cache_read_input_tokens,
        cache_write_input_tokens=totals.cache_write_input_tokens,
    )


class InMemoryCostRepository:
    """Keeps everything in one process; nothing survives a restart. `add` never awaits, so it is atomic."""

    def __init__(self) -> None:
        self._months: dict[tuple[str, str], _MonthTotals] = {}

    async def add(self, entry: CostEntry) -> None:
        self.add_now(entry)

    def add_now(self, entry: CostEntry) -> None:
        """`add` for a caller that must not await: the in-memory sessions store counts a turn's cost with it."""
        at = now_iso()
        month = self._months.setdefault((entry.user_id, entry.period), _MonthTotals(updated_at=at))
        month.updated_at = at
        month.overall.add(entry)
        month.total_tokens += entry.usage.total_tokens
        month.cache_savings += money_decimal(entry.cache_savings)
        month.models.setdefault(entry.model_id, _ModelTotals(provider=entry.provider)).add(entry)

    async def get_summary(self, user_id: str, period: str) -> CostSummary:
        month = self._months.get((user_id, period))
        if month is None:
            return CostSummary(user_id=user_id, period=period)
        overall = month.overall
        return CostSummary(
            user_id=user_id,
            period=period,
            total_cost=float(overall.cost),
            total_requests=overall.requests,
            input_tokens=overall.input_tokens,
            output_tokens=overall.output_tokens,
            total_tokens=month.total_tokens,
            cache_read_input_tokens=overall.cache_read_input_tokens,
            cache_write_input_tokens=overall.cache_write_input_tokens,
            cache_savings=float(month.cache_savings),
            models=[_breakdown(model_id, totals) for model_id, totals in month.models.items()],
            updated_at=month.updated_at,
        )
