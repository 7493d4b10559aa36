"""Every tier, assignment and override, read once, to resolve many users' quotas without reading them again.

A report over many users (usage by tier) would read the same few records for each user. The snapshot answers
the reads `resolve_quota` makes (`QuotaReader`) from memory, so a report resolves each user through the same
code, in the same order, as a turn does against storage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from apis.shared.quota.models import AssignmentType, QuotaAssignment, QuotaOverride, QuotaTier
from apis.shared.quota.repository import QuotaRepository, in_end_order, in_priority_order


@dataclass(frozen=True, slots=True)
class QuotaSnapshot:
    """The quota records as read at one moment (three whole lists: tiers, assignments and overrides are
    admin-made and few); a QuotaReader."""

    tiers: Mapping[str, QuotaTier]
    # Each kind's and each target's assignments, in priority order.
    by_type: Mapping[AssignmentType, Sequence[QuotaAssignment]]
    by_target: Mapping[tuple[AssignmentType, str], Sequence[QuotaAssignment]]
    # Each user's overrides, the latest end first.
    overrides: Mapping[str, Sequence[QuotaOverride]]

    @classmethod
    async def load(cls, quotas: QuotaRepository) -> QuotaSnapshot:
        """Read every tier, assignment and override (one list each)."""
        tiers = {tier.tier_id: tier for tier in await quotas.list_tiers()}
        by_type: defaultdict[AssignmentType, list[QuotaAssignment]] = defaultdict(list)
        by_target: defaultdict[tuple[AssignmentType, str], list[QuotaAssignment]] = defaultdict(list)
        for assignment in in_priority_order(await quotas.list_assignments()):
            by_type[assignment.assignment_type].append(assignment)
            by_target[assignment.assignment_type, assignment.target].append(assignment)
        overrides: defaultdict[str, list[QuotaOverride]] = defaultdict(list)
        for override in in_end_order(await quotas.list_overrides()):
            overrides[override.user_id].append(override)
        return cls(tiers=tiers, by_type=dict(by_type), by_target=dict(by_target), overrides=dict(overrides))

    async def get_tier(self, tier_id: str) -> QuotaTier | None:
        return self.tiers.get(tier_id)

    async def list_assignments(self, assignment_type: AssignmentType | None = None) -> list[QuotaAssignment]:
        if assignment_type is None:
            return in_priority_order(found for kind in self.by_type.values() for found in kind)
        return list(self.by_type.get(assignment_type, ()))

    async def find_assignments(self, assignment_type: AssignmentType, target: str) -> list[QuotaAssignment]:
        return list(self.by_target.get((assignment_type, target), ()))

    async def list_overrides(self, user_id: str | None = None) -> list[QuotaOverride]:
        if user_id is None:
            return in_end_order(found for each in self.overrides.values() for found in each)
        return list(self.overrides.get(user_id, ()))
