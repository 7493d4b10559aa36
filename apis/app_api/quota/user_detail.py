"""The quota half of an admin's user page (`GET /admin/users/{userId}`): `quotaStatus` and `recentEvents`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apis.shared.quota import QuotaRepository
from apis.shared.quota import enforcement as quota_enforcement
from apis.shared.users import UserDetail
from apis.shared.users import detail as users_detail

RECENT_EVENTS = 5


async def quota_fields(*, quotas: QuotaRepository, detail: UserDetail, app_roles: Sequence[str]) -> dict[str, Any]:
    """The user's month against what applies to them (their email and token roles as of their last sign-in, the
    app roles those map to) and their last five quota events, newest first, as the reference shows them."""
    profile = detail.profile
    status = await quota_enforcement.user_status(
        quotas=quotas,
        user_id=profile.user_id,
        email=profile.email,
        jwt_roles=profile.roles,
        app_roles=app_roles,
        monthly_usage=detail.cost_summary.total_cost,
    )
    events = await quotas.list_events(user_id=profile.user_id, limit=RECENT_EVENTS)
    return {
        "quota_status": users_detail.UserQuotaStatus.model_validate(status.model_dump()),
        "recent_events": [
            users_detail.QuotaEventSummary(
                event_id=event.event_id,
                event_type=event.event_type.value,
                timestamp=event.timestamp,
                percentage_used=event.percentage_used,
            )
            for event in events.items
        ],
    }
