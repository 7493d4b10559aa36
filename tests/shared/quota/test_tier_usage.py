"""Usage by tier over the in-memory fakes: users grouped by the tier that applies to them now, resolved against a
snapshot exactly as against storage, every page of the month's users read, limits and soft limits counted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from apis.shared.costs import CostEntry, InvalidPeriod, analytics
from apis.shared.quota import (
    AssignmentType,
    Member,
    QuotaSnapshot,
    TierUsage,
    resolve_quota,
    usage_by_tier,
)
from apis.shared.sessions.models import TokenUsage
from apis.shared.storage.memory.costs import InMemoryCostRepository
from apis.shared.storage.memory.quota import InMemoryQuotaRepository
from tests.shared.quota.builders import make_assignment, make_override, make_tier

NOW = datetime.now(UTC)
MONTH = NOW.strftime("%Y-%m")
MEMBERS = {
    "m1": Member(email="m1@uni.edu", jwt_roles=["member"], app_roles=["members"]),
    "m2": Member(email="m2@uni.edu", jwt_roles=["member"], app_roles=["members"]),
    "s1": Member(email="s1@staff.uni.edu", jwt_roles=["staff"]),
    "d1": Member(email="d1@uni.edu"),
    "o1": Member(email="o1@uni.edu", jwt_roles=["member"], app_roles=["members"]),
    "v1": Member(email="v1@example.com", jwt_roles=["Staff"]),
}


async def quota_setup() -> tuple[InMemoryQuotaRepository, str]:
    """gold ($10) for app role members, staff ($4, daily $1) for token role staff, uni ($2) for *.uni.edu,
    basic ($1) by default, spare ($5) for no one; an unlimited override for o1. The override's tier id."""
    quotas = InMemoryQuotaRepository()
    for tier_id, limit in (("gold", 10.0), ("staff", 4.0), ("uni", 2.0), ("basic", 1.0), ("spare", 5.0)):
        daily = {"daily_cost_limit": 1.0} if tier_id == "staff" else {}
        await quotas.create_tier(make_tier(tier_id, tier_name=tier_id.title(), monthly_cost_limit=limit, **daily))
    await quotas.create_assignment(make_assignment("gold", AssignmentType.APP_ROLE, "members"))
    await quotas.create_assignment(make_assignment("staff", AssignmentType.JWT_ROLE, "staff"))
    await quotas.create_assignment(make_assignment("uni", AssignmentType.EMAIL_DOMAIN, "*.uni.edu"))
    await quotas.create_assignment(make_assignment("basic"))
    # A disabled assignment of a higher priority is passed over, in the snapshot as in storage.
    await quotas.create_assignment(make_assignment("spare", priority=500, enabled=False))
    override = await quotas.create_override(make_override("o1"))
    return quotas, f"override_{override.override_id}"


async def spend(costs: InMemoryCostRepository, spent: Mapping[str, float], month: str = MONTH) -> None:
    for user_id, cost in spent.items():
        entry = CostEntry(
            user_id=user_id, period=month, model_id="m", provider="local", usage=TokenUsage(input_tokens=1), cost=cost
        )
        await costs.add(entry)


async def identify(user_ids: Sequence[str]) -> Mapping[str, Member]:
    return {user_id: MEMBERS[user_id] for user_id in user_ids if user_id in MEMBERS}


async def test_the_snapshot_resolves_every_user_as_storage_does() -> None:
    quotas, _ = await quota_setup()
    snapshot = await QuotaSnapshot.load(quotas)

    for user_id, member in {**MEMBERS, "stranger": Member()}.items():
        resolved = [
            await resolve_quota(
                quotas=source,
                user_id=user_id,
                email=member.email,
                jwt_roles=member.jwt_roles,
                app_roles=member.app_roles,
                now=NOW,
            )
            for source in (quotas, snapshot)
        ]
        assert resolved[0] is not None
        assert resolved[1] == resolved[0], user_id


async def test_users_are_grouped_by_the_tier_that_applies_with_their_standing() -> None:
    quotas, override_tier = await quota_setup()
    costs = InMemoryCostRepository()
    # m1 at 90 % of gold, m2 at 20 %; s1 over staff's month; d1 at half of uni; v1 (token role "Staff", not
    # "staff") and a user with no profile fall to basic, one past its limit; o1 unlimited.
    spent = {"m1": 9.0, "m2": 2.0, "s1": 4.5, "d1": 1.0, "o1": 30.0, "v1": 0.85, "ghost": 1.25}
    await spend(costs, spent)
    await spend(costs, {"m1": 100.0}, month="2020-01")  # another month's spend counts for nothing here

    usage = await usage_by_tier(quotas=quotas, costs=costs, period=MONTH, identify=identify, now=NOW)

    assert usage == [
        TierUsage(tier_id=override_tier, tier_name="Unlimited Override", total_cost=30.0, total_users=1),
        TierUsage(
            tier_id="gold", tier_name="Gold", total_cost=11.0, total_users=2, users_warned=1, avg_utilization=55.0
        ),
        TierUsage(
            tier_id="staff", tier_name="Staff", total_cost=4.5, total_users=1, users_at_limit=1, avg_utilization=112.5
        ),
        TierUsage(
            tier_id="basic",
            tier_name="Basic",
            total_cost=2.1,
            total_users=2,
            users_at_limit=1,
            users_warned=1,
            avg_utilization=105.0,
        ),
        TierUsage(tier_id="uni", tier_name="Uni", total_cost=1.0, total_users=1, avg_utilization=50.0),
        TierUsage(tier_id="spare", tier_name="Spare", total_cost=0.0, total_users=0),
    ]


async def test_every_page_of_the_months_users_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analytics, "EXPORT_PAGE_SIZE", 3)
    quotas, _ = await quota_setup()
    costs = InMemoryCostRepository()
    await spend(costs, {f"user-{index:02d}": 0.01 * (index + 1) for index in range(20)})
    pages: list[int] = []

    async def counting(user_ids: Sequence[str]) -> Mapping[str, Member]:
        pages.append(len(user_ids))
        return {}

    usage = await usage_by_tier(quotas=quotas, costs=costs, period=MONTH, identify=counting, now=NOW)

    (basic,) = [tier for tier in usage if tier.tier_id == "basic"]
    assert basic.total_users == 20
    assert basic.total_cost == pytest.approx(2.1)
    assert pages == [3] * 6 + [2]


async def test_without_any_quota_no_user_is_in_a_tier() -> None:
    costs = InMemoryCostRepository()
    await spend(costs, {"m1": 1.0})

    assert await usage_by_tier(quotas=InMemoryQuotaRepository(), costs=costs, period=MONTH, identify=identify) == []


async def test_a_month_that_has_not_begun_is_refused() -> None:
    following = (NOW.replace(day=1) + timedelta(days=32)).strftime("%Y-%m")

    with pytest.raises(InvalidPeriod):
        await usage_by_tier(
            quotas=InMemoryQuotaRepository(), costs=InMemoryCostRepository(), period=following, identify=identify
        )
    with pytest.raises(InvalidPeriod):
        await usage_by_tier(
            quotas=InMemoryQuotaRepository(), costs=InMemoryCostRepository(), period="2026-13", identify=identify
        )
