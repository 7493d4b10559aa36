"""The QuotaRepository contract: tiers and assignments, run against the in-memory fake, SQLite and DynamoDB (moto)."""

from __future__ import annotations

import asyncio

import pytest

from apis.shared.quota import (
    AssignmentExists,
    AssignmentType,
    QuotaAssignmentUpdate,
    QuotaRepository,
    QuotaTierUpdate,
    TierExists,
    TierInUse,
    UnknownTier,
)
from tests.helpers import random_user_id
from tests.shared.quota.builders import make_assignment, make_tier, random_tier_id


async def test_a_created_tier_reads_back_as_it_was_given(quota_repository: QuotaRepository) -> None:
    tier = make_tier(
        description="for staff",
        monthly_cost_limit=12.34,
        daily_cost_limit=0.5,
        period_type="daily",
        soft_limit_percentage=72.5,
        action_on_limit="warn",
        enabled=False,
    )

    assert await quota_repository.create_tier(tier) == tier
    assert await quota_repository.get_tier(tier.tier_id) == tier
    assert await quota_repository.get_tier(random_tier_id()) is None


async def test_tiers_are_listed_by_id(quota_repository: QuotaRepository) -> None:
    tiers = [make_tier(f"b-{random_tier_id()}"), make_tier(f"a-{random_tier_id()}"), make_tier(f"c-{random_tier_id()}")]
    for tier in tiers:
        await quota_repository.create_tier(tier)

    listed = await quota_repository.list_tiers()

    assert listed == sorted(tiers, key=lambda tier: tier.tier_id)


async def test_a_taken_tier_id_is_refused_and_the_first_tier_kept(quota_repository: QuotaRepository) -> None:
    first = make_tier(tier_name="First")
    await quota_repository.create_tier(first)

    with pytest.raises(TierExists):
        await quota_repository.create_tier(make_tier(first.tier_id, tier_name="Second"))

    assert await quota_repository.get_tier(first.tier_id) == first


async def test_two_creations_of_one_tier_id_at_once_store_one(quota_repository: QuotaRepository) -> None:
    tier_id = random_tier_id()
    results = await asyncio.gather(
        *(quota_repository.create_tier(make_tier(tier_id, tier_name=f"T{n}")) for n in range(4)),
        return_exceptions=True,
    )

    assert sum(not isinstance(result, BaseException) for result in results) == 1
    assert all(isinstance(result, TierExists) for result in results if isinstance(result, BaseException))


async def test_an_update_changes_the_sent_fields_and_clears_with_null(quota_repository: QuotaRepository) -> None:
    tier = make_tier(description="old", daily_cost_limit=1.0, updated_at="2020-01-01T00:00:00.000000Z")
    await quota_repository.create_tier(tier)
    changes = QuotaTierUpdate.model_validate({"tierName": "Gold", "description": None, "dailyCostLimit": None})

    updated = await quota_repository.update_tier(tier.tier_id, changes)

    assert updated is not None
    assert (updated.tier_name, updated.description, updated.daily_cost_limit) == ("Gold", None, None)
    assert (updated.monthly_cost_limit, updated.created_at) == (tier.monthly_cost_limit, tier.created_at)
    assert updated.updated_at > tier.updated_at
    assert await quota_repository.get_tier(tier.tier_id) == updated


async def test_an_update_of_a_missing_tier_is_none(quota_repository: QuotaRepository) -> None:
    changes = QuotaTierUpdate.model_validate({"enabled": False})

    assert await quota_repository.update_tier(random_tier_id(), changes) is None
    assert await quota_repository.list_tiers() == []


async def test_a_tier_is_deleted_once(quota_repository: QuotaRepository) -> None:
    tier = make_tier()
    await quota_repository.create_tier(tier)

    assert await quota_repository.delete_tier(tier.tier_id) is True
    assert await quota_repository.get_tier(tier.tier_id) is None
    assert await quota_repository.delete_tier(tier.tier_id) is False


