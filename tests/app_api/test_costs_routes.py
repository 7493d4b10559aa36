"""The caller's own usage through HTTP on both backends: `/costs/summary` and `/costs/detailed-report` agree to the
cent with the stored answers of real turns, in the reference's shape; errors keep our semantics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apis.shared.costs import month_days, this_month, today
from tests.fixtures.services import Services
from tests.helpers import random_user_id
from tests.shared.costs.spending import PRICED, Spent, cents, spend
from tests.turn_accounting import PRICED_MODEL, add_priced_model


def _days_ago(days: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=days)).isoformat()


def _priced_model(body: dict[str, Any]) -> dict[str, Any]:
    models: list[dict[str, Any]] = [model for model in body["models"] if model["modelId"] == PRICED]
    assert len(models) == 1
    return models[0]


def _assert_agrees(body: dict[str, Any], user_id: str, spent: Spent) -> None:
    """The reference's fields, with the priced model's figures equal to the stored answers'."""
    assert body["userId"] == user_id
    assert abs(body["totalCost"] - spent.usd) < 1e-9
    assert cents(body["totalCost"]) == cents(spent.cost)
    assert body["totalRequests"] == sum(model["requestCount"] for model in body["models"])
    assert body["totalInputTokens"] == sum(model["totalInputTokens"] for model in body["models"])
    model = _priced_model(body)
    assert (model["modelName"], model["provider"]) == (PRICED_MODEL["modelName"], "local")
    assert (model["requestCount"], model["totalInputTokens"], model["totalOutputTokens"]) == (
        spent.answers,
        spent.input_tokens,
        spent.output_tokens,
    )
    assert abs(model["costBreakdown"]["totalCost"] - spent.usd) < 1e-9
    assert set(model["costBreakdown"]) == {"inputCost", "outputCost", "cacheWriteCost", "cacheReadCost", "totalCost"}
    assert {"totalCacheReadTokens", "totalCacheWriteTokens", "totalCacheSavings", "periodStart"} <= set(body)


async def test_the_months_summary_and_a_report_agree_with_the_stored_answers(services: Services) -> None:
    await add_priced_model(services.app, services.auth_as(random_user_id(), roles=["admin"]))
    ada, bob = random_user_id(), random_user_id()
    spent = await spend(services, ada, turns=5)
    await spend(services, bob, turns=2, sessions=1)
    headers = services.auth(ada)

    summary = await services.app.get("/costs/summary", headers=headers)
    explicit = await services.app.get("/costs/summary", params={"period": this_month()}, headers=headers)
    report = await services.app.get(
        "/costs/detailed-report", params={"start_date": _days_ago(30), "end_date": today()}, headers=headers
    )
    only_today = await services.app.get(
        "/costs/detailed-report", params={"start_date": today(), "end_date": today()}, headers=headers
    )

    for response in (summary, explicit, report, only_today):
        assert response.status_code == 200, response.text
        _assert_agrees(response.json(), ada, spent)
    first, last = month_days(this_month())
    assert (summary.json()["periodStart"], summary.json()["periodEnd"]) == (f"{first}T00:00:00Z", f"{last}T23:59:59Z")
    assert (only_today.json()["periodStart"], only_today.json()["periodEnd"]) == (
        f"{today()}T00:00:00Z",
        f"{today()}T23:59:59Z",
    )


async def test_a_period_or_range_without_spend_is_zeros(services: Services) -> None:
    headers = services.auth(random_user_id())

    month = await services.app.get("/costs/summary", params={"period": "2020-01"}, headers=headers)
    days = await services.app.get(
        "/costs/detailed-report", params={"start_date": _days_ago(90), "end_date": today()}, headers=headers
    )

    for response in (month, days):
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["totalCost"], body["totalRequests"], body["models"], body["totalCacheSavings"]) == (0, 0, [], 0)
    assert month.json()["periodEnd"] == "2020-01-31T23:59:59Z"


@pytest.mark.parametrize(
    ("start", "end"),
    [(_days_ago(91), today()), (today(), _days_ago(1))],
    ids=["more than 90 days", "end before start"],
)
async def test_a_range_too_long_or_backwards_is_400(services: Services, start: str, end: str) -> None:
    response = await services.app.get(
        "/costs/detailed-report", params={"start_date": start, "end_date": end}, headers=services.auth("u-1")
    )

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalid_date_range"
    assert {"detail", "code", "requestId"} <= set(body)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/costs/summary", {"period": "2026-13"}),
        ("/costs/summary", {"period": "202602"}),
        ("/costs/detailed-report", {"start_date": "2026-02-30", "end_date": "2026-03-01"}),
        ("/costs/detailed-report", {"start_date": "yesterday", "end_date": "2026-03-01"}),
        ("/costs/detailed-report", {"start_date": "2026-02-01"}),
    ],
)
async def test_malformed_parameters_are_422(services: Services, path: str, params: dict[str, str]) -> None:
    response = await services.app.get(path, params=params, headers=services.auth("u-1"))

    assert response.status_code == 422, response.text
    assert {"detail", "code", "requestId"} <= set(response.json())


@pytest.mark.parametrize("path", ["/costs/summary", "/costs/detailed-report?start_date=2026-01-01&end_date=2026-01-02"])
async def test_usage_needs_a_token(services: Services, path: str) -> None:
    response = await services.app.get(path)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
