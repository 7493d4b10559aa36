"""What a turn and the inspector call, over the in-memory fake: spend read as needed, events recorded as needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apis.shared.costs import CostEntry
from apis.shared.quota import (
    AssignmentType,
    QuotaEventType,
    QuotaWindow,
    check_user,
    record_outcome,
    usage_from_costs,
    user_quota_info,
    user_status,
)
from apis.shared.sessions.models import TokenUsage
from apis.shared.storage.memory.costs import InMemoryCostRepository
from apis.shared.storage.memory.quota import InMemoryQuotaRepository
from tests.shared.quota.builders import make_assignment, make_override, make_tier

NOW = datetime(2025, 3, 20, 15, 30, tzinfo=UTC)
USER = "ada"


class Spend:
    """A usage port that answers from a table and remembers what it was asked."""

    def __init__(self, **by_key: float) -> None:
        self.by_key = by_key
        self.asked: list[str] = []

    async def __call__(self, user_id: str, window: QuotaWindow) -> float:
        self.asked.append(window.key)
        return self.by_key.get(window.key, 0.0)


async def quotas_with_default(**tier_fields: object) -> InMemoryQuotaRepository:
    quotas = InMemoryQuotaRepository()
    tier = make_tier("standard", tier_name="Standard", **tier_fields)
    await quotas.create_tier(tier)
    await quotas.create_assignment(make_assignment(tier.tier_id))
    return quotas


async def test_only_the_windows_of_the_limits_are_read() -> None:
    monthly_only, with_daily = await quotas_with_default(), await quotas_with_default(daily_cost_limit=1.0)
    spend = Spend(**{"2025-03": 4.0, "2025-03-20": 0.5})

    await check_user(quotas=monthly_only, usage=spend, user_id=USER, now=NOW)
    assert spend.asked == ["2025-03"]
    decision = await check_user(quotas=with_daily, usage=spend, user_id=USER, now=NOW)
    assert spend.asked == ["2025-03", "2025-03", "2025-03-20"]
    assert (decision.check.period_type, decision.check.percentage_used) == ("daily", 50.0)


async def test_nothing_is_read_without_a_quota_or_with_an_unlimited_override() -> None:
    quotas = InMemoryQuotaRepository()
    spend = Spend()

    nothing = await check_user(quotas=quotas, usage=spend, user_id=USER, now=NOW)
    await quotas.create_override(
        make_override(USER, valid_from="2025-03-01T00:00:00Z", valid_until="2025-04-01T00:00:00Z")
    )
    unlimited = await check_user(quotas=quotas, usage=spend, user_id=USER, now=NOW)

    assert (nothing.resolved, nothing.check.allowed) == (None, True)
    assert unlimited.resolved is not None
    assert (unlimited.resolved.matched_by, unlimited.check.message) == ("override", "Unlimited quota")
    assert spend.asked == []


async def test_a_refusal_records_a_block_each_time() -> None:
    quotas = await quotas_with_default()
    decision = await check_user(quotas=quotas, usage=Spend(**{"2025-03": 10.0}), user_id=USER, now=NOW)

    first = await record_outcome(quotas=quotas, user_id=USER, decision=decision, session_id="s1", now=NOW)
    second = await record_outcome(quotas=quotas, user_id=USER, decision=decision, now=NOW + timedelta(seconds=1))

    assert first is not None
    assert second is not None
    assert (first.event_type, first.tier_id, first.quota_limit, first.percentage_used) == (
        QuotaEventType.BLOCK,
        "standard",
        10.0,
        100.0,
    )
    assert first.metadata is not None
    assert (first.metadata["session_id"], first.metadata["tier_name"]) == ("s1", "Standard")
    events = await quotas.list_events(user_id=USER, limit=10)
    assert [event.event_id for event in events.items] == [second.event_id, first.event_id]


async def test_a_warning_is_recorded_once_per_period_and_threshold() -> None:
    quotas = await quotas_with_default()
    at_80 = await check_user(quotas=quotas, usage=Spend(**{"2025-03": 8.5}), user_id=USER, now=NOW)
    at_90 = await check_user(quotas=quotas, usage=Spend(**{"2025-03": 9.5}), user_id=USER, now=NOW)
    next_month = NOW + timedelta(days=15)
    april = await check_user(quotas=quotas, usage=Spend(**{"2025-04": 8.5}), user_id=USER, now=next_month)

    recorded = [
        await record_outcome(quotas=quotas, user_id=USER, decision=at_80, now=NOW),
        await record_outcome(quotas=quotas, user_id=USER, decision=at_80, now=NOW + timedelta(minutes=61)),
        await record_outcome(quotas=quotas, user_id=USER, decision=at_90, now=NOW + timedelta(days=2)),
        await record_outcome(quotas=quotas, user_id=USER, decision=at_80, now=NOW + timedelta(days=3)),
        await record_outcome(quotas=quotas, user_id=USER, decision=april, now=next_month),
        await record_outcome(quotas=quotas, user_id="grace", decision=at_80, now=NOW),
    ]

    assert [(event.metadata or {}).get("threshold") if event else None for event in recorded] == [
        "80%",
        None,
        "90%",
        None,
        "80%",
        "80%",
    ]
    assert [(event.metadata or {})["period"] for event in recorded if event] == [
        "2025-03",
        "2025-03",
        "2025-04",
        "2025-03",
    ]
    assert len((await quotas.list_events(event_type=QuotaEventType.WARNING, limit=10)).items) == 4


async def test_a_daily_limits_warning_is_recorded_once_a_day() -> None:
    quotas = await quotas_with_default(monthly_cost_limit=100.0, daily_cost_limit=1.0)
    spend = Spend(**{"2025-03": 5.0, "2025-03-20": 0.85, "2025-03-21": 0.85})
    today = await check_user(quotas=quotas, usage=spend, user_id=USER, now=NOW)
    tomorrow = await check_user(quotas=quotas, usage=spend, user_id=USER, now=NOW + timedelta(days=1))

    recorded = [
        await record_outcome(quotas=quotas, user_id=USER, decision=today, now=NOW),
        await record_outcome(quotas=quotas, user_id=USER, decision=today, now=NOW + timedelta(hours=2)),
        await record_outcome(quotas=quotas, user_id=USER, decision=tomorrow, now=NOW + timedelta(days=1)),
    ]

    assert [(event.metadata or {}).get("period") if event else None for event in recorded] == [
        "2025-03-20",
        None,
        "2025-03-21",
    ]


async def test_a_check_within_the_quota_records_nothing() -> None:
    quotas = await quotas_with_default()
    decision = await check_user(quotas=quotas, usage=Spend(**{"2025-03": 1.0}), user_id=USER, now=NOW)

    assert await record_outcome(quotas=quotas, user_id=USER, decision=decision, now=NOW) is None
    assert (await quotas.list_events(limit=10)).items == []


async def test_the_inspector_shows_what_applies_and_the_last_days_blocks() -> None:
    quotas = await quotas_with_default()
    tier = make_tier("staff-tier", tier_name="Staff", monthly_cost_limit=20.0)
    await quotas.create_tier(tier)
    await quotas.create_assignment(make_assignment(tier.tier_id, AssignmentType.APP_ROLE, "staff"))
    spend = Spend(**{"2025-03": 20.0})
    blocked = await check_user(quotas=quotas, usage=spend, user_id=USER, app_roles=["staff"], now=NOW)
    await record_outcome(quotas=quotas, user_id=USER, decision=blocked, now=NOW - timedelta(hours=30))
    last = await record_outcome(quotas=quotas, user_id=USER, decision=blocked, now=NOW - timedelta(hours=2))

    info = await user_quota_info(
        quotas=quotas, usage=spend, user_id=USER, email=None, jwt_roles=["x"], app_roles=["staff"], now=NOW
    )

    assert info.tier is not None
    assert last is not None
    assert (info.tier.tier_id, info.matched_by, info.current_period) == ("staff-tier", "app_role:staff", "2025-03")
    assert (info.current_usage, info.quota_limit, info.percentage_used, info.remaining) == (20.0, 20.0, 100.0, 0.0)
    assert (info.recent_blocks, info.last_block_time, len(info.recent_events)) == (1, last.timestamp, 2)
    assert (info.email, info.roles, info.app_roles) == ("", ["x"], ["staff"])


async def test_the_user_page_status_is_the_month_against_the_monthly_limit() -> None:
    quotas = await quotas_with_default(daily_cost_limit=0.1)

    status = await user_status(
        quotas=quotas, user_id=USER, email=None, jwt_roles=[], app_roles=[], monthly_usage=2.5, now=NOW
    )
    await quotas.create_override(make_override(USER, reason="exam week"))
    overridden = await user_status(
        quotas=quotas, user_id=USER, email=None, jwt_roles=[], app_roles=[], monthly_usage=2.5
    )

    assert status.model_dump(by_alias=True) == {
        "tierId": "standard",
        "tierName": "Standard",
        "matchedBy": "default_tier",
        "monthlyLimit": 10.0,
        "currentUsage": 2.5,
        "usagePercentage": 25.0,
        "remaining": 7.5,
        "hasActiveOverride": False,
        "overrideReason": None,
    }
    assert (overridden.monthly_limit, overridden.usage_percentage, overridden.remaining) == (None, 0.0, None)
    assert (overridden.has_active_override, overridden.override_reason) == (True, "exam week")


async def test_spend_comes_from_the_costs_month_and_day_totals() -> None:
    costs = InMemoryCostRepository()
    for day, cost in (("2025-03-20", 1.25), ("2025-03-21", 0.5)):
        entry = CostEntry(user_id=USER, day=day, model_id="m", provider="local", usage=TokenUsage(), cost=cost)
        await costs.add(entry)
    usage = usage_from_costs(costs)

    assert await usage(USER, QuotaWindow("monthly", "2025-03", NOW, NOW)) == 1.75
    assert await usage(USER, QuotaWindow("daily", "2025-03-20", NOW, NOW)) == 1.25
    assert await usage(USER, QuotaWindow("daily", "2025-03-22", NOW, NOW)) == 0.0
    assert await usage("someone-else", QuotaWindow("monthly", "2025-03", NOW, NOW)) == 0.0
