"""Which quota applies to a user: the reference's resolver, in its order.

`resolve_quota` reads only what it needs, kind by kind, and stops at the first kind that yields a tier; the
choice within a kind is the pure `first_applicable`, shared with the property tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from apis.shared.clock import to_iso, utc_now
from apis.shared.quota.models import (
    REGEX_PREFIX,
    AssignmentType,
    EffectiveTier,
    QuotaAssignment,
    QuotaOverride,
    QuotaTier,
    ResolvedQuota,
)
from apis.shared.quota.repository import QuotaReader, in_end_order, in_priority_order


def active_override(overrides: Iterable[QuotaOverride], moment: str) -> QuotaOverride | None:
    """The enabled override whose validity holds `moment`; of several, the one that ends last (then the newest)."""
    return next((override for override in in_end_order(overrides) if override.active_at(moment)), None)


def first_applicable(
    candidates: Iterable[QuotaAssignment], tiers: Mapping[str, QuotaTier]
) -> tuple[QuotaAssignment, QuotaTier] | None:
    """The first candidate in priority order (`in_priority_order`) that is enabled and whose tier exists and is
    enabled, with that tier; None when none is."""
    for assignment in in_priority_order(candidates):
        tier = tiers.get(assignment.tier_id)
        if assignment.enabled and tier is not None and tier.enabled:
            return assignment, tier
    return None


def email_domain(email: str | None) -> str | None:
    """The lower-cased part after the last "@"; None without one."""
    if not email or "@" not in email:
        return None
    return email.rpartition("@")[2].strip().lower() or None


def matches_email_domain(domain: str, pattern: str) -> bool:
    """Whether `domain` (lower case) matches an assignment's pattern: `regex:<expression>` matched from the
    start, ignoring case; otherwise any of its comma-separated parts, each a domain (equal) or `*.domain` (that
    domain or any subdomain of it)."""
    if pattern.startswith(REGEX_PREFIX):
        return re.match(pattern.removeprefix(REGEX_PREFIX), domain, re.IGNORECASE) is not None
    for part in (part.strip().lower() for part in pattern.split(",")):
        if part.startswith("*."):
            base = part[2:]
            if domain == base or domain.endswith(f".{base}"):
                return True
        elif domain == part:
            return True
    return False


async def _tiers_of(quotas: QuotaReader, candidates: Sequence[QuotaAssignment]) -> dict[str, QuotaTier]:
    """The tiers the enabled candidates name, each read once."""
    tiers: dict[str, QuotaTier] = {}
    for tier_id in dict.fromkeys(candidate.tier_id for candidate in candidates if candidate.enabled):
        tier = await quotas.get_tier(tier_id)
        if tier is not None:
            tiers[tier_id] = tier
    return tiers


async def _pick(quotas: QuotaReader, candidates: Sequence[QuotaAssignment]) -> tuple[QuotaAssignment, QuotaTier] | None:
    return first_applicable(candidates, await _tiers_of(quotas, candidates)) if candidates else None


def _matched_by(assignment: QuotaAssignment) -> str:
    if assignment.assignment_type in (AssignmentType.DIRECT_USER, AssignmentType.DEFAULT_TIER):
        return assignment.assignment_type.value
    return f"{assignment.assignment_type.value}:{assignment.target}"


async def resolve_quota(
    *,
    quotas: QuotaReader,
    user_id: str,
    email: str | None = None,
    jwt_roles: Sequence[str] = (),
    app_roles: Sequence[str] = (),
    now: datetime | None = None,
) -> ResolvedQuota | None:
    """What applies to the user, or None when nothing does (no quota: every request is allowed).

    The order is the reference's; the first step that yields something wins:

    1. an active override of the user (enabled, `now` within [validFrom, validUntil]); of several, the one that
       ends last. An unlimited override has no limit; a custom one has its own limits.
    2. the user's direct assignment (a user has at most one);
    3. the assignments of the user's app roles (`app_roles`: the ids of the app roles that apply to the caller,
       `EffectivePermissions.appRoles`), all of them together;
    4. the assignments of the user's token roles (`jwt_roles`: the token's roles, exact and case-sensitive);
    5. the email-domain assignments whose pattern matches the user's email domain;
    6. the default-tier assignments.

    Within a step, the candidates are taken by priority, highest first (ties: the oldest assignment first), and
    the first one that is enabled and whose tier exists and is enabled wins; a step without such a candidate
    falls through to the next. Only a user's own override and direct assignment, and the assignments of their
    roles, are read by key; the domain and default steps read the assignments of their type.
    """
    moment = to_iso(now or utc_now())
    override = active_override(await quotas.list_overrides(user_id), moment)
    if override is not None:
        return ResolvedQuota(
            user_id=user_id, tier=EffectiveTier.of_override(override), matched_by="override", override=override
        )
    steps: list[tuple[AssignmentType, Sequence[str]]] = [
        (AssignmentType.DIRECT_USER, [user_id]),
        (AssignmentType.APP_ROLE, list(dict.fromkeys(app_roles))),
        (AssignmentType.JWT_ROLE, list(dict.fromkeys(jwt_roles))),
    ]
    for assignment_type, targets in steps:
        candidates = [found for target in targets for found in await quotas.find_assignments(assignment_type, target)]
        picked = await _pick(quotas, candidates)
        if picked is not None:
            return _resolved(user_id, *picked)
    domain = email_domain(email)
    if domain is not None:
        by_domain = await quotas.list_assignments(AssignmentType.EMAIL_DOMAIN)
        matching = [
            found for found in by_domain if found.email_domain and matches_email_domain(domain, found.email_domain)
        ]
        picked = await _pick(quotas, matching)
        if picked is not None:
            return _resolved(user_id, *picked)
    picked = await _pick(quotas, await quotas.list_assignments(AssignmentType.DEFAULT_TIER))
    return _resolved(user_id, *picked) if picked is not None else None


def _resolved(user_id: str, assignment: QuotaAssignment, tier: QuotaTier) -> ResolvedQuota:
    return ResolvedQuota(
        user_id=user_id, tier=EffectiveTier.of_tier(tier), matched_by=_matched_by(assignment), assignment=assignment
    )
