"""Quota administration: tiers, assignments, overrides and the event log, as the admin API uses them.

Every update is validated as the whole record it would store first (InvalidInput, 422), on every backend, so
nothing that cannot be read back is written. Resolution and the check are in resolver.py and checker.py; what a
turn calls is in enforcement.py.
"""

from __future__ import annotations

from datetime import datetime

from apis.shared.clock import new_id, now_iso, to_iso, utc_now
from apis.shared.pagination import Page
from apis.shared.quota.exceptions import AssignmentNotFound, OverrideNotFound, TierNotFound
from apis.shared.quota.models import (
    AssignmentType,
    QuotaAssignment,
    QuotaEvent,
    QuotaEventType,
    QuotaOverride,
    QuotaTier,
)
from apis.shared.quota.repository import QuotaRepository
from apis.shared.quota.schemas import (
    QuotaAssignmentCreate,
    QuotaAssignmentUpdate,
    QuotaOverrideCreate,
    QuotaOverrideUpdate,
    QuotaTierCreate,
    QuotaTierUpdate,
)


async def create_tier(*, quotas: QuotaRepository, tier_in: QuotaTierCreate, created_by: str) -> QuotaTier:
    """Store a new tier; TierExists (409) if the id is taken."""
    now = now_iso()
    tier = QuotaTier(**tier_in.model_dump(), created_at=now, updated_at=now, created_by=created_by)
    return await quotas.create_tier(tier)


async def get_tier_or_raise(*, quotas: QuotaRepository, tier_id: str) -> QuotaTier:
    """The tier, or TierNotFound (404)."""
    tier = await quotas.get_tier(tier_id)
    if tier is None:
        raise TierNotFound(f"tier {tier_id} not found")
    return tier


async def list_tiers(*, quotas: QuotaRepository, enabled_only: bool = False) -> list[QuotaTier]:
    """Every tier by id, or the enabled ones."""
    return [tier for tier in await quotas.list_tiers() if tier.enabled or not enabled_only]


async def update_tier(*, quotas: QuotaRepository, tier_id: str, changes: QuotaTierUpdate) -> QuotaTier:
    """Apply the sent fields; TierNotFound (404), InvalidInput (422) if the tier would not be valid."""
    current = await get_tier_or_raise(quotas=quotas, tier_id=tier_id)
    changes.apply_to(current, updated_at=current.updated_at)  # only to validate: the repository writes it
    updated = await quotas.update_tier(tier_id, changes)
    if updated is None:
        raise TierNotFound(f"tier {tier_id} not found")
    return updated


async def delete_tier(*, quotas: QuotaRepository, tier_id: str) -> None:
    """Remove a tier no assignment names; TierInUse (409) while one does, TierNotFound (404)."""
    if not await quotas.delete_tier(tier_id):
        raise TierNotFound(f"tier {tier_id} not found")


async def create_assignment(
    *, quotas: QuotaRepository, assignment_in: QuotaAssignmentCreate, created_by: str
) -> QuotaAssignment:
    """Store a new assignment; UnknownTier (400), AssignmentExists (409) for a user's or app role's second."""
    now = now_iso()
    assignment = QuotaAssignment(
        **assignment_in.model_dump(), assignment_id=new_id(), created_at=now, updated_at=now, created_by=created_by
    )
    return await quotas.create_assignment(assignment)


async def get_assignment_or_raise(*, quotas: QuotaRepository, assignment_id: str) -> QuotaAssignment:
    """The assignment, or AssignmentNotFound (404)."""
    assignment = await quotas.get_assignment(assignment_id)
    if assignment is None:
        raise AssignmentNotFound(f"assignment {assignment_id} not found")
    return assignment


async def list_assignments(
    *,
    quotas: QuotaRepository,
    assignment_type: AssignmentType | None = None,
    tier_id: str | None = None,
    enabled_only: bool = False,
) -> list[QuotaAssignment]:
    """Assignments in priority order, of one type and one tier if asked, enabled ones only if asked."""
    return [
        assignment
        for assignment in await quotas.list_assignments(assignment_type)
        if (tier_id is None or assignment.tier_id == tier_id) and (assignment.enabled or not enabled_only)
    ]


async def update_assignment(
    *, quotas: QuotaRepository, assignment_id: str, changes: QuotaAssignmentUpdate
) -> QuotaAssignment:
    """Another tier, priority or switch; AssignmentNotFound (404), UnknownTier (400), InvalidInput (422)."""
    current = await get_assignment_or_raise(quotas=quotas, assignment_id=assignment_id)
    changes.apply_to(current, updated_at=current.updated_at)  # only to validate
    updated = await quotas.update_assignment(assignment_id, changes)
    if updated is None:
        raise AssignmentNotFound(f"assignment {assignment_id} not found")
    return updated


async def delete_assignment(*, quotas: QuotaRepository, assignment_id: str) -> None:
    """Remove an assignment; AssignmentNotFound (404)."""
    if not await quotas.delete_assignment(assignment_id):
        raise AssignmentNotFound(f"assignment {assignment_id} not found")


async def create_override(
    *, quotas: QuotaRepository, override_in: QuotaOverrideCreate, created_by: str
) -> QuotaOverride:
    """Store a new override, enabled."""
    override = QuotaOverride(
        **override_in.model_dump(), override_id=new_id(), created_by=created_by, created_at=now_iso(), enabled=True
    )
    return await quotas.create_override(override)


async def get_override_or_raise(*, quotas: QuotaRepository, override_id: str) -> QuotaOverride:
    """The override, or OverrideNotFound (404)."""
    override = await quotas.get_override(override_id)
    if override is None:
        raise OverrideNotFound(f"override {override_id} not found")
    return override


async def list_overrides(
    *, quotas: QuotaRepository, user_id: str | None = None, active_only: bool = False, now: datetime | None = None
) -> list[QuotaOverride]:
    """Overrides, the latest ending first: every one or one user's, those active at `now` only if asked."""
    moment = to_iso(now or utc_now())
    return [
        override for override in await quotas.list_overrides(user_id) if override.active_at(moment) or not active_only
    ]


async def update_override(*, quotas: QuotaRepository, override_id: str, changes: QuotaOverrideUpdate) -> QuotaOverride:
    """Another end, switch or reason; OverrideNotFound (404), InvalidInput (422) for an end before the start."""
    current = await get_override_or_raise(quotas=quotas, override_id=override_id)
    changes.apply_to(current)  # only to validate: validFrom never changes, so this holds when written
    updated = await quotas.update_override(override_id, changes)
    if updated is None:
        raise OverrideNotFound(f"override {override_id} not found")
    return updated


async def delete_override(*, quotas: QuotaRepository, override_id: str) -> None:
    """Remove an override; OverrideNotFound (404)."""
    if not await quotas.delete_override(override_id):
        raise OverrideNotFound(f"override {override_id} not found")


async def list_events(
    *,
    quotas: QuotaRepository,
    user_id: str | None = None,
    tier_id: str | None = None,
    event_type: QuotaEventType | None = None,
    limit: int,
    page_token: str | None = None,
) -> Page[QuotaEvent]:
    """Events newest first, filtered as asked; every event when no filter is given (the reference answers none)."""
    return await quotas.list_events(
        user_id=user_id, tier_id=tier_id, event_type=event_type, limit=limit, page_token=page_token
    )
