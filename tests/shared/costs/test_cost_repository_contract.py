"""The CostRepository contract, run against the in-memory fake, SQLite and DynamoDB (moto server)."""

from __future__ import annotations

import asyncio

from apis.shared.costs import CostRepository, CostSummary, ModelCostBreakdown
from tests.helpers import random_user_id
from tests.shared.costs.builders import PERIOD, entry, usage


async def test_an_added_entry_reads_back_as_the_months_totals_and_its_models_share(
    cost_repository: CostRepository,
) -> None:
    user = random_user_id()
    await cost_repository.add(
        entry(
            user,
            cost=0.0125,
            model_id="anthropic.claude-sonnet",
            provider="bedrock",
            usage=usage(1000, 200, cache_read=300, cache_write=40),
            cache_savings=0.0008,
            requests=2,
        )
    )

    summary = await cost_repository.get_summary(user, PERIOD)

    assert summary.model_dump(exclude={"updated_at"}) == {
        "user_id": user,
        "period": PERIOD,
        "total_cost": 0.0125,
        "total_requests": 2,
        "input_tokens": 1000,
        "output_tokens": 200,
        "total_tokens": 1200,
        "cache_read_input_tokens": 300,
        "cache_write_input_tokens": 40,
        "cache_savings": 0.0008,
        "models": [
            {
                "model_id": "anthropic.claude-sonnet",
                "provider": "bedrock",
                "total_cost": 0.0125,
                "total_requests": 2,
                "input_tokens": 1000,
                "output_tokens": 200,
                "cache_read_input_tokens": 300,
                "cache_write_input_tokens": 40,
            }
        ],
    }
    assert summary.updated_at is not None


async def test_two_models_break_down_costliest_first_and_add_up_to_the_totals(
    cost_repository: CostRepository,
) -> None:
    user = random_user_id()
    await cost_repository.add(entry(user, cost=0.01, model_id="cheap", usage=usage(100, 10)))
    await cost_repository.add(entry(user, cost=0.5, model_id="dear", provider="openai", usage=usage(2000, 300)))
    await cost_repository.add(entry(user, cost=0.02, model_id="cheap", usage=usage(50, 5)))

    summary = await cost_repository.get_summary(user, PERIOD)

    assert summary.models == [
        ModelCostBreakdown(
            model_id="dear",
            provider="openai",
            total_cost=0.5,
            total_requests=1,
            input_tokens=2000,
            output_tokens=300,
        ),
        ModelCostBreakdown(
            model_id="cheap",
            provider="bedrock",
            total_cost=0.03,
            total_requests=2,
            input_tokens=150,
            output_tokens=15,
        ),
    ]
    assert (summary.total_cost, summary.total_requests) == (0.53, 3)
    assert (summary.input_tokens, summary.output_tokens, summary.total_tokens) == (2150, 315, 2465)


async def test_models_of_equal_cost_are_ordered_by_model_id(cost_repository: CostRepository) -> None:
    user = random_user_id()
    for model_id in ("model-c", "model-a", "model-b"):
        await cost_repository.add(entry(user, cost=0.25, model_id=model_id))

    summary = await cost_repository.get_summary(user, PERIOD)

    assert [model.model_id for model in summary.models] == ["model-a", "model-b", "model-c"]


async def test_a_models_provider_is_the_latest_entrys(cost_repository: CostRepository) -> None:
    user = random_user_id()
    await cost_repository.add(entry(user, cost=0.1, model_id="llama3", provider="openai"))
    await cost_repository.add(entry(user, cost=0.1, model_id="llama3", provider="local"))

    summary = await cost_repository.get_summary(user, PERIOD)

    assert [(model.model_id, model.provider) for model in summary.models] == [("llama3", "local")]


