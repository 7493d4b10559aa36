"""Which quota applies: the reference's order worked through, then properties over random configurations."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apis.shared.clock import to_iso, utc_now
from apis.shared.quota import (
    AssignmentType,
    QuotaAssignment,
    QuotaTier,
    first_applicable,
    in_priority_order,
    matches_email_domain,
    resolve_quota,
)
from apis.shared.storage.memory.quota import InMemoryQuotaRepository
from tests.shared.quota.builders import make_assignment, make_override, make_tier

USER = "ada"
EMAIL = "ada@cs.example.edu"


async def repository_with(*tiers: QuotaTier) -> InMemoryQuotaRepository:
    quotas = InMemoryQuotaRepository()
    for tier in tiers:
        await quotas.create_tier(tier)
    return quotas


async def resolve(quotas: InMemoryQuotaRepository, **user: object) -> str | None:
    """The `matchedBy` of what applies to Ada (her email, token role "staff", app role "faculty")."""
    values: dict[str, object] = {"email": EMAIL, "jwt_roles": ["staff"], "app_roles": ["faculty"], **user}
    resolved = await resolve_quota(quotas=quotas, user_id=USER, **values)  # type: ignore[arg-type]
    return resolved.matched_by if resolved else None


async def test_each_kind_wins_over_the_kinds_after_it() -> None:
    tier = make_tier()
    quotas = await repository_with(tier)
    kinds = [
        (AssignmentType.DEFAULT_TIER, None, "default_tier"),
        (AssignmentType.EMAIL_DOMAIN, "*.example.edu", "email_domain:*.example.edu"),
        (AssignmentType.JWT_ROLE, "staff", "jwt_role:staff"),
        (AssignmentType.APP_ROLE, "faculty", "app_role:faculty"),
        (AssignmentType.DIRECT_USER, USER, "direct_user"),
    ]
    assert await resolve(quotas) is None
    for assignment_type, target, matched_by in kinds:
        # A low priority does not matter across kinds: only within one.
        await quotas.create_assignment(make_assignment(tier.tier_id, assignment_type, target, priority=0))
        assert await resolve(quotas) == matched_by

    await quotas.create_override(make_override(USER))
    assert await resolve(quotas) == "override"


async def test_an_override_applies_only_while_enabled_and_valid() -> None:
    quotas = await repository_with()
    now = utc_now()
    await quotas.create_override(make_override(USER, enabled=False))
    await quotas.create_override(
        make_override(USER, valid_until=to_iso(now - timedelta(minutes=1)), valid_from=to_iso(now - timedelta(days=1)))
    )
    await quotas.create_override(make_override(USER, valid_from=to_iso(now + timedelta(minutes=1))))
    await quotas.create_override(make_override("someone-else"))

    assert await resolve(quotas) is None
    assert await resolve(quotas, now=now + timedelta(minutes=2)) == "override"


async def test_of_two_active_overrides_the_one_that_ends_last_applies() -> None:
    quotas = await repository_with()
    now = utc_now()
    short = make_override(USER, override_type="custom_limit", monthly_cost_limit=5.0)
    long = make_override(
        USER, override_type="custom_limit", monthly_cost_limit=50.0, valid_until=to_iso(now + timedelta(days=7))
    )
    await quotas.create_override(long)
    await quotas.create_override(short)

    resolved = await resolve_quota(quotas=quotas, user_id=USER)

    assert resolved is not None
    assert (resolved.override, resolved.tier.monthly_cost_limit) == (long, 50.0)
    assert (resolved.tier.tier_id, resolved.tier.tier_name) == (f"override_{long.override_id}", "Custom Override")
    assert resolved.assignment is None


async def test_an_unlimited_override_has_no_limit_and_only_warns() -> None:
    quotas = await repository_with()
    await quotas.create_override(make_override(USER))

    resolved = await resolve_quota(quotas=quotas, user_id=USER)

    assert resolved is not None
    assert (resolved.tier.monthly_cost_limit, resolved.tier.daily_cost_limit) == (None, None)
    assert (resolved.tier.tier_name, resolved.tier.action_on_limit) == ("Unlimited Override", "warn")


async def test_a_disabled_assignment_or_tier_falls_through_to_the_next_kind() -> None:
    on, off = make_tier(), make_tier(enabled=False)
    quotas = await repository_with(on, off)
    await quotas.create_assignment(make_assignment(on.tier_id, AssignmentType.DIRECT_USER, USER, enabled=False))
    await quotas.create_assignment(make_assignment(off.tier_id, AssignmentType.APP_ROLE, "faculty"))
    await quotas.create_assignment(make_assignment(on.tier_id, AssignmentType.JWT_ROLE, "staff"))

    assert await resolve(quotas) == "jwt_role:staff"


async def test_within_a_kind_the_highest_priority_wins_across_the_users_roles() -> None:
    low, high = make_tier(), make_tier()
    quotas = await repository_with(low, high)
    await quotas.create_assignment(make_assignment(low.tier_id, AssignmentType.JWT_ROLE, "staff", priority=200))
    await quotas.create_assignment(make_assignment(high.tier_id, AssignmentType.JWT_ROLE, "admin", priority=300))
    await quotas.create_assignment(make_assignment(high.tier_id, AssignmentType.JWT_ROLE, "nobody", priority=900))

    resolved = await resolve_quota(quotas=quotas, user_id=USER, jwt_roles=["staff", "admin"])

    assert resolved is not None
    assert (resolved.matched_by, resolved.tier.tier_id) == ("jwt_role:admin", high.tier_id)


async def test_token_roles_match_exactly_and_app_roles_by_id() -> None:
    tier = make_tier()
    quotas = await repository_with(tier)
    await quotas.create_assignment(make_assignment(tier.tier_id, AssignmentType.JWT_ROLE, "Staff"))

    assert await resolve(quotas, jwt_roles=["staff"], app_roles=[]) is None
    assert await resolve(quotas, jwt_roles=["Staff"], app_roles=[]) == "jwt_role:Staff"


async def test_a_default_whose_tier_is_disabled_gives_way_to_the_next_default() -> None:
    off, on = make_tier(enabled=False), make_tier()
    quotas = await repository_with(off, on)
    await quotas.create_assignment(make_assignment(off.tier_id, priority=500))
    await quotas.create_assignment(make_assignment(on.tier_id, priority=100))

    resolved = await resolve_quota(quotas=quotas, user_id=USER)

    assert resolved is not None
    assert resolved.tier.tier_id == on.tier_id


@pytest.mark.parametrize(
    ("domain", "pattern", "matches"),
    [
        ("example.edu", "example.edu", True),
        ("cs.example.edu", "example.edu", False),
        ("cs.example.edu", "*.example.edu", True),
        ("example.edu", "*.example.edu", True),
        ("badexample.edu", "*.example.edu", False),
        ("college.edu", "example.edu,college.edu", True),
        ("cs.example.edu", "college.edu,*.example.edu", True),
        ("other.org", "example.edu,college.edu", False),
        ("cs.example.edu", r"regex:^(cs|eng)\.example\.edu$", True),
        ("math.example.edu", r"regex:^(cs|eng)\.example\.edu$", False),
        ("cs.example.edu", r"regex:^CS\.", True),
    ],
)
def test_email_domain_patterns(domain: str, pattern: str, matches: bool) -> None:
    assert matches_email_domain(domain, pattern) is matches


async def test_the_email_domain_is_compared_without_case() -> None:
    tier = make_tier()
    quotas = await repository_with(tier)
    await quotas.create_assignment(make_assignment(tier.tier_id, AssignmentType.EMAIL_DOMAIN, "Example.EDU"))

    assert await resolve(quotas, email="Ada@EXAMPLE.edu", jwt_roles=[], app_roles=[]) == "email_domain:example.edu"
    assert await resolve(quotas, email=None, jwt_roles=[], app_roles=[]) is None


# --- Properties ---------------------------------------------------------------------------------------------------

TIER_IDS = ["t1", "t2", "t3"]
ROLES = ["r1", "r2", "r3"]
KINDS: list[tuple[AssignmentType, list[str | None]]] = [
    (AssignmentType.DIRECT_USER, [USER, "bob"]),
    (AssignmentType.APP_ROLE, [*ROLES]),
    (AssignmentType.JWT_ROLE, [*ROLES]),
    (AssignmentType.EMAIL_DOMAIN, ["example.edu", "*.example.edu", "other.org"]),
    (AssignmentType.DEFAULT_TIER, [None]),
]


@st.composite
def configurations(draw: st.DrawFn) -> tuple[list[QuotaTier], list[QuotaAssignment]]:
    """Some tiers (some disabled), and assignments of every kind naming them (or missing tiers)."""
    tiers = [make_tier(tier_id, enabled=draw(st.booleans())) for tier_id in draw(st.sets(st.sampled_from(TIER_IDS)))]
    assignments = []
    seen_unique = set()
    for _ in range(draw(st.integers(0, 10))):
        kind, targets = draw(st.sampled_from(KINDS))
        target = draw(st.sampled_from(targets))
        if kind in (AssignmentType.DIRECT_USER, AssignmentType.APP_ROLE):
            if (kind, target) in seen_unique:
                continue
            seen_unique.add((kind, target))
        assignments.append(
            make_assignment(
                draw(st.sampled_from(TIER_IDS)),
                kind,
                target,
                priority=draw(st.integers(0, 3)),
                enabled=draw(st.booleans()),
            )
        )
    return tiers, assignments


def oracle(
    tiers: list[QuotaTier], assignments: list[QuotaAssignment], roles: list[str], app_roles: list[str]
) -> str | None:
    """The assignment id that should apply to Ada (email ada@cs.example.edu), by the documented rules."""
    enabled_tiers = {tier.tier_id for tier in tiers if tier.enabled}

    def usable(assignment: QuotaAssignment) -> bool:
        return assignment.enabled and assignment.tier_id in enabled_tiers

    steps: list[Callable[[QuotaAssignment], bool]] = [
        lambda a: a.assignment_type is AssignmentType.DIRECT_USER and a.user_id == USER,
        lambda a: a.assignment_type is AssignmentType.APP_ROLE and a.app_role_id in app_roles,
        lambda a: a.assignment_type is AssignmentType.JWT_ROLE and a.jwt_role in roles,
        lambda a: a.assignment_type is AssignmentType.EMAIL_DOMAIN and a.email_domain in ("*.example.edu",),
        lambda a: a.assignment_type is AssignmentType.DEFAULT_TIER,
    ]
    for step in steps:
        candidates = [a for a in assignments if step(a) and usable(a)]
        if candidates:
            return min(candidates, key=lambda a: (-a.priority, a.assignment_id)).assignment_id
    return None


@settings(max_examples=150, deadline=None)
@given(configurations(), st.lists(st.sampled_from(ROLES), unique=True), st.lists(st.sampled_from(ROLES), unique=True))
def test_resolution_follows_the_documented_order(
    configuration: tuple[list[QuotaTier], list[QuotaAssignment]], roles: list[str], app_roles: list[str]
) -> None:
    tiers, assignments = configuration

    async def run() -> str | None:
        quotas = InMemoryQuotaRepository()
        for tier in tiers:
            await quotas.create_tier(tier)
        for assignment in assignments:
            if assignment.tier_id in {tier.tier_id for tier in tiers}:
                await quotas.create_assignment(assignment)
        resolved = await resolve_quota(quotas=quotas, user_id=USER, email=EMAIL, jwt_roles=roles, app_roles=app_roles)
        return resolved.assignment.assignment_id if resolved and resolved.assignment else None

    stored = [a for a in assignments if a.tier_id in {tier.tier_id for tier in tiers}]
    assert asyncio.run(run()) == oracle(tiers, stored, roles, app_roles)


@given(
    st.lists(st.tuples(st.integers(0, 5), st.booleans(), st.sampled_from(TIER_IDS)), max_size=8),
    st.sets(st.sampled_from(TIER_IDS)),
)
def test_first_applicable_is_the_highest_priority_usable_candidate(
    drawn: list[tuple[int, bool, str]], enabled: set[str]
) -> None:
    tiers = {tier_id: make_tier(tier_id, enabled=tier_id in enabled) for tier_id in TIER_IDS}
    candidates = [make_assignment(tier_id, priority=priority, enabled=on) for priority, on, tier_id in drawn]
    usable = [c for c in candidates if c.enabled and c.tier_id in enabled]

    picked = first_applicable(candidates, tiers)

    if not usable:
        assert picked is None
    else:
        assert picked is not None
        assert picked[0] == in_priority_order(usable)[0]
        assert picked[0].priority == max(c.priority for c in usable)
        assert picked[1] == tiers[picked[0].tier_id]
