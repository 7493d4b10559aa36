"""What a turn calls, and what admins inspect: resolve, read the spend, check, record the outcome.

`check_user` reads; `record_outcome` writes the event a check calls for: a block each time, a warning once per
tier, period and threshold (the reference records one at most once an hour). Storage failures propagate from
both: whether a turn goes on when recording fails is the turn's decision.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from apis.shared.clock import new_id, to_iso, utc_now
from apis.shared.quota.checker import NO_WARNING, QuotaCheckResult, check_quota, window_of
from apis.shared.quota.models import QuotaEvent, QuotaEventType, ResolvedQuota
from apis.shared.quota.repository import MAX_EVENT_PAGE, QuotaRepository
from apis.shared.quota.resolver import resolve_quota
from apis.shared.quota.schemas import QuotaStatusSummary, UserQuotaInfo
from apis.shared.quota.usage import Usage

# The namespace of warnings' ids (a fixed, random UUID): the id names what the warning is about, see `warning_id`.
_WARNING_IDS = uuid.UUID("5f0c2b8e-6a43-4d0e-9a55-3c1e2d7b9f10")
RECENT_BLOCKS_WINDOW = timedelta(hours=24)
RECENT_EVENTS = 10


@dataclass(frozen=True, slots=True)
class QuotaDecision:
    """What applies (None: no quota) and the check's result."""

    resolved: ResolvedQuota | None
    check: QuotaCheckResult


async def check_user(
    *,
    quotas: QuotaRepository,
    usage: Usage,
    user_id: str,
    email: str | None = None,
    jwt_roles: Sequence[str] = (),
    app_roles: Sequence[str] = (),
    now: datetime | None = None,
) -> QuotaDecision:
    """Resolve the user's quota (resolver.py), read the spend its limits need, and check it (checker.py)."""
    moment = now or utc_now()
    resolved = await resolve_quota(
        quotas=quotas, user_id=user_id, email=email, jwt_roles=jwt_roles, app_roles=app_roles, now=moment
    )
    return await decide(resolved, usage=usage, user_id=user_id, now=moment)


async def decide(resolved: ResolvedQuota | None, *, usage: Usage, user_id: str, now: datetime) -> QuotaDecision:
    """Check a resolved quota against the spend its limits need (a month's, and a day's for a daily limit)."""
    tier = resolved.tier if resolved else None
    monthly = daily = None
    if tier is not None and tier.monthly_cost_limit is not None:
        monthly = await usage(user_id, window_of("monthly", now))
    if tier is not None and tier.daily_cost_limit is not None:
        daily = await usage(user_id, window_of("daily", now))
    check = check_quota(tier, monthly_usage=monthly or 0.0, daily_usage=daily, now=now)
    return QuotaDecision(resolved=resolved, check=check)


def warning_id(*, user_id: str, tier_id: str, period: str, threshold: str) -> str:
    """The id of the one warning of a user, tier, period ("YYYY-MM", or "YYYY-MM-DD" for a daily limit) and
    threshold ("80%"): the same on every call and every process, so storage records it once (a UUIDv5)."""
    return str(uuid.uuid5(_WARNING_IDS, json.dumps([user_id, tier_id, period, threshold])))


def _event(
    user_id: str,
    decision: QuotaDecision,
    event_type: QuotaEventType,
    moment: datetime,
    *,
    event_id: str | None = None,
    **extra: object,
) -> QuotaEvent:
    check, resolved = decision.check, decision.resolved
    # Only a check against a limit calls for an event.
    assert check.tier is not None
    assert check.quota_limit is not None
    return QuotaEvent(
        event_id=event_id or new_id(),
        user_id=user_id,
        tier_id=check.tier.tier_id,
        event_type=event_type,
        current_usage=check.current_usage,
        quota_limit=check.quota_limit,
        percentage_used=check.percentage_used,
        timestamp=to_iso(moment),
        metadata={
            "tier_name": check.tier.tier_name,
            "matched_by": resolved.matched_by if resolved else None,
            "assignment_id": resolved.assignment.assignment_id if resolved and resolved.assignment else None,
            "period_type": check.period_type,
            "period": check.current_period,
            **extra,
        },
    )


