"""The cost summary service and the entry model, over the in-memory repository."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from apis.shared.costs import CostSummary, InvalidPeriod, ModelCostBreakdown, period_of, summaries
from apis.shared.errors import RuleViolation
from apis.shared.storage.memory.costs import InMemoryCostRepository
from tests.helpers import random_user_id
from tests.shared.costs.builders import PERIOD, entry, usage


@pytest.fixture
def costs() -> InMemoryCostRepository:
    return InMemoryCostRepository()


async def test_a_recorded_entry_shows_in_the_months_summary(costs: InMemoryCostRepository) -> None:
    user = random_user_id()

    await summaries.record(costs=costs, entry=entry(user, cost=0.42, usage=usage(7, 3)))
    summary = await summaries.summary(costs=costs, user_id=user, period=PERIOD)

    assert (summary.total_cost, summary.total_requests, summary.total_tokens) == (0.42, 1, 10)


async def test_a_valid_month_without_spend_is_zeros(costs: InMemoryCostRepository) -> None:
    user = random_user_id()

    for period in ("2026-01", "2026-12", "1999-10"):
        assert await summaries.summary(costs=costs, user_id=user, period=period) == CostSummary(
            user_id=user, period=period
        )


@pytest.mark.parametrize(
    "period", ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", "2026-01-15", "2026-01\n", " 2026-01", ""]
)
async def test_a_malformed_period_is_refused(costs: InMemoryCostRepository, period: str) -> None:
    with pytest.raises(InvalidPeriod) as raised:
        await summaries.summary(costs=costs, user_id=random_user_id(), period=period)

    assert isinstance(raised.value, RuleViolation)
    assert (raised.value.status_code, raised.value.code) == (400, "invalid_period")


@pytest.mark.parametrize(
    ("timestamp", "period"),
    [
        ("2026-01-31T23:59:59.999999Z", "2026-01"),
        ("2026-02-01T00:00:00.000000Z", "2026-02"),
        # Just after midnight on 1 March in Paris is still February in UTC.
        ("2026-03-01T00:30:00+01:00", "2026-02"),
        ("2025-12-31T20:00:00-05:00", "2026-01"),
        ("2026-07-04T12:00:00", "2026-07"),
    ],
)
def test_period_of_is_the_utc_month(timestamp: str, period: str) -> None:
    assert period_of(timestamp) == period


@pytest.mark.parametrize("timestamp", ["", "yesterday", "2026-13-01T00:00:00Z"])
def test_period_of_a_non_timestamp_is_refused(timestamp: str) -> None:
    with pytest.raises(InvalidPeriod):
        period_of(timestamp)


@pytest.mark.parametrize(
    "fields",
    [
        {"cost": -0.01},
        {"cost": math.nan},
        {"cost": math.inf},
        {"cost": 0.1, "cache_savings": -1.0},
        {"cost": 0.1, "requests": -1},
        {"cost": 0.1, "usage": usage(-5, 1)},
        {"cost": 0.1, "period": "2026-13"},
        {"cost": 0.1, "model_id": ""},
    ],
)
def test_an_entry_that_would_corrupt_the_counters_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        entry(random_user_id(), **fields)  # type: ignore[arg-type]


def test_an_entry_keeps_money_at_ten_decimal_places() -> None:
    recorded = entry(random_user_id(), cost=0.1 + 0.2, cache_savings=1.23456789012345e-3)

    assert (recorded.cost, recorded.cache_savings) == (0.3, 0.0012345679)


def test_a_summary_lists_models_costliest_first_then_by_id() -> None:
    summary = CostSummary(
        user_id=random_user_id(),
        period=PERIOD,
        models=[
            ModelCostBreakdown(model_id="b", provider="openai", total_cost=0.1),
            ModelCostBreakdown(model_id="c", provider="openai", total_cost=0.9),
            ModelCostBreakdown(model_id="a", provider="openai", total_cost=0.1),
        ],
    )

    assert [model.model_id for model in summary.models] == ["c", "a", "b"]


def test_a_summary_goes_out_in_camel_case() -> None:
    summary = CostSummary(user_id="u-1", period=PERIOD, models=[ModelCostBreakdown(model_id="m", provider="local")])

    dumped = summary.model_dump(by_alias=True)

    assert {"totalCost", "totalRequests", "cacheSavings", "cacheReadInputTokens", "updatedAt"} <= set(dumped)
    assert set(dumped["models"][0]) >= {"modelId", "totalCost", "cacheWriteInputTokens"}