async def test_a_tier_in_use_is_not_deleted_until_its_assignments_are(quota_repository: QuotaRepository) -> None:
    tier = make_tier()
    await quota_repository.create_tier(tier)
    assignment = await quota_repository.create_assignment(make_assignment(tier.tier_id))

    with pytest.raises(TierInUse):
        await quota_repository.delete_tier(tier.tier_id)
    assert await quota_repository.get_tier(tier.tier_id) == tier

    assert await quota_repository.delete_assignment(assignment.assignment_id) is True
    assert await quota_repository.delete_tier(tier.tier_id) is True


async def test_an_assignment_reads_back_and_is_found_by_its_target(quota_repository: QuotaRepository) -> None:
    tier = make_tier()
    await quota_repository.create_tier(tier)
    role = await quota_repository.create_assignment(make_assignment(tier.tier_id, AssignmentType.JWT_ROLE, "Faculty"))
    # Targets that share a prefix, or carry the key separator, are other targets.
    await quota_repository.create_assignment(make_assignment(tier.tier_id, AssignmentType.JWT_ROLE, "Faculty#x"))
    await quota_repository.create_assignment(make_assignment(tier.tier_id, AssignmentType.JWT_ROLE, "FacultyX"))
    await quota_repository.create_assignment(make_assignment(tier.tier_id, AssignmentType.EMAIL_DOMAIN, "faculty"))

    assert await quota_repository.get_assignment(role.assignment_id) == role
    assert await quota_repository.find_assignments(AssignmentType.JWT_ROLE, "Faculty") == [role]
    assert await quota_repository.find_assignments(AssignmentType.JWT_ROLE, "faculty") == []
    assert await quota_repository.get_assignment("no-such-assignment") is None


async def test_assignments_are_listed_by_priority_then_age(quota_repository: QuotaRepository) -> None:
    tier = make_tier()
    await quota_repository.create_tier(tier)
    low = make_assignment(tier.tier_id, AssignmentType.JWT_ROLE, "a", priority=10)
    high = make_assignment(tier.tier_id, AssignmentType.JWT_ROLE, "b", priority=500)
    tie_old = make_assignment(tier.tier_id, AssignmentType.JWT_ROLE, "c", priority=100)
    tie_new = make_assignment(tier.tier_id, AssignmentType.JWT_ROLE, "d", priority=100)
    default = make_assignment(tier.tier_id, priority=1000)
    for assignment in (tie_new, low, default, high, tie_old):
        await quota_repository.create_assignment(assignment)

    by_role = await quota_repository.list_assignments(AssignmentType.JWT_ROLE)
    every = await quota_repository.list_assignments()

    assert by_role == [high, tie_old, tie_new, low]
    assert every == [default, high, tie_old, tie_new, low]
    assert await quota_repository.list_assignments(AssignmentType.DEFAULT_TIER) == [default]


async def test_an_assignment_of_a_missing_tier_is_refused(quota_repository: QuotaRepository) -> None:
    with pytest.raises(UnknownTier):
        await quota_repository.create_assignment(make_assignment(random_tier_id()))

    assert await quota_repository.list_assignments() == []


@pytest.mark.parametrize(
    ("assignment_type", "target"), [(AssignmentType.DIRECT_USER, "user-1"), (AssignmentType.APP_ROLE, "staff")]
)
async def test_a_user_or_app_role_has_one_assignment(
    quota_repository: QuotaRepository, assignment_type: AssignmentType, target: str
) -> None:
    tier = make_tier()
    await quota_repository.create_tier(tier)
    first = await quota_repository.create_assignment(make_assignment(tier.tier_id, assignment_type, target))

    with pytest.raises(AssignmentExists):
        await quota_repository.create_assignment(make_assignment(tier.tier_id, assignment_type, target))
    assert await quota_repository.list_assignments() == [first]

    await quota_repository.delete_assignment(first.assignment_id)
    second = await quota_repository.create_assignment(make_assignment(tier.tier_id, assignment_type, target))
    assert await quota_repository.list_assignments() == [second]