async def record_outcome(
    *,
    quotas: QuotaRepository,
    user_id: str,
    decision: QuotaDecision,
    session_id: str | None = None,
    now: datetime | None = None,
) -> QuotaEvent | None:
    """Record a `block` for a refused check, and a `warning` for a check past the soft limit unless the user's
    warning of that tier, period and threshold is stored already (by any process: its id is the claim, see
    `warning_id`); None when nothing was recorded."""
    moment = now or utc_now()
    check = decision.check
    if not check.allowed:
        event = _event(user_id, decision, QuotaEventType.BLOCK, moment, session_id=session_id)
        await quotas.record_event(event)
        return event
    if check.warning_level == NO_WARNING or check.quota_limit is None or check.tier is None:
        return None
    event_id = warning_id(
        user_id=user_id, tier_id=check.tier.tier_id, period=check.current_period, threshold=check.warning_level
    )
    event = _event(
        user_id,
        decision,
        QuotaEventType.WARNING,
        moment,
        event_id=event_id,
        session_id=session_id,
        threshold=check.warning_level,
    )
    return event if await quotas.record_event_once(event) else None


async def user_quota_info(
    *,
    quotas: QuotaRepository,
    usage: Usage,
    user_id: str,
    email: str | None,
    jwt_roles: Sequence[str],
    app_roles: Sequence[str],
    now: datetime | None = None,
) -> UserQuotaInfo:
    """The inspector's view: what applies and why, the binding period's figures, the last day's blocks."""
    moment = now or utc_now()
    decision = await check_user(
        quotas=quotas, usage=usage, user_id=user_id, email=email, jwt_roles=jwt_roles, app_roles=app_roles, now=moment
    )
    blocks = await quotas.list_events(
        user_id=user_id,
        event_type=QuotaEventType.BLOCK,
        since=to_iso(moment - RECENT_BLOCKS_WINDOW),
        limit=MAX_EVENT_PAGE,
    )
    recent = await quotas.list_events(user_id=user_id, limit=RECENT_EVENTS)
    resolved, check = decision.resolved, decision.check
    return UserQuotaInfo(
        user_id=user_id,
        email=email or "",
        roles=list(jwt_roles),
        app_roles=list(app_roles),
        tier=resolved.tier if resolved else None,
        assignment=resolved.assignment if resolved else None,
        override=resolved.override if resolved else None,
        matched_by=resolved.matched_by if resolved else None,
        current_period=check.current_period,
        current_usage=check.current_usage,
        quota_limit=check.quota_limit,
        percentage_used=check.percentage_used,
        remaining=check.remaining,
        warning_level=check.warning_level,
        recent_blocks=len(blocks.items),
        last_block_time=blocks.items[0].timestamp if blocks.items else None,
        recent_events=recent.items,
    )


async def user_status(
    *,
    quotas: QuotaRepository,
    user_id: str,
    email: str | None,
    jwt_roles: Sequence[str],
    app_roles: Sequence[str],
    monthly_usage: float,
    now: datetime | None = None,
) -> QuotaStatusSummary:
    """The admin user page's `quotaStatus`: the month's spend against the monthly limit of what applies, as the
    reference shows it (no limit: zero per cent and nothing remaining)."""
    resolved = await resolve_quota(
        quotas=quotas, user_id=user_id, email=email, jwt_roles=jwt_roles, app_roles=app_roles, now=now
    )
    if resolved is None:
        return QuotaStatusSummary(current_usage=monthly_usage)
    limit = resolved.tier.monthly_cost_limit
    return QuotaStatusSummary(
        tier_id=resolved.tier.tier_id,
        tier_name=resolved.tier.tier_name,
        matched_by=resolved.matched_by,
        monthly_limit=limit,
        current_usage=monthly_usage,
        usage_percentage=round(monthly_usage / limit * 100, 1) if limit else 0.0,
        remaining=max(0.0, limit - monthly_usage) if limit else None,
        has_active_override=resolved.override is not None,
        override_reason=resolved.override.reason if resolved.override else None,
    )
