"""What an admin sees of one user, in the reference's shape: the profile, this month's cost, the quota status and
the recent quota events.

`get_detail` answers a user without a quota, as the reference does for one: no tier, no limit, no override and
no events, with `currentUsage` this month's cost all the same. The admin route fills in the quota fields from
the quota domain (apis/app_api/quota/user_detail.py), which this domain does not import.
"""

from __future__ import annotations

from pydantic import Field

from apis.shared.costs import CostRepository, CostSummary
from apis.shared.schemas import ApiModel
from apis.shared.users.models import UserProfile
from apis.shared.users.repository import UserRepository
from apis.shared.users.service import get_or_raise


class UserCostSummary(ApiModel):
    """The user's month: `primaryModel` is the modelId they made the most requests to, None before any."""

    total_cost: float = 0.0
    total_requests: int = 0
    total_input_tokens: int = 0
    total_output_tokens: int = 0
    cache_savings: float = 0.0
    primary_model: str | None = None


class UserQuotaStatus(ApiModel):
    tier_id: str | None = None
    tier_name: str | None = None
    matched_by: str | None = None
    monthly_limit: float | None = None
    current_usage: float = 0.0
    usage_percentage: float = 0.0
    remaining: float | None = None
    has_active_override: bool = False
    override_reason: str | None = None


class QuotaEventSummary(ApiModel):
    event_id: str
    event_type: str
    timestamp: str
    percentage_used: float


class UserDetail(ApiModel):
    profile: UserProfile
    cost_summary: UserCostSummary
    quota_status: UserQuotaStatus
    recent_events: list[QuotaEventSummary] = Field(default_factory=list)


def cost_summary_of(summary: CostSummary) -> UserCostSummary:
    """The month's totals; the primary model is the one with the most requests, ties to the costlier (the
    summary's order: cost descending, then model id)."""
    primary = max(summary.models, key=lambda model: model.total_requests, default=None)
    return UserCostSummary(
        total_cost=summary.total_cost,
        total_requests=summary.total_requests,
        total_input_tokens=summary.input_tokens,
        total_output_tokens=summary.output_tokens,
        cache_savings=summary.cache_savings,
        primary_model=primary.model_id if primary else None,
    )


async def get_detail(*, users: UserRepository, costs: CostRepository, user_id: str, period: str) -> UserDetail:
    """The user's detail for `period` ("YYYY-MM"); UserNotFound (404) for a user who never signed in."""
    profile = await get_or_raise(users=users, user_id=user_id)
    cost_summary = cost_summary_of(await costs.get_summary(user_id, period))
    return UserDetail(
        profile=profile,
        cost_summary=cost_summary,
        quota_status=UserQuotaStatus(current_usage=cost_summary.total_cost),
        recent_events=[],
    )
