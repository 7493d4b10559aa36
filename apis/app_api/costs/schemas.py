"""Bodies of the cost routes, in the reference's shapes (its `costs/models.py` and `admin/costs/models.py`), and
how the domain's summaries become them."""

from __future__ import annotations

from typing import Literal

from apis.shared.costs import CostSummary, SystemCostSummary, SystemModelCost, UserPeriodCost
from apis.shared.quota import TierUsage
from apis.shared.schemas import ApiModel

PeriodType = Literal["daily", "monthly"]


def period_start(first_day: str) -> str:
    return f"{first_day}T00:00:00Z"


def period_end(last_day: str) -> str:
    """The last second of `last_day`: a report includes its whole end day."""
    return f"{last_day}T23:59:59Z"


class CostBreakdownRead(ApiModel):
    """A model's cost by kind of token. Only the total is kept (the reference keeps no more): the kinds are 0."""

    input_cost: float = 0.0
    output_cost: float = 0.0
    cache_write_cost: float = 0.0
    cache_read_cost: float = 0.0
    total_cost: float


class ModelCostSummaryRead(ApiModel):
    model_id: str
    model_name: str
    provider: str
    total_input_tokens: int
    total_output_tokens: int
    total_cache_read_tokens: int = 0
    total_cache_write_tokens: int = 0
    cost_breakdown: CostBreakdownRead
    request_count: int


class UserCostSummaryRead(ApiModel):
    """The caller's spend over a month or a range of days."""

    user_id: str
    period_start: str
    period_end: str
    total_cost: float
    models: list[ModelCostSummaryRead]
    total_requests: int
    total_input_tokens: int
    total_output_tokens: int
    total_cache_read_tokens: int = 0
    total_cache_write_tokens: int = 0
    total_cache_savings: float = 0.0

    @classmethod
    def of(cls, summary: CostSummary, *, first_day: str, last_day: str, names: dict[str, str]) -> UserCostSummaryRead:
        """`summary` of the days `first_day` to `last_day`; `names` gives each model id its display name."""
        models = [
            ModelCostSummaryRead(
                model_id=model.model_id,
                model_name=names.get(model.model_id, model.model_id),
                provider=model.provider,
                total_input_tokens=model.input_tokens,
                total_output_tokens=model.output_tokens,
                total_cache_read_tokens=model.cache_read_input_tokens,
                total_cache_write_tokens=model.cache_write_input_tokens,
                cost_breakdown=CostBreakdownRead(total_cost=model.total_cost),
                request_count=model.total_requests,
            )
            for model in summary.models
        ]
        return cls(
            user_id=summary.user_id,
            period_start=period_start(first_day),
            period_end=period_end(last_day),
            total_cost=summary.total_cost,
            models=models,
            total_requests=summary.total_requests,
            total_input_tokens=summary.input_tokens,
            total_output_tokens=summary.output_tokens,
            total_cache_read_tokens=summary.cache_read_input_tokens,
            total_cache_write_tokens=summary.cache_write_input_tokens,
            total_cache_savings=summary.cache_savings,
        )


class TopUserCostRead(ApiModel):
    """A user's month in the admins' lists; the tier and quota fields stay None until quota tiers fill them."""

    user_id: str
    total_cost: float
    total_requests: int
    last_updated: str
    email: str | None = None
    tier_name: str | None = None
    quota_limit: float | None = None
    quota_percentage: float | None = None

    @classmethod
    def of(cls, user: UserPeriodCost, email: str | None) -> TopUserCostRead:
        return cls(
            user_id=user.user_id,
            total_cost=user.total_cost,
            total_requests=user.total_requests,
            last_updated=user.updated_at,
            email=email,
        )


class ModelBreakdownItemRead(ApiModel):
    cost: float
    requests: int


class SystemCostSummaryRead(ApiModel):
    """Every user's spend in a month or a day; `modelBreakdown` is None when nothing was spent."""

    period: str
    period_type: PeriodType
    total_cost: float
    total_requests: int
    active_users: int
    total_input_tokens: int
    total_output_tokens: int
    total_cache_savings: float = 0.0
    model_breakdown: dict[str, ModelBreakdownItemRead] | None = None
    last_updated: str

    @classmethod
    def of(cls, summary: SystemCostSummary, *, period_type: PeriodType, now: str) -> SystemCostSummaryRead:
        """`now` stands for `lastUpdated` of a period without spend, as in the reference."""
        breakdown = {
            model.model_id: ModelBreakdownItemRead(cost=model.total_cost, requests=model.total_requests)
            for model in summary.models
        }
        return cls(
            period=summary.period,
            period_type=period_type,
            total_cost=summary.total_cost,
            total_requests=summary.total_requests,
            active_users=summary.active_users,
            total_input_tokens=summary.input_tokens,
            total_output_tokens=summary.output_tokens,
            total_cache_savings=summary.cache_savings,
            model_breakdown=breakdown or None,
            last_updated=summary.updated_at or now,
        )


class ModelUsageSummaryRead(ApiModel):
    model_id: str
    model_name: str
    provider: str
    total_cost: float
    total_requests: int
    unique_users: int
    avg_cost_per_request: float
    total_input_tokens: int
    total_output_tokens: int

    @classmethod
    def of(cls, model: SystemModelCost, names: dict[str, str]) -> ModelUsageSummaryRead:
        requests = model.total_requests
        return cls(
            model_id=model.model_id,
            model_name=names.get(model.model_id, model.model_id),
            provider=model.provider,
            total_cost=model.total_cost,
            total_requests=requests,
            unique_users=model.unique_users,
            avg_cost_per_request=model.total_cost / requests if requests else 0.0,
            total_input_tokens=model.input_tokens,
            total_output_tokens=model.output_tokens,
        )


class TierUsageSummaryRead(ApiModel):
    """A quota tier's usage (the reference's shape), for `/admin/costs/by-tier` and the dashboard's `tierUsage`."""

    tier_id: str
    tier_name: str
    total_cost: float
    total_users: int
    users_at_limit: int
    users_warned: int
    avg_utilization: float

    @classmethod
    def of(cls, usage: TierUsage) -> TierUsageSummaryRead:
        return cls.model_validate(usage.model_dump())


class CostTrendRead(ApiModel):
    date: str
    total_cost: float
    total_requests: int
    active_users: int

    @classmethod
    def of(cls, day: SystemCostSummary) -> CostTrendRead:
        return cls(
            date=day.period,
            total_cost=day.total_cost,
            total_requests=day.total_requests,
            active_users=day.active_users,
        )


class AdminCostDashboardRead(ApiModel):
    current_period: SystemCostSummaryRead
    top_users: list[TopUserCostRead]
    model_usage: list[ModelUsageSummaryRead]
    tier_usage: list[TierUsageSummaryRead] | None = None
    daily_trends: list[CostTrendRead] | None = None
