"""Bodies of the quota admin API (the reference's fields) and the inspector's answer."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from apis.shared.partial_updates import PartialUpdate, merged
from apis.shared.quota.models import (
    DEFAULT_PRIORITY,
    ActionOnLimit,
    AssignmentTarget,
    Description,
    EffectiveTier,
    Limit,
    Moment,
    Name,
    OverrideFields,
    Percentage,
    PeriodType,
    Priority,
    QuotaAssignment,
    QuotaEvent,
    QuotaOverride,
    QuotaTier,
    Reason,
    TierFields,
    TierId,
)
from apis.shared.schemas import ApiModel


class QuotaTierCreate(TierFields):
    """A new tier; its id is the admin's choice (lower-case letters, digits, `_` and `-`)."""

    tier_id: TierId


class QuotaTierUpdate(PartialUpdate):
    """A partial update (see partial_updates.py): a null clears `description` or `dailyCostLimit`, and is a 422
    on any other field; the id never changes."""

    record: ClassVar[type[BaseModel]] = QuotaTier

    tier_name: Name | None = None
    description: Description | None = None
    monthly_cost_limit: Limit | None = None
    daily_cost_limit: Limit | None = None
    period_type: PeriodType | None = None
    soft_limit_percentage: Percentage | None = None
    action_on_limit: ActionOnLimit | None = None
    enabled: bool | None = None

    def apply_to(self, tier: QuotaTier, *, updated_at: str) -> QuotaTier:
        """`tier` with the sent fields replaced and `updatedAt` set, validated whole (InvalidInput, 422)."""
        return merged(tier, {**self.sent_fields(), "updated_at": updated_at})


class QuotaAssignmentCreate(AssignmentTarget):
    """A new assignment; its id is made by the server."""

    tier_id: TierId
    priority: Priority = DEFAULT_PRIORITY
    enabled: bool = True


class QuotaAssignmentUpdate(PartialUpdate):
    """Another tier, priority or switch; who the assignment is for never changes (delete and create instead)."""

    record: ClassVar[type[BaseModel]] = QuotaAssignment

    tier_id: TierId | None = None
    priority: Priority | None = None
    enabled: bool | None = None

    def apply_to(self, assignment: QuotaAssignment, *, updated_at: str) -> QuotaAssignment:
        return merged(assignment, {**self.sent_fields(), "updated_at": updated_at})


class QuotaOverrideCreate(OverrideFields):
    """A new override; its id is made by the server."""


class QuotaOverrideUpdate(PartialUpdate):
    """The end, the switch and the reason (the reference's three); the rest is fixed once made."""

    record: ClassVar[type[BaseModel]] = QuotaOverride

    valid_until: Moment | None = None
    enabled: bool | None = None
    reason: Reason | None = None

    def apply_to(self, override: QuotaOverride) -> QuotaOverride:
        """`override` with the sent fields replaced, validated whole: an end before the start is a 422."""
        return merged(override, self.sent_fields())


class UserQuotaInfo(ApiModel):
    """The inspector's view of one user: what applies and why, the figures of the period that binds most, and
    the blocks of the last 24 hours (`recentEvents`, `appRoles` and `warningLevel` are additions)."""

    user_id: str
    email: str
    roles: list[str]
    app_roles: list[str] = Field(default_factory=list)
    tier: EffectiveTier | None = None
    assignment: QuotaAssignment | None = None
    override: QuotaOverride | None = None
    matched_by: str | None = None
    current_period: str
    current_usage: float
    quota_limit: float | None = None
    percentage_used: float
    remaining: float | None = None
    warning_level: str = "none"
    recent_blocks: int = 0
    last_block_time: str | None = None
    recent_events: list[QuotaEvent] = Field(default_factory=list)


class QuotaStatusSummary(ApiModel):
    """A user's month against what applies, in the shape of the admin user page's `quotaStatus`."""

    tier_id: str | None = None
    tier_name: str | None = None
    matched_by: str | None = None
    monthly_limit: float | None = None
    current_usage: float = 0.0
    usage_percentage: float = 0.0
    remaining: float | None = None
    has_active_override: bool = False
    override_reason: str | None = None
