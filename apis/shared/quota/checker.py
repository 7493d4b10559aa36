"""The check made before a turn, as pure functions: what applies and what the user spent in, out, the decision
with the figures the reference's events carry.

A tier's monthly limit is checked against the UTC month's spend, and its daily limit, when it has one, against
the UTC day's. The figures reported are those of the period that binds most: an exceeded period (the one that
resets last, when both are), else the one most used, ties to the tier's `periodType`. Warnings start at the
tier's soft limit, as the reference: level "90%" from 90 % on when the soft limit is at most 90, otherwise the
soft limit itself ("80%" for the default 80).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from apis.shared.clock import to_iso
from apis.shared.quota.exceptions import UsageUnavailable
from apis.shared.quota.models import EffectiveTier, PeriodType
from apis.shared.schemas import ApiModel

NO_WARNING = "none"


@dataclass(frozen=True, slots=True)
class QuotaWindow:
    """One UTC period: its key as the costs domain names it ("YYYY-MM" or "YYYY-MM-DD") and when it resets."""

    period_type: PeriodType
    key: str
    starts_at: datetime
    resets_at: datetime


def window_of(period_type: PeriodType, now: datetime) -> QuotaWindow:
    """The UTC month or day that holds `now`."""
    moment = now.astimezone(UTC)
    if period_type == "daily":
        start = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
        return QuotaWindow("daily", start.date().isoformat(), start, start + timedelta(days=1))
    start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    following = datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)
    return QuotaWindow("monthly", start.date().isoformat()[:7], start, following)


class QuotaCheckResult(ApiModel):
    """The decision. `allowed` is False only past a limit of a tier that blocks; `exceeded` says a limit is
    reached whatever the tier does about it. Limits, remaining and reset are None when no limit applies."""

    allowed: bool
    message: str
    tier: EffectiveTier | None = None
    current_usage: float = 0.0
    quota_limit: float | None = None
    percentage_used: float = 0.0
    remaining: float | None = None
    warning_level: str = NO_WARNING
    exceeded: bool = False
    period_type: PeriodType = "monthly"
    current_period: str = ""
    resets_at: str | None = None
    reset_info: str | None = None
    retry_after_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class _Measure:
    window: QuotaWindow
    limit: float
    usage: float

    @property
    def percentage(self) -> float:
        # Rounded, so that $0.009 of $0.01 is 90 %, not the 89.999... of binary floating point.
        return round(self.usage / self.limit * 100, 9)

    @property
    def exceeded(self) -> bool:
        return self.usage >= self.limit


def warning_level(percentage_used: float, soft_limit_percentage: float) -> str:
    """ "none" below the soft limit; then "90%" from 90 % (when the soft limit is at most 90), else the soft limit."""
    if percentage_used < soft_limit_percentage:
        return NO_WARNING
    if percentage_used >= 90 and soft_limit_percentage <= 90:
        return "90%"
    return f"{int(soft_limit_percentage)}%"


def reset_info(window: QuotaWindow, now: datetime) -> str:
    """The sentence the reference shows: midnight UTC for a day, the days left for a month."""
    if window.period_type == "daily":
        return "Your quota resets at midnight UTC."
    days = max(1, math.ceil((window.resets_at - now) / timedelta(days=1)))
    return f"Your quota resets in {days} day(s)."


def _binding(measures: list[_Measure], preferred: PeriodType) -> _Measure:
    exceeded = [measure for measure in measures if measure.exceeded]
    if exceeded:
        return max(exceeded, key=lambda measure: measure.window.resets_at)
    return max(measures, key=lambda measure: (measure.percentage, measure.window.period_type == preferred))


def _message(measure: _Measure, tier: EffectiveTier, level: str) -> str:
    figures = f"${measure.usage:.2f} / ${measure.limit:.2f}"
    if measure.exceeded:
        if tier.action_on_limit == "block":
            return f"Quota exceeded: {figures} ({measure.window.period_type})"
        return f"Warning: Quota limit reached ({figures})"
    return f"Warning: {level} quota used ({figures})" if level != NO_WARNING else "Within quota"


def check_quota(
    tier: EffectiveTier | None, *, monthly_usage: float, daily_usage: float | None = None, now: datetime
) -> QuotaCheckResult:
    """Decide a request of a user to whom `tier` applies (None: no quota) who spent `monthly_usage` USD this UTC
    month and `daily_usage` today. `daily_usage` is needed only when the tier has a daily limit
    (`UsageUnavailable` without it)."""
    month = window_of("monthly", now)
    if tier is None:
        return QuotaCheckResult(allowed=True, message="No quota configured", current_period=month.key)
    measures = []
    if tier.monthly_cost_limit is not None:
        measures.append(_Measure(month, tier.monthly_cost_limit, monthly_usage))
    if tier.daily_cost_limit is not None:
        if daily_usage is None:
            raise UsageUnavailable(f"tier {tier.tier_id} has a daily limit and the day's spend is not known")
        measures.append(_Measure(window_of("daily", now), tier.daily_cost_limit, daily_usage))
    if not measures:
        return QuotaCheckResult(allowed=True, message="Unlimited quota", tier=tier, current_period=month.key)
    measure = _binding(measures, tier.period_type)
    level = warning_level(measure.percentage, tier.soft_limit_percentage)
    return QuotaCheckResult(
        allowed=not (measure.exceeded and tier.action_on_limit == "block"),
        message=_message(measure, tier, level),
        tier=tier,
        current_usage=measure.usage,
        quota_limit=measure.limit,
        percentage_used=measure.percentage,
        remaining=max(0.0, measure.limit - measure.usage),
        warning_level=level,
        exceeded=measure.exceeded,
        period_type=measure.window.period_type,
        current_period=measure.window.key,
        resets_at=to_iso(measure.window.resets_at),
        reset_info=reset_info(measure.window, now),
        retry_after_seconds=max(1, math.ceil((measure.window.resets_at - now).total_seconds())),
    )


class QuotaWarningEvent(ApiModel):
    """The data of the `quota_warning` SSE event (API.md), sent first when past the soft limit."""

    type: Literal["quota_warning"] = "quota_warning"
    warning_level: str
    current_usage: float
    quota_limit: float
    percentage_used: float
    remaining: float
    message: str


class QuotaExceededEvent(ApiModel):
    """The data of the `quota_exceeded` SSE event (API.md): the turn is refused, the provider not called."""

    type: Literal["quota_exceeded"] = "quota_exceeded"
    message: str
    current_usage: float
    quota_limit: float
    percentage_used: float
    period_type: PeriodType
    tier_name: str | None
    reset_info: str


def warning_event(check: QuotaCheckResult) -> QuotaWarningEvent | None:
    """The warning to stream before an allowed turn, or None below the soft limit."""
    if check.warning_level == NO_WARNING or check.quota_limit is None:
        return None
    return QuotaWarningEvent(
        warning_level=check.warning_level,
        current_usage=check.current_usage,
        quota_limit=check.quota_limit,
        percentage_used=check.percentage_used,
        remaining=check.remaining or 0.0,
        message=(
            f"You have used {check.warning_level} of your quota (${check.current_usage:.2f} / ${check.quota_limit:.2f})"
        ),
    )


def exceeded_event(check: QuotaCheckResult) -> QuotaExceededEvent:
    """The refusal to stream in place of an answer (its message reads as one, in Markdown); for a refused check."""
    limit = check.quota_limit or 0.0
    tier_name = check.tier.tier_name if check.tier else None
    message = (
        f"I'm sorry, but you've reached your usage limit for **{tier_name or 'your plan'}**.\n\n"
        "**Current Usage**\n"
        "| Metric | Value |\n|--------|-------|\n"
        f"| Used | **${check.current_usage:.2f}** |\n| Limit | ${limit:.2f} |\n"
        f"| Usage | {int(check.percentage_used)}% |\n\n"
        f"**What's Next?**\n- {check.reset_info or ''}\n"
        "- If you need additional capacity, please contact your administrator."
    )
    return QuotaExceededEvent(
        message=message,
        current_usage=check.current_usage,
        quota_limit=limit,
        percentage_used=check.percentage_used,
        period_type=check.period_type,
        tier_name=tier_name,
        reset_info=check.reset_info or "",
    )
