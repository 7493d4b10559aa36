"""Admin cost analytics through HTTP on both backends: the dashboard, system summary, by-model, top users, trends
and the export agree to the cent with the stored answers of real turns; only admins get in."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apis.shared.costs import CostEntry, analytics, this_month, today
from apis.shared.sessions import TokenUsage
from apis.shared.storage import Storage
from tests.fixtures.services import Services
from tests.helpers import random_user_id
from tests.shared.costs.spending import PRICED, Spent, cents, spend
from tests.turn_accounting import PRICED_MODEL, add_priced_model

ROUTES = [
    "/admin/costs/dashboard",
    "/admin/costs/top-users",
    "/admin/costs/system-summary",
    "/admin/costs/by-model",
    "/admin/costs/trends?startDate=2026-01-01&endDate=2026-01-31",
    "/admin/costs/export",
]


def _admin(services: Services) -> dict[str, str]:
    return services.auth_as("root", roles=["admin"])


async def _three_users_spend(services: Services) -> dict[str, Spent]:
    await add_priced_model(services.app, _admin(services))
    plan = {random_user_id(): turns for turns in (4, 2, 1)}
    return {user: await spend(services, user, turns=turns, sessions=1) for user, turns in plan.items()}


def _total(spent: dict[str, Spent]) -> Decimal:
    return sum((figures.cost for figures in spent.values()), Decimal(0))


def _close(amount: float, expected: Decimal) -> bool:
    """Equal to the 1e-9 USD and so to the cent."""
    return abs(Decimal(repr(amount)) - expected) < Decimal("1e-9") and cents(amount) == cents(expected)


async def test_the_dashboard_and_each_view_agree_with_the_stored_answers(services: Services) -> None:
    spent = await _three_users_spend(services)
    total = _total(spent)
    admin = _admin(services)

    dashboard = await services.app.get("/admin/costs/dashboard", headers=admin)
    system = await services.app.get("/admin/costs/system-summary", headers=admin)
    daily = await services.app.get("/admin/costs/system-summary", params={"periodType": "daily"}, headers=admin)
    by_model = await services.app.get("/admin/costs/by-model", params={"period": this_month()}, headers=admin)
    top = await services.app.get("/admin/costs/top-users", headers=admin)

    for response in (dashboard, system, daily, by_model, top):
        assert response.status_code == 200, response.text
    current = dashboard.json()["currentPeriod"]
    assert current == system.json() | {"lastUpdated": current["lastUpdated"]}
    assert (current["period"], current["periodType"], current["activeUsers"]) == (this_month(), "monthly", 3)
    assert _close(current["totalCost"], total)
    assert _close(current["modelBreakdown"][PRICED]["cost"], total)
    assert current["modelBreakdown"][PRICED]["requests"] == sum(figures.answers for figures in spent.values())
    assert (daily.json()["period"], daily.json()["periodType"], daily.json()["activeUsers"]) == (today(), "daily", 3)
    assert _close(daily.json()["totalCost"], total)

    (priced,) = [model for model in by_model.json() if model["modelId"] == PRICED]
    assert priced == next(model for model in dashboard.json()["modelUsage"] if model["modelId"] == PRICED)
    assert (priced["modelName"], priced["provider"], priced["uniqueUsers"]) == (PRICED_MODEL["modelName"], "local", 3)
    assert _close(priced["totalCost"], total)
    assert priced["totalInputTokens"] == sum(figures.input_tokens for figures in spent.values())
    assert abs(priced["avgCostPerRequest"] - priced["totalCost"] / priced["totalRequests"]) < 1e-12

    ranked = sorted(spent, key=lambda user: -spent[user].cost)
    assert [row["userId"] for row in top.json()] == ranked
    assert top.json() == dashboard.json()["topUsers"]
    for row in top.json():
        assert _close(row["totalCost"], spent[row["userId"]].cost)
        assert row["email"] == f"{row['userId']}@example.com"
        assert row["lastUpdated"]
    (trend,) = [day for day in dashboard.json()["dailyTrends"] if day["date"] == today()]
    assert trend["activeUsers"] == 3
    assert _close(trend["totalCost"], total)


async def test_top_users_take_a_limit_and_a_minimum_cost(services: Services) -> None:
    spent = await _three_users_spend(services)
    admin = _admin(services)
    ranked = sorted(spent, key=lambda user: -spent[user].cost)

    one = await services.app.get("/admin/costs/top-users", params={"limit": 1}, headers=admin)
    above = await services.app.get(
        "/admin/costs/top-users", params={"minCost": str(spent[ranked[1]].cost)}, headers=admin
    )
    other_month = await services.app.get("/admin/costs/top-users", params={"period": "2020-01"}, headers=admin)

    assert [row["userId"] for row in one.json()] == ranked[:1]
    assert [row["userId"] for row in above.json()] == ranked[:2]
    assert other_month.json() == []


async def test_trends_have_each_day_of_the_range_and_agree_with_the_answers(services: Services) -> None:
    spent = await _three_users_spend(services)
    start = (datetime.now(UTC).date() - timedelta(days=90)).isoformat()

    response = await services.app.get(
        "/admin/costs/trends", params={"startDate": start, "endDate": today()}, headers=_admin(services)
    )

    assert response.status_code == 200, response.text
    days = response.json()
    assert len(days) == 91
    assert (days[0]["date"], days[-1]["date"]) == (start, today())
    assert all(day["totalCost"] == 0 for day in days[:-1])
    assert _close(days[-1]["totalCost"], _total(spent))
    assert days[-1]["activeUsers"] == 3


async def test_the_export_lists_every_user_of_the_month_with_their_totals(services: Services) -> None:
    spent = await _three_users_spend(services)
    admin = _admin(services)

    as_csv = await services.app.get("/admin/costs/export", headers=admin)
    as_json = await services.app.get("/admin/costs/export", params={"format": "json"}, headers=admin)

    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert f"cost_report_{this_month()}.csv" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {row["User ID"] for row in rows} == set(spent)
    for row in rows:
        assert Decimal(row["Total Cost ($)"]) == spent[row["User ID"]].cost.quantize(Decimal("1e-10"))
        assert int(row["Total Requests"]) == spent[row["User ID"]].answers
        assert row["Email"] == f"{row['User ID']}@example.com"
    exported = {row["userId"]: row for row in json.loads(as_json.text)}
    assert {user: row["totalCost"] for user, row in exported.items()} == {
        row["User ID"]: float(row["Total Cost ($)"]) for row in rows
    }
    assert {row["email"] for row in exported.values()} == {f"{user}@example.com" for user in spent}


async def test_the_export_reads_every_page_and_is_never_capped(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analytics, "EXPORT_PAGE_SIZE", 4)  # pages of 4 users: many pages from few writes
    storage: Storage = services.app_asgi.state.storage
    users = [f"bulk-{index:04d}-{random_user_id()}" for index in range(23)]
    for index, user in enumerate(users):
        await storage.costs.add(
            CostEntry(
                user_id=user,
                day=today(),
                model_id="m",
                provider="local",
                usage=TokenUsage(input_tokens=1),
                cost=0.0001 * (index + 1),
            )
        )

    response = await services.app.get("/admin/costs/export", headers=_admin(services))

    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(row["User ID"] for row in rows) == sorted(users)
    assert sum(Decimal(row["Total Cost ($)"]) for row in rows) == Decimal("0.0276")  # 0.0001 x (1 + ... + 23)


@pytest.mark.parametrize("route", ROUTES)
async def test_only_admins_see_costs(services: Services, route: str) -> None:
    plain = await services.app.get(route, headers=services.auth(random_user_id()))
    anonymous = await services.app.get(route)

    assert plain.status_code == 403, plain.text
    assert plain.json()["code"] == "admin_required"
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("route", "params", "code"),
    [
        ("/admin/costs/trends", {"startDate": "2026-01-01", "endDate": "2026-04-02"}, "invalid_date_range"),
        ("/admin/costs/trends", {"startDate": "2026-02-02", "endDate": "2026-02-01"}, "invalid_date_range"),
        ("/admin/costs/system-summary", {"periodType": "daily", "period": "2026-02"}, "invalid_period"),
        ("/admin/costs/system-summary", {"period": "2026-02-01"}, "invalid_period"),
        ("/admin/costs/system-summary", {"periodType": "daily", "period": "2026-02-30"}, "invalid_period"),
        ("/admin/costs/top-users", {"tierId": "gold"}, "unsupported_filter"),
    ],
)
async def test_rules_broken_are_400(services: Services, route: str, params: dict[str, str], code: str) -> None:
    response = await services.app.get(route, params=params, headers=_admin(services))

    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert {"detail", "code", "requestId"} <= set(response.json())


@pytest.mark.parametrize(
    ("route", "params"),
    [
        ("/admin/costs/dashboard", {"period": "2026-2"}),
        ("/admin/costs/dashboard", {"topUsersLimit": "0"}),
        ("/admin/costs/top-users", {"limit": "1001"}),
        ("/admin/costs/top-users", {"minCost": "-1"}),
        ("/admin/costs/top-users", {"minCost": "1.7e307"}),
        ("/admin/costs/system-summary", {"periodType": "weekly"}),
        ("/admin/costs/by-model", {"period": "2026-00"}),
        ("/admin/costs/trends", {"startDate": "2026-01-01"}),
        ("/admin/costs/trends", {"startDate": "01/01/2026", "endDate": "2026-01-02"}),
        ("/admin/costs/export", {"format": "xml"}),
    ],
)
async def test_malformed_parameters_are_422(services: Services, route: str, params: dict[str, str]) -> None:
    response = await services.app.get(route, params=params, headers=_admin(services))

    assert response.status_code == 422, response.text
