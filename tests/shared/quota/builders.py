"""Small builders of unique quota records, so that quota tests never collide on ids."""

from __future__ import annotations

import uuid
from datetime import timedelta

from apis.shared.clock import new_id, now_iso, to_iso, utc_now
from apis.shared.quota import (
    AssignmentType,
    QuotaAssignment,
    QuotaEvent,
    QuotaEventType,
    QuotaOverride,
    QuotaTier,
)

TARGET_FIELD = {
    AssignmentType.DIRECT_USER: "user_id",
    AssignmentType.APP_ROLE: "app_role_id",
    AssignmentType.JWT_ROLE: "jwt_role",
    AssignmentType.EMAIL_DOMAIN: "email_domain",
}


def random_tier_id() -> str:
    return f"tier-{uuid.uuid4().hex[:12]}"


def make_tier(tier_id: str | None = None, **fields: object) -> QuotaTier:
    """A stored-shape tier ($10 a month unless `fields` say otherwise)."""
    now = now_iso()
    values: dict[str, object] = {
        "tier_id": tier_id or random_tier_id(),
        "tier_name": "Standard",
        "monthly_cost_limit": 10.0,
        "created_at": now,
        "updated_at": now,
        "created_by": "admin",
    }
    return QuotaTier.model_validate({**values, **fields})


def make_assignment(
    tier_id: str,
    assignment_type: AssignmentType = AssignmentType.DEFAULT_TIER,
    target: str | None = None,
    **fields: object,
) -> QuotaAssignment:
    """A stored-shape assignment of `tier_id` for `target` (the field of `assignment_type`)."""
    now = now_iso()
    values: dict[str, object] = {
        "assignment_id": new_id(),
        "tier_id": tier_id,
        "assignment_type": assignment_type,
        "created_at": now,
        "updated_at": now,
        "created_by": "admin",
    }
    if assignment_type in TARGET_FIELD:
        values[TARGET_FIELD[assignment_type]] = target
    return QuotaAssignment.model_validate({**values, **fields})


def make_override(user_id: str, **fields: object) -> QuotaOverride:
    """An unlimited override of `user_id`, valid from an hour ago for a day, unless `fields` say otherwise."""
    now = utc_now()
    values: dict[str, object] = {
        "override_id": new_id(),
        "user_id": user_id,
        "override_type": "unlimited",
        "valid_from": to_iso(now - timedelta(hours=1)),
        "valid_until": to_iso(now + timedelta(days=1)),
        "reason": "conference week",
        "created_by": "admin",
        "created_at": to_iso(now),
    }
    return QuotaOverride.model_validate({**values, **fields})


def make_event(user_id: str, tier_id: str = "standard", **fields: object) -> QuotaEvent:
    """A warning of `user_id` at 85 % of $10, now, unless `fields` say otherwise."""
    values: dict[str, object] = {
        "event_id": new_id(),
        "user_id": user_id,
        "tier_id": tier_id,
        "event_type": QuotaEventType.WARNING,
        "current_usage": 8.5,
        "quota_limit": 10.0,
        "percentage_used": 85.0,
        "timestamp": now_iso(),
        "metadata": {"threshold": "80%", "tier_name": "Standard"},
    }
    return QuotaEvent.model_validate({**values, **fields})
