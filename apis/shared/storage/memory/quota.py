"""A dict-backed QuotaRepository: the fake that service tests use, held to the same contract suite."""

from __future__ import annotations

from apis.shared.clock import now_iso
from apis.shared.pagination import Page
from apis.shared.quota.exceptions import AssignmentExists, TierExists, TierInUse, UnknownTier
from apis.shared.quota.models import (
    AssignmentType,
    QuotaAssignment,
    QuotaEvent,
    QuotaEventType,
    QuotaOverride,
    QuotaTier,
)
from apis.shared.quota.repository import (
    UNIQUE_TARGET_TYPES,
    event_cursor,
    event_token,
    in_end_order,
    in_priority_order,
)
from apis.shared.quota.schemas import QuotaAssignmentUpdate, QuotaOverrideUpdate, QuotaTierUpdate


class InMemoryQuotaRepository:
    """Keeps everything in one process; hands out copies, as a real backend would."""

    def __init__(self) -> None:
        self._tiers: dict[str, QuotaTier] = {}
        self._assignments: dict[str, QuotaAssignment] = {}
        self._overrides: dict[str, QuotaOverride] = {}
        self._events: dict[str, QuotaEvent] = {}

    async def get_tier(self, tier_id: str) -> QuotaTier | None:
        tier = self._tiers.get(tier_id)
        return tier.model_copy(deep=True) if tier is not None else None

    async def list_tiers(self) -> list[QuotaTier]:
        return [self._tiers[tier_id].model_copy(deep=True) for tier_id in sorted(self._tiers)]

    async def create_tier(self, tier: QuotaTier) -> QuotaTier:
        if tier.tier_id in self._tiers:
            raise TierExists(f"tier {tier.tier_id} exists already")
        self._tiers[tier.tier_id] = tier.model_copy(deep=True)
        return tier

    async def update_tier(self, tier_id: str, changes: QuotaTierUpdate) -> QuotaTier | None:
        current = self._tiers.get(tier_id)
        if current is None:
            return None
        self._tiers[tier_id] = changes.apply_to(current, updated_at=now_iso())
        return self._tiers[tier_id].model_copy(deep=True)

    async def delete_tier(self, tier_id: str) -> bool:
        if tier_id not in self._tiers:
            return False
        if any(assignment.tier_id == tier_id for assignment in self._assignments.values()):
            raise TierInUse(f"tier {tier_id} is assigned: delete or reassign its assignments first")
        del self._tiers[tier_id]
        return True

    async def get_assignment(self, assignment_id: str) -> QuotaAssignment | None:
        assignment = self._assignments.get(assignment_id)
        return assignment.model_copy(deep=True) if assignment is not None else None

    async def list_assignments(self, assignment_type: AssignmentType | None = None) -> list[QuotaAssignment]:
        return in_priority_order(
            assignment.model_copy(deep=True)
            for assignment in self._assignments.values()
            if assignment_type is None or assignment.assignment_type == assignment_type
        )

    async def find_assignments(self, assignment_type: AssignmentType, target: str) -> list[QuotaAssignment]:
        return [found for found in await self.list_assignments(assignment_type) if found.target == target]

    async def create_assignment(self, assignment: QuotaAssignment) -> QuotaAssignment:
        if assignment.tier_id not in self._tiers:
            raise UnknownTier(f"tier {assignment.tier_id} does not exist")
        if assignment.assignment_type in UNIQUE_TARGET_TYPES and await self.find_assignments(
            assignment.assignment_type, assignment.target
        ):
            raise AssignmentExists(f"{assignment.target} has a {assignment.assignment_type.value} assignment already")
        self._assignments[assignment.assignment_id] = assignment.model_copy(deep=True)
        return assignment

    async def update_assignment(self, assignment_id: str, changes: QuotaAssignmentUpdate) -> QuotaAssignment | None:
        current = self._assignments.get(assignment_id)
        if current is None:
            return None
        updated = changes.apply_to(current, updated_at=now_iso())
        if updated.tier_id not in self._tiers:
            raise UnknownTier(f"tier {updated.tier_id} does not exist")
        self._assignments[assignment_id] = updated
        return updated.model_copy(deep=True)

    async def delete_assignment(self, assignment_id: str) -> bool:
        return self._assignments.pop(assignment_id, None) is not None

    async def get_override(self, override_id: str) -> QuotaOverride | None:
        override = self._overrides.get(override_id)
        return override.model_copy(deep=True) if override is not None else None

    async def list_overrides(self, user_id: str | None = None) -> list[QuotaOverride]:
        return in_end_order(
            override.model_copy(deep=True)
            for override in self._overrides.values()
            if user_id is None or override.user_id == user_id
        )

    async def create_override(self, override: QuotaOverride) -> QuotaOverride:
        self._overrides[override.override_id] = override.model_copy(deep=True)
        return override

    async def update_override(self, override_id: str, changes: QuotaOverrideUpdate) -> QuotaOverride | None:
        current = self._overrides.get(override_id)
        if current is None:
            return None
        self._overrides[override_id] = changes.apply_to(current)
        return self._overrides[override_id].model_copy(deep=True)

    async def delete_override(self, override_id: str) -> bool:
        return self._overrides.pop(override_id, None) is not None

    async def record_event(self, event: QuotaEvent) -> None:
        self._events[event.event_id] = event.model_copy(deep=True)

    async def record_event_once(self, event: QuotaEvent) -> bool:
        # No await between the test and the store: one event loop cannot interleave two calls here.
        if event.event_id in self._events:
            return False
        self._events[event.event_id] = event.model_copy(deep=True)
        return True

    async def list_events(
        self,
        *,
        user_id: str | None = None,
        tier_id: str | None = None,
        event_type: QuotaEventType | None = None,
        since: str | None = None,
        limit: int,
        page_token: str | None = None,
    ) -> Page[QuotaEvent]:
        below = event_cursor(page_token)
        matching = sorted(
            (
                event
                for event in self._events.values()
                if (user_id is None or event.user_id == user_id)
                and (tier_id is None or event.tier_id == tier_id)
                and (event_type is None or event.event_type == event_type)
                and (since is None or event.timestamp >= since)
                and (below is None or (event.timestamp, event.event_id) < below)
            ),
            key=lambda event: (event.timestamp, event.event_id),
            reverse=True,
        )
        page = [event.model_copy(deep=True) for event in matching[:limit]]
        more = len(matching) > limit
        return Page(items=page, next_token=event_token(page[-1]) if more else None)
