"""The report services over the in-memory fake: a user's range of days, the admins' analytics, the calendar rules,
and how an entry finds its day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from apis.shared.costs import CostEntry, InvalidDateRange, InvalidDay, InvalidPeriod, analytics, day_of, reports
from apis.shared.costs.periods import checked_range, day_within, month_days
from apis.shared.storage.memory.costs import InMemoryCostRepository
from tests.helpers import random_user_id
from tests.shared.costs.builders import entry, usage


@pytest.fixture
def costs() -> InMemoryCostRepository:
    return InMemoryCostRepository()


async def test_a_detailed_report_adds_up_the_days_of_its_range(costs: InMemoryCostRepository) -> None:
    user = random_user_id()
    for day, model_id, cost in [
        ("2026-01-31", "a", 0.1),
        ("2026-02-01", "a", 0.2),
        ("2026-02-01", "b", 0.4),
        ("2026-02-10", "a", 0.8),
        ("2026-02-11", "a", 1.6),
    ]:
        await costs.add(entry(user, cost=cost, model_id=model_id, day=day, usage=usage(10, 1), cache_savings=0.001))

    report = await reports.detailed_report(costs=costs, user_id=user, first_day="2026-02-01", last_day="2026-02-10")

    assert (report.period, report.total_cost, report.total_requests, report.cache_savings) == (
        "2026-02-01/2026-02-10",
        1.4,
        3,
        0.003,
    )
    assert (report.input_tokens, report.output_tokens, report.total_tokens) == (30, 3, 33)
    assert [(model.model_id, model.total_cost, model.total_requests) for model in report.models] == [
        ("a", 1.0, 2),
        ("b", 0.4, 1),
    ]


async def test_a_report_of_days_without_spend_is_zeros(costs: InMemoryCostRepository) -> None:
    report = await reports.detailed_report(costs=costs, user_id="u", first_day="2026-02-01", last_day="2026-02-01")

    assert (report.total_cost, report.total_requests, report.models, report.updated_at) == (0.0, 0, [], None)


@pytest.mark.parametrize(
    ("first", "last", "days"),
    [("2026-02-01", "2026-02-01", 1), ("2026-01-01", "2026-04-01", 91), ("2025-12-31", "2026-01-01", 2)],
)
def test_a_range_holds_every_day_of_it_up_to_a_span_of_90_days(first: str, last: str, days: int) -> None:
    found = checked_range(first, last)

    assert (len(found), found[0], found[-1]) == (days, first, last)


@pytest.mark.parametrize(
    ("first", "last", "error"),
    [
        ("2026-01-01", "2026-04-02", InvalidDateRange),  # a span of 91 days
        ("2026-02-02", "2026-02-01", InvalidDateRange),
        ("2026-02-30", "2026-03-01", InvalidDay),
        ("2026-2-1", "2026-03-01", InvalidDay),
        ("2026-02-01", "2026-03-01\n", InvalidDay),
    ],
)
def test_a_range_too_long_backwards_or_malformed_is_refused(first: str, last: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        checked_range(first, last)


async def test_daily_trends_have_every_day_of_the_range_zeros_included(costs: InMemoryCostRepository) -> None:
    await costs.add(entry(random_user_id(), cost=0.5, day="2026-02-02"))

    trends = await analytics.daily_trends(costs=costs, first_day="2026-02-01", last_day="2026-02-03")

    assert [(day.period, day.total_cost, day.active_users) for day in trends] == [
        ("2026-02-01", 0.0, 0),
        ("2026-02-02", 0.5, 1),
        ("2026-02-03", 0.0, 0),
    ]


async def test_a_months_trends_stop_at_today(costs: InMemoryCostRepository) -> None:
    assert len(await analytics.month_trends(costs=costs, period="2026-02", today="2026-02-05")) == 5
    assert len(await analytics.month_trends(costs=costs, period="2026-02", today="2026-06-01")) == 28
    assert await analytics.month_trends(costs=costs, period="2026-03", today="2026-02-05") == []


@pytest.mark.parametrize("period", ["2026-02-30", "2026-13", "2026", "yesterday"])
async def test_a_system_summary_needs_a_month_or_a_day(costs: InMemoryCostRepository, period: str) -> None:
    with pytest.raises(InvalidPeriod):
        await analytics.system_summary(costs=costs, period=period)


async def test_the_export_list_reads_every_user_page_after_page(costs: InMemoryCostRepository) -> None:
    users = {random_user_id() for _ in range(7)}
    for user in users:
        await costs.add(entry(user, cost=0.1))

    pages = [page async for page in analytics.period_users(costs=costs, period="2026-02", page_size=3)]

    assert [len(page) for page in pages] == [3, 3, 1]
    assert {user.user_id for page in pages for user in page} == users


def test_an_entry_given_its_day_takes_its_month_from_it() -> None:
    given = CostEntry.model_validate(
        {"user_id": "u", "day": "2026-03-01", "model_id": "m", "provider": "local", "usage": usage(), "cost": 0.1}
    )

    assert (given.period, given.day) == ("2026-03", "2026-03-01")


def test_an_entry_given_only_its_month_is_counted_on_the_nearest_day_of_it_to_today() -> None:
    today = datetime.now(UTC).date()
    this_month = today.isoformat()[:7]

    assert entry("u", cost=0.1, period=this_month).day == today.isoformat()
    assert entry("u", cost=0.1, period="2020-02").day == "2020-02-29"
    assert day_within("2999-01", today) == "2999-01-01"


@pytest.mark.parametrize("fields", [{"period": "2026-02", "day": "2026-03-01"}, {"day": "2026-02-30"}])
def test_an_entry_whose_day_is_not_a_day_of_its_month_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        entry("u", cost=0.1, **fields)  # type: ignore[arg-type]


def test_day_of_is_the_utc_day() -> None:
    assert day_of("2026-02-28T23:30:00-02:00") == "2026-03-01"
    assert day_of("2026-02-28T23:30:00.123456Z") == "2026-02-28"
    assert month_days("2028-02") == ("2028-02-01", "2028-02-29")