async def test_token_roles_and_domains_may_have_several(quota_repository: QuotaRepository) -> None:
    tier = make_tier()
    await quota_repository.create_tier(tier)
    for _ in range(2):
        await quota_repository.create_assignment(make_assignment(tier.tier_id, AssignmentType.JWT_ROLE, "staff"))
        await quota_repository.create_assignment(make_assignment(tier.tier_id, AssignmentType.EMAIL_DOMAIN, "x.edu"))
        await quota_repository.create_assignment(make_assignment(tier.tier_id))

    assert len(await quota_repository.list_assignments()) == 6


async def test_two_assignments_of_one_user_at_once_store_one(quota_repository: QuotaRepository) -> None:
    tier = make_tier()
    await quota_repository.create_tier(tier)
    user_id = random_user_id()
    results = await asyncio.gather(
        *(
            quota_repository.create_assignment(make_assignment(tier.tier_id, AssignmentType.DIRECT_USER, user_id))
            for _ in range(4)
        ),
        return_exceptions=True,
    )

    assert sum(not isinstance(result, BaseException) for result in results) == 1
    assert all(isinstance(result, AssignmentExists) for result in results if isinstance(result, BaseException))
    assert len(await quota_repository.find_assignments(AssignmentType.DIRECT_USER, user_id)) == 1


async def test_an_assignment_moves_to_another_tier(quota_repository: QuotaRepository) -> None:
    old, new = make_tier(), make_tier()
    await quota_repository.create_tier(old)
    await quota_repository.create_tier(new)
    assignment = await quota_repository.create_assignment(make_assignment(old.tier_id, AssignmentType.JWT_ROLE, "r"))
    changes = QuotaAssignmentUpdate.model_validate({"tierId": new.tier_id, "priority": 7, "enabled": False})

    updated = await quota_repository.update_assignment(assignment.assignment_id, changes)

    assert updated is not None
    assert (updated.tier_id, updated.priority, updated.enabled, updated.jwt_role) == (new.tier_id, 7, False, "r")
    assert await quota_repository.get_assignment(assignment.assignment_id) == updated
    # The old tier is free, the new one is in use.
    assert await quota_repository.delete_tier(old.tier_id) is True
    with pytest.raises(TierInUse):
        await quota_repository.delete_tier(new.tier_id)


async def test_an_update_that_keeps_the_tier_changes_the_sent_fields(quota_repository: QuotaRepository) -> None:
    tier = make_tier()
    await quota_repository.create_tier(tier)
    assignment = await quota_repository.create_assignment(make_assignment(tier.tier_id, priority=5))
    changes = QuotaAssignmentUpdate.model_validate({"tierId": tier.tier_id, "priority": 9})

    updated = await quota_repository.update_assignment(assignment.assignment_id, changes)

    assert updated is not None
    assert (updated.priority, updated.enabled, updated.created_at) == (9, True, assignment.created_at)
    with pytest.raises(TierInUse):
        await quota_repository.delete_tier(tier.tier_id)


async def test_an_assignment_cannot_move_to_a_missing_tier(quota_repository: QuotaRepository) -> None:
    tier = make_tier()
    await quota_repository.create_tier(tier)
    assignment = await quota_repository.create_assignment(make_assignment(tier.tier_id))

    with pytest.raises(UnknownTier):
        await quota_repository.update_assignment(
            assignment.assignment_id, QuotaAssignmentUpdate.model_validate({"tierId": random_tier_id()})
        )

    assert await quota_repository.get_assignment(assignment.assignment_id) == assignment


async def test_missing_assignments_are_none_or_false(quota_repository: QuotaRepository) -> None:
    changes = QuotaAssignmentUpdate.model_validate({"priority": 1})

    assert await quota_repository.update_assignment("missing", changes) is None
    assert await quota_repository.delete_assignment("missing") is False