async def test_concurrent_adds_all_count_exactly(cost_repository: CostRepository) -> None:
    user = random_user_id()
    entries = [
        entry(
            user,
            cost=0.001 * (index + 1),
            model_id="model-even" if index % 2 == 0 else "model-odd",
            usage=usage(index, 2 * index, cache_read=1, cache_write=index % 3),
            cache_savings=0.0001,
        )
        for index in range(30)
    ]

    await asyncio.gather(*(cost_repository.add(item) for item in entries))

    summary = await cost_repository.get_summary(user, PERIOD)
    assert summary.total_requests == 30
    assert summary.total_cost == 0.465  # 0.001 x (1 + 2 + ... + 30), summed exactly
    assert summary.cache_savings == 0.003
    assert (summary.input_tokens, summary.output_tokens, summary.total_tokens) == (435, 870, 1305)
    assert (summary.cache_read_input_tokens, summary.cache_write_input_tokens) == (30, 30)
    by_model = {model.model_id: model for model in summary.models}
    assert by_model["model-even"].total_requests == by_model["model-odd"].total_requests == 15
    assert by_model["model-even"].total_cost == 0.225  # 0.001 x (1 + 3 + ... + 29)
    assert by_model["model-odd"].total_cost == 0.24  # 0.001 x (2 + 4 + ... + 30)
    assert by_model["model-even"].input_tokens == sum(range(0, 30, 2))
    assert by_model["model-odd"].output_tokens == 2 * sum(range(1, 30, 2))


async def test_float_costs_sum_without_drift(cost_repository: CostRepository) -> None:
    user = random_user_id()
    await cost_repository.add(entry(user, cost=0.1))
    await cost_repository.add(entry(user, cost=0.2))
    assert abs((await cost_repository.get_summary(user, PERIOD)).total_cost - 0.3) < 1e-9

    for _ in range(7):
        await cost_repository.add(entry(user, cost=0.1))
    # Floats summed one by one would give 0.9999999999999999; money is summed at a fixed decimal scale.
    assert (await cost_repository.get_summary(user, PERIOD)).total_cost == 1.0


async def test_months_are_counted_apart(cost_repository: CostRepository) -> None:
    user = random_user_id()
    await cost_repository.add(entry(user, cost=0.4, period="2026-01"))
    await cost_repository.add(entry(user, cost=0.7, period="2026-02", model_id="model-b"))

    january = await cost_repository.get_summary(user, "2026-01")
    february = await cost_repository.get_summary(user, "2026-02")

    assert (january.total_cost, [model.model_id for model in january.models]) == (0.4, ["model-a"])
    assert (february.total_cost, [model.model_id for model in february.models]) == (0.7, ["model-b"])
    assert january.period == "2026-01"


async def test_users_are_counted_apart_even_with_lookalike_ids(cost_repository: CostRepository) -> None:
    user = random_user_id()
    # An id that a naive key scheme would confuse with `user`'s February totals.
    lookalike = f"{user}#COST#{PERIOD}"
    await cost_repository.add(entry(user, cost=0.3))
    await cost_repository.add(entry(lookalike, cost=0.6, model_id="model-b"))

    mine = await cost_repository.get_summary(user, PERIOD)
    theirs = await cost_repository.get_summary(lookalike, PERIOD)

    assert (mine.user_id, mine.total_cost, [model.model_id for model in mine.models]) == (user, 0.3, ["model-a"])
    assert (theirs.user_id, theirs.total_cost, [model.model_id for model in theirs.models]) == (
        lookalike,
        0.6,
        ["model-b"],
    )


async def test_model_ids_keep_every_character(cost_repository: CostRepository) -> None:
    user = random_user_id()
    arn = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude#v2:1"
    await cost_repository.add(entry(user, cost=0.2, model_id=arn))
    await cost_repository.add(entry(user, cost=0.1, model_id=f"{arn}#MODEL#x"))

    summary = await cost_repository.get_summary(user, PERIOD)

    assert [(model.model_id, model.total_cost) for model in summary.models] == [(arn, 0.2), (f"{arn}#MODEL#x", 0.1)]


async def test_a_month_without_spend_is_an_empty_summary(cost_repository: CostRepository) -> None:
    user = random_user_id()
    await cost_repository.add(entry(user, cost=0.3, period="2026-01"))

    assert await cost_repository.get_summary(user, "2026-03") == CostSummary(user_id=user, period="2026-03")
    stranger = random_user_id()
    empty = await cost_repository.get_summary(stranger, "2026-01")
    assert empty == CostSummary(user_id=stranger, period="2026-01")
    assert (empty.total_cost, empty.total_requests, empty.models, empty.updated_at) == (0.0, 0, [], None)


async def test_updated_at_moves_with_each_add(cost_repository: CostRepository) -> None:
    user = random_user_id()
    await cost_repository.add(entry(user, cost=0.1))
    first = (await cost_repository.get_summary(user, PERIOD)).updated_at
    await cost_repository.add(entry(user, cost=0.1))
    second = (await cost_repository.get_summary(user, PERIOD)).updated_at

    assert first is not None
    assert second is not None
    assert second >= first
