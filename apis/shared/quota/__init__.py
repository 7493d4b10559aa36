"""Quotas: tiers of spending limits, who gets which (assignments, overrides), the check made before a turn, the
log of warnings and blocks, and a month's usage grouped by tier (`usage_by_tier`).

A turn calls `enforcement.check_user` (resolve, read the spend, check), streams `checker.warning_event` or
`checker.exceeded_event`, and calls `enforcement.record_outcome`. The admin API uses `service`.
"""

from apis.shared.quota import enforcement, service
from apis.shared.quota.checker import (
    QuotaCheckResult,
    QuotaExceededEvent,
    QuotaWarningEvent,
    QuotaWindow,
    check_quota,
    exceeded_event,
    warning_event,
    window_of,
)
from apis.shared.quota.enforcement import (
    QuotaDecision,
    check_user,
    decide,
    record_outcome,
    user_quota_info,
    user_status,
)
from apis.shared.quota.exceptions import (
    AssignmentExists,
    AssignmentNotFound,
    OverrideNotFound,
    TierExists,
    TierInUse,
    TierNotFound,
    UnknownTier,
    UsageUnavailable,
)
from apis.shared.quota.models import (
    TIER_ID_PATTERN,
    AssignmentType,
    EffectiveTier,
    QuotaAssignment,
    QuotaEvent,
    QuotaEventType,
    QuotaOverride,
    QuotaTier,
    ResolvedQuota,
)
from apis.shared.quota.repository import (
    MAX_EVENT_PAGE,
    QuotaReader,
    QuotaRepository,
    in_end_order,
    in_priority_order,
)
from apis.shared.quota.resolver import first_applicable, matches_email_domain, resolve_quota
from apis.shared.quota.schemas import (
    QuotaAssignmentCreate,
    QuotaAssignmentUpdate,
    QuotaOverrideCreate,
    QuotaOverrideUpdate,
    QuotaStatusSummary,
    QuotaTierCreate,
    QuotaTierUpdate,
    UserQuotaInfo,
)
from apis.shared.quota.snapshot import QuotaSnapshot
from apis.shared.quota.tier_usage import Identify, Member, TierUsage, usage_by_tier
from apis.shared.quota.usage import Usage, usage_from_costs

__all__ = [
    "MAX_EVENT_PAGE",
    "TIER_ID_PATTERN",
    "AssignmentExists",
    "AssignmentNotFound",
    "AssignmentType",
    "EffectiveTier",
    "Identify",
    "Member",
    "OverrideNotFound",
    "QuotaAssignment",
    "QuotaAssignmentCreate",
    "QuotaAssignmentUpdate",
    "QuotaCheckResult",
    "QuotaDecision",
    "QuotaEvent",
    "QuotaEventType",
    "QuotaExceededEvent",
    "QuotaOverride",
    "QuotaOverrideCreate",
    "QuotaOverrideUpdate",
    "QuotaReader",
    "QuotaRepository",
    "QuotaSnapshot",
    "QuotaStatusSummary",
    "QuotaTier",
    "QuotaTierCreate",
    "QuotaTierUpdate",
    "QuotaWarningEvent",
    "QuotaWindow",
    "ResolvedQuota",
    "TierExists",
    "TierInUse",
    "TierNotFound",
    "TierUsage",
    "UnknownTier",
    "Usage",
    "UsageUnavailable",
    "UserQuotaInfo",
    "check_quota",
    "check_user",
    "decide",
    "enforcement",
    "exceeded_event",
    "first_applicable",
    "in_end_order",
    "in_priority_order",
    "matches_email_domain",
    "record_outcome",
    "resolve_quota",
    "service",
    "usage_by_tier",
    "usage_from_costs",
    "user_quota_info",
    "user_status",
    "warning_event",
    "window_of",
]
