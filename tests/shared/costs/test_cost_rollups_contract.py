"""The CostRepository contract beyond a user's month: their days, the system's rollups with active users, top users
and the list of a month's users; on the in-memory fake, SQLite and DynamoDB (moto server)."""

from __future__ import annotations

import asyncio

import pytest

from apis.shared.costs import CostRepository, SystemCostSummary
from apis.shared.costs import summaries as costs_service
from apis.shared.errors import InvalidPageToken
from tests.helpers import random_user_id
from tests.shared.costs.builders import DAY, PERIOD, entry, usage


async def test_an_entry_counts_in_its_users_day_with_its_model(cost_repository: CostRepository) -> None:
    user = random_user_id()
    await cost_repository.add(entry(user, cost=0.25, model_id="m-1", usage=usage(100, 20, cache_read=7), day=DAY))
    await cost_repository.add(entry(user, cost=0.5, model_id="m-2", day="2026-02-15"))

    day = await cost_repository.get_day_summary(user, DAY)

    assert (day.user_id, day.period, day.total_cost, day.total_requests) == (user, DAY, 0.25, 1)
    assert (day.input_tokens, day.output_tokens, day.total_tokens, day.cache_read_input_tokens) == (100, 20, 120, 7)
    assert [(model.model_id, model.total_cost, model.input_tokens) for model in day.models] == [("m-1", 0.25, 100)]
    assert day.updated_at is not None


async def test_a_day_without_spend_is_zeros(cost_repository: CostRepository) -> None:
    user = random_user_id()
    await cost_repository.add(entry(user, cost=0.25, day=DAY))

    empty = await cost_repository.get_day_summary(user, "2026-02-13")

    assert (empty.total_cost, empty.total_requests, empty.models, empty.updated_at) == (0.0, 0, [], None)
    assert (await cost_repository.get_day_summary(random_user_id(), DAY)).total_cost == 0.0


async def test_daily_and_monthly_totals_are_what_a_quota_check_reads(cost_repository: CostRepository) -> None:
    user = random_user_id()
    for day, cost in (("2026-02-01", 0.1), ("2026-02-01", 0.2), ("2026-02-28", 0.4), ("2026-03-01", 0.8)):
        await cost_repository.add(entry(user, cost=cost, day=day))

    assert await costs_service.daily_total(costs=cost_repository, user_id=user, day="2026-02-01") == 0.3
    assert await costs_service.daily_total(costs=cost_repository, user_id=user, day="2026-02-28") == 0.4
    assert await costs_service.daily_total(costs=cost_repository, user_id=user, day="2026-02-02") == 0.0
    assert await costs_service.monthly_total(costs=cost_repository, user_id=user, period="2026-02") == 0.7
    assert await costs_service.monthly_total(costs=cost_repository, user_id=user, period="2026-03") == 0.8
    for period in ("2026-02", "2026-02-28", "2026-04"):  # the total alone is the total its summary shows
        summary = await (cost_repository.get_day_summary if len(period) > 7 else cost_repository.get_summary)(
            user, period
        )
        assert await cost_repository.get_spend(user, period) == summary.total_cost


async def test_a_range_of_days_lists_each_day_with_spend_oldest_first_both_ends_included(
    cost_repository: CostRepository,
) -> None:
    user, other = random_user_id(), random_user_id()
    plan = [("2026-01-30", "a", 0.1), ("2026-01-31", "b", 0.2), ("2026-02-01", "a", 0.3), ("2026-02-03", "a", 0.4)]
    for day, model_id, cost in plan:
        await cost_repository.add(entry(user, cost=cost, model_id=model_id, day=day))
    await cost_repository.add(entry(other, cost=9.0, day="2026-02-01"))

    days = await cost_repository.list_day_summaries(user, "2026-01-31", "2026-02-03")

    assert [(day.period, day.total_cost, [model.model_id for model in day.models]) for day in days] == [
        ("2026-01-31", 0.2, ["b"]),
        ("2026-02-01", 0.3, ["a"]),
        ("2026-02-03", 0.4, ["a"]),
    ]
    assert await cost_repository.list_day_summaries(user, "2026-02-04", "2026-02-27") == []


