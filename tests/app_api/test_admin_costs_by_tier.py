"""GET /admin/costs/by-tier through HTTP on both backends: the month's users grouped by the quota tier that applies
to each (as of their last sign-in), in the reference's shape; 400 for a month not begun, 422 for a malformed
one, 403 for a non-admin, 503 when storage fails."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apis.shared.clock import to_iso, utc_now
from apis.shared.costs import CostEntry, this_month, today
from apis.shared.sessions import TokenUsage
from apis.shared.storage import Storage
from tests.fixtures.services import Services, on_own_moto, open_services, service_settings
from tests.helpers import BACKENDS, local_storage_settings, random_user_id

ROUTE = "/admin/costs/by-tier"


def _admin(services: Services) -> dict[str, str]:
    return services.auth_as("root", roles=["admin"])


async def _created(services: Services, path: str, body: dict[str, object]) -> dict[str, object]:
    response = await services.app.post(path, json=body, headers=_admin(services))
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def _signed_in_and_spent(services: Services, user_id: str, roles: list[str], cost: float) -> None:
    """The user signs in with `roles` (their profile keeps them) and spends `cost` today."""
    signed_in = await services.app.get("/sessions", headers=services.auth_as(user_id, roles=roles))
    assert signed_in.status_code == 200, signed_in.text
    storage: Storage = services.app_asgi.state.storage
    entry = CostEntry(
        user_id=user_id, day=today(), model_id="m", provider="local", usage=TokenUsage(input_tokens=1), cost=cost
    )
    await storage.costs.add(entry)


async def test_the_months_users_are_grouped_by_their_tier(services: Services) -> None:
    await _created(
        services, "/admin/roles", {"roleId": "members", "displayName": "Members", "jwtRoleMappings": ["member"]}
    )
    for tier_id, limit in (("gold", 10.0), ("basic", 1.0), ("spare", 5.0)):
        tier = {"tierId": tier_id, "tierName": tier_id.title(), "monthlyCostLimit": limit, "softLimitPercentage": 80}
        await _created(services, "/admin/quota/tiers", tier)
    await _created(
        services, "/admin/quota/assignments", {"tierId": "gold", "assignmentType": "app_role", "appRoleId": "members"}
    )
    await _created(services, "/admin/quota/assignments", {"tierId": "basic", "assignmentType": "default_tier"})
    lucky = random_user_id()
    override = await _created(
        services,
        "/admin/quota/overrides",
        {
            "userId": lucky,
            "overrideType": "unlimited",
            "validFrom": to_iso(utc_now() - timedelta(hours=1)),
            "validUntil": to_iso(utc_now() + timedelta(days=1)),
            "reason": "pilot",
        },
    )
    warned, calm, over, under = (random_user_id() for _ in range(4))
    for user_id, roles, cost in (
        (warned, ["member"], 9.0),  # 90 % of gold: past the soft limit
        (calm, ["member"], 2.0),
        (over, [], 1.5),  # past basic's limit
        (under, [], 0.5),
        (lucky, ["member"], 30.0),  # the override wins over the member's app role
    ):
        await _signed_in_and_spent(services, user_id, roles, cost)

    response = await services.app.get(ROUTE, headers=_admin(services))
    this_months = await services.app.get(ROUTE, params={"period": this_month()}, headers=_admin(services))
    earlier = await services.app.get(ROUTE, params={"period": "2020-01"}, headers=_admin(services))

    assert response.status_code == 200, response.text
    assert response.json() == this_months.json()
    assert response.json() == [
        {
            "tierId": f"override_{override['overrideId']}",
            "tierName": "Unlimited Override",
            "totalCost": 30.0,
            "totalUsers": 1,
            "usersAtLimit": 0,
            "usersWarned": 0,
            "avgUtilization": 0.0,
        },
        {
            "tierId": "gold",
            "tierName": "Gold",
            "totalCost": 11.0,
            "totalUsers": 2,
            "usersAtLimit": 0,
            "usersWarned": 1,
            "avgUtilization": 55.0,
        },
        {
            "tierId": "basic",
            "tierName": "Basic",
            "totalCost": 2.0,
            "totalUsers": 2,
            "usersAtLimit": 1,
            "usersWarned": 0,
            "avgUtilization": 100.0,
        },
        {
            "tierId": "spare",
            "tierName": "Spare",
            "totalCost": 0.0,
            "totalUsers": 0,
            "usersAtLimit": 0,
            "usersWarned": 0,
            "avgUtilization": 0.0,
        },
    ]
    assert [tier["totalUsers"] for tier in earlier.json()] == [0, 0, 0]


async def test_a_month_not_begun_is_400_and_a_malformed_one_422(services: Services) -> None:
    following = (datetime.now(UTC).replace(day=1) + timedelta(days=32)).strftime("%Y-%m")

    not_begun = await services.app.get(ROUTE, params={"period": following}, headers=_admin(services))
    malformed = [
        await services.app.get(ROUTE, params={"period": period}, headers=_admin(services))
        for period in ("2026-13", "2026-1", "last month")
    ]

    assert not_begun.status_code == 400, not_begun.text
    assert not_begun.json()["code"] == "invalid_period"
    assert {"detail", "code", "requestId"} <= set(not_begun.json())
    assert [response.status_code for response in malformed] == [422, 422, 422]


async def test_only_admins_see_usage_by_tier(services: Services) -> None:
    plain = await services.app.get(ROUTE, headers=services.auth(random_user_id()))
    anonymous = await services.app.get(ROUTE)

    assert plain.status_code == 403, plain.text
    assert plain.json()["code"] == "admin_required"
    assert anonymous.status_code == 401


@pytest.fixture(params=BACKENDS)
async def services_and_outage(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Services, Callable[[], Awaitable[None]]]]:
    """Both services, and what takes their storage away: the SQLite connections closed, or the moto server
    (one of this test's own) stopped."""
    if request.param == "local":
        async with open_services(service_settings(local_storage_settings(tmp_path))) as services:

            async def close() -> None:
                storage: Storage = services.app_asgi.state.storage
                await storage.close()

            yield services, close
        return
    request.getfixturevalue("moto_server_url")  # the fake credentials
    async with on_own_moto(tmp_path) as (services, server):

        async def stop() -> None:
            server.stop()

        yield services, stop


async def test_a_storage_failure_is_503(services_and_outage: tuple[Services, Callable[[], Awaitable[None]]]) -> None:
    services, outage = services_and_outage
    await _created(services, "/admin/quota/tiers", {"tierId": "gold", "tierName": "Gold", "monthlyCostLimit": 10})
    before = await services.app.get(ROUTE, headers=_admin(services))  # the admin's roles are cached from here on

    await outage()
    failed = await services.app.get(ROUTE, headers=_admin(services))

    assert before.status_code == 200, before.text
    assert failed.status_code == 503, failed.text
    assert failed.headers["retry-after"]
    assert failed.json()["code"] in {"storage_unavailable", "storage_error"}