async def test_a_users_days_add_up_to_their_month(cost_repository: CostRepository) -> None:
    user = random_user_id()
    for index in range(12):
        day = f"2026-02-{1 + index % 4:02d}"
        await cost_repository.add(entry(user, cost=0.013 * (index + 1), model_id=f"m-{index % 3}", day=day))

    month = await cost_repository.get_summary(user, PERIOD)
    days = await cost_repository.list_day_summaries(user, "2026-02-01", "2026-02-28")

    assert round(sum(day.total_cost for day in days), 10) == month.total_cost == 1.014
    assert sum(day.total_requests for day in days) == month.total_requests == 12
    per_model: dict[str, float] = {}
    for summary in days:
        for model in summary.models:
            per_model[model.model_id] = round(per_model.get(model.model_id, 0.0) + model.total_cost, 10)
    assert per_model == {model.model_id: model.total_cost for model in month.models}


async def test_model_ids_keep_every_character_in_days(cost_repository: CostRepository) -> None:
    user = random_user_id()
    await cost_repository.add(entry(user, cost=0.2, model_id="a#MODEL#b", day=DAY))
    await cost_repository.add(entry(user, cost=0.1, model_id="a", day=DAY))

    (day,) = await cost_repository.list_day_summaries(user, DAY, DAY)

    assert [(model.model_id, model.total_cost) for model in day.models] == [("a#MODEL#b", 0.2), ("a", 0.1)]


async def test_the_system_adds_up_every_user_and_counts_each_active_user_once(cost_repository: CostRepository) -> None:
    alice, bob = random_user_id(), random_user_id()
    await cost_repository.add(entry(alice, cost=0.1, model_id="m-1", day="2026-02-01", cache_savings=0.01))
    await cost_repository.add(entry(alice, cost=0.2, model_id="m-2", day="2026-02-01"))
    await cost_repository.add(entry(alice, cost=0.3, model_id="m-1", day="2026-02-02"))
    await cost_repository.add(entry(bob, cost=0.4, model_id="m-1", day="2026-02-02", provider="openai"))

    month = await cost_repository.get_system_summary("2026-02")
    first = await cost_repository.get_system_summary("2026-02-01")
    second = await cost_repository.get_system_summary("2026-02-02")

    assert (month.period, month.total_cost, month.total_requests, month.active_users) == ("2026-02", 1.0, 4, 2)
    assert (month.input_tokens, month.output_tokens, month.total_tokens, month.cache_savings) == (40, 20, 60, 0.01)
    assert [(m.model_id, m.total_cost, m.total_requests, m.unique_users) for m in month.models] == [
        ("m-1", 0.8, 3, 2),
        ("m-2", 0.2, 1, 1),
    ]
    assert month.models[0].provider == "openai"  # the latest entry's
    assert (first.total_cost, first.active_users, second.total_cost, second.active_users) == (0.3, 1, 0.7, 2)
    assert [(m.model_id, m.total_cost, m.total_requests) for m in second.models] == [("m-1", 0.7, 2)]
    assert month.updated_at is not None


async def test_a_period_without_spend_has_empty_system_totals(cost_repository: CostRepository) -> None:
    await cost_repository.add(entry(random_user_id(), cost=0.1, day=DAY))

    assert await cost_repository.get_system_summary("2026-03") == SystemCostSummary(period="2026-03")
    assert await cost_repository.get_system_summary("2026-02-13") == SystemCostSummary(period="2026-02-13")


async def test_system_days_list_each_day_with_spend_across_months(cost_repository: CostRepository) -> None:
    users = [random_user_id() for _ in range(3)]
    for day, user, cost in [
        ("2026-01-29", users[0], 5.0),
        ("2026-01-30", users[0], 0.1),
        ("2026-01-30", users[1], 0.2),
        ("2026-02-02", users[2], 0.4),
        ("2026-02-02", users[2], 0.4),
        ("2026-02-03", users[0], 7.0),
    ]:
        await cost_repository.add(entry(user, cost=cost, day=day))

    days = await cost_repository.list_system_days("2026-01-30", "2026-02-02")

    assert [(day.period, day.total_cost, day.total_requests, day.active_users) for day in days] == [
        ("2026-01-30", 0.3, 2, 2),
        ("2026-02-02", 0.8, 2, 1),
    ]
    assert all(day.models == [] for day in days)


async def test_concurrent_adds_of_many_users_add_up_exactly(cost_repository: CostRepository) -> None:
    users = [random_user_id() for _ in range(6)]
    entries = [
        entry(
            users[index % 6], cost=0.001 * (index + 1), model_id=f"m-{index % 2}", day=f"2026-02-0{1 + index // 6 % 3}"
        )
        for index in range(48)
    ]

    await asyncio.gather(*(cost_repository.add(item) for item in entries))

    month = await cost_repository.get_system_summary(PERIOD)
    assert (month.total_cost, month.total_requests, month.active_users) == (1.176, 48, 6)  # 0.001 x (1 + ... + 48)
    assert {model.model_id: model.unique_users for model in month.models} == {"m-0": 3, "m-1": 3}
    days = await cost_repository.list_system_days("2026-02-01", "2026-02-03")
    assert [day.active_users for day in days] == [6, 6, 6]
    assert round(sum(day.total_cost for day in days), 10) == 1.176
    tops = await cost_repository.list_top_users(PERIOD, limit=10)
    assert round(sum(user.total_cost for user in tops), 10) == 1.176


async def test_concurrent_first_writes_of_one_user_count_them_once(cost_repository: CostRepository) -> None:
    user, other = random_user_id(), random_user_id()

    await asyncio.gather(
        *(cost_repository.add(entry(user, cost=0.01, model_id="m", day=DAY)) for _ in range(12)),
        *(cost_repository.add(entry(other, cost=0.02, model_id="m", day=DAY)) for _ in range(12)),
    )

    month, day = await cost_repository.get_system_summary(PERIOD), await cost_repository.get_system_summary(DAY)
    assert (month.active_users, day.active_users, month.models[0].unique_users) == (2, 2, 2)
    assert (month.total_cost, month.total_requests, day.total_cost) == (0.36, 24, 0.36)
    assert (await cost_repository.get_summary(user, PERIOD)).total_requests == 12


async def test_top_users_are_the_costliest_of_the_month_first(cost_repository: CostRepository) -> None:
    cheap, dear, middle, tied = (random_user_id() for _ in range(4))
    for user, cost in ((cheap, 0.01), (dear, 2.5), (middle, 0.4), (tied, 0.4), (dear, 0.5)):
        await cost_repository.add(entry(user, cost=cost))
    await cost_repository.add(entry(cheap, cost=99.0, period="2026-03"))

    tops = await cost_repository.list_top_users(PERIOD, limit=10)

    assert [(user.user_id, user.total_cost, user.total_requests) for user in tops] == [
        (dear, 3.0, 2),
        *sorted([(middle, 0.4, 1), (tied, 0.4, 1)]),
        (cheap, 0.01, 1),
    ]
    assert all(user.period == PERIOD and user.updated_at for user in tops)
    assert [user.user_id for user in await cost_repository.list_top_users(PERIOD, limit=1)] == [dear]
    assert {user.user_id for user in await cost_repository.list_top_users(PERIOD, limit=10, min_cost=0.4)} == {
        dear,
        middle,
        tied,
    }
    assert await cost_repository.list_top_users("2026-04", limit=10) == []


async def test_a_months_users_come_in_pages_each_once(cost_repository: CostRepository) -> None:
    users = {random_user_id(): round(0.001 * (index + 1), 10) for index in range(23)}
    for user, cost in users.items():
        await cost_repository.add(entry(user, cost=cost))
    await cost_repository.add(entry(random_user_id(), cost=1.0, period="2026-03"))

    seen: list[tuple[str, float]] = []
    token: str | None = None
    pages = 0
    while True:
        page = await cost_repository.list_period_users(PERIOD, limit=5, page_token=token)
        assert len(page.items) <= 5
        seen.extend((user.user_id, user.total_cost) for user in page.items)
        pages += 1
        if page.next_token is None:
            break
        token = page.next_token

    assert sorted(seen) == sorted(users.items())
    assert pages == 5
    with pytest.raises(InvalidPageToken):
        await cost_repository.list_period_users(PERIOD, limit=5, page_token="not-a-token")
