"""The reference client's admin user screens against the app API, through HTTP, on SQLite and DynamoDB (moto):
lookup by email, the domain filter, paging with `cursor`/`nextCursor`, and the user detail's shape."""

from __future__ import annotations

from typing import Any

import pytest

from apis.shared.auth import mint_local_token
from tests.fixtures.services import Services
from tests.helpers import random_session_id, random_user_id

QUOTA_STATUS_WITHOUT_A_QUOTA = {
    "tierId": None,
    "tierName": None,
    "matchedBy": None,
    "monthlyLimit": None,
    "usagePercentage": 0.0,
    "remaining": None,
    "hasActiveOverride": False,
    "overrideReason": None,
}


def signed_in_as(services: Services, user_id: str, email: str | None, roles: tuple[str, ...] = ()) -> dict[str, str]:
    token = mint_local_token(
        settings=services.settings.auth,
        data_dir=services.settings.storage.data_dir,
        user_id=user_id,
        email=email,
        name=user_id.title(),
        roles=roles,
    )
    return {"Authorization": f"Bearer {token}"}


async def sign_in(services: Services, user_id: str, email: str | None) -> None:
    """A request by the user, which syncs their profile from the token."""
    me = await services.app.get("/users/me", headers=signed_in_as(services, user_id, email))
    assert me.status_code == 200, me.text


async def test_an_admin_finds_users_by_their_exact_email(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    ada = random_user_id()
    await sign_in(services, ada, "Ada.Lovelace@Analytical.example")
    await sign_in(services, random_user_id(), "ada.lovelace@analytical.example.org")

    found = await services.app.get(
        "/admin/users/search", params={"email": " ada.lovelace@ANALYTICAL.example "}, headers=admin
    )
    prefix = await services.app.get("/admin/users/search", params={"email": "ada.lovelace@"}, headers=admin)
    nobody = await services.app.get("/admin/users/search", params={"email": "nobody@nowhere.example"}, headers=admin)
    no_email = await services.app.get("/admin/users/search", headers=admin)
    refused = await services.app.get("/admin/users/search", params={"email": "x@y.z"}, headers=services.auth(ada))

    assert found.status_code == 200, found.text
    assert [(u["userId"], u["email"]) for u in found.json()["users"]] == [(ada, "Ada.Lovelace@Analytical.example")]
    assert found.json()["nextCursor"] is None
    assert prefix.json()["users"] == nobody.json()["users"] == []
    assert (no_email.status_code, no_email.json()["code"]) == (422, "validation_error")
    assert (refused.status_code, refused.json()["code"]) == (403, "admin_required")


async def test_the_domain_filter_lists_the_domains_users_have(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    mover = random_user_id()
    await sign_in(services, mover, "m@Old.example")
    await sign_in(services, random_user_id(), "b@beta.example")
    await sign_in(services, mover, "m@new.example")

    domains = await services.app.get("/admin/users/domains/list", headers=admin)
    first = await services.app.get("/admin/users/domains/list", params={"limit": 1}, headers=admin)
    too_many = await services.app.get("/admin/users/domains/list", params={"limit": 201}, headers=admin)
    refused = await services.app.get("/admin/users/domains/list", headers=services.auth(mover))

    # "example.com" is the admin's own (every test token's email is <user>@example.com).
    assert domains.json() == ["beta.example", "example.com", "new.example"]
    assert first.json() == ["beta.example"]
    assert too_many.status_code == 422
    assert (refused.status_code, refused.json()["code"]) == (403, "admin_required")


async def test_the_list_pages_with_cursor_and_next_token_alike(services: Services) -> None:
    admin = services.auth_as("a-root", roles=["admin"])
    ids = sorted(f"u-{random_user_id()}" for _ in range(3))
    for user_id in ids:
        await sign_in(services, user_id, f"{user_id}@paged.example")

    async def every_page(token_name: str) -> list[str]:
        seen: list[str] = []
        params: dict[str, Any] = {"status": "active", "domain": "paged.example", "limit": 2}
        while True:
            page = (await services.app.get("/admin/users", params=params, headers=admin)).json()
            assert page["nextCursor"] == page["nextToken"]
            seen += [user["userId"] for user in page["users"]]
            if page["nextCursor"] is None:
                return seen
            params[token_name] = page["nextCursor"]

    by_cursor, by_token = await every_page("cursor"), await every_page("next_token")
    inactive = await services.app.get("/admin/users", params={"status": "inactive"}, headers=admin)
    both = await services.app.get("/admin/users", params={"limit": 1, "cursor": "a", "next_token": "b"}, headers=admin)

    assert by_cursor == by_token == ids
    assert inactive.json() == {"users": [], "nextToken": None, "nextCursor": None}
    assert (both.status_code, both.json()["code"]) == (400, "invalid_page_token")


async def test_the_user_detail_has_the_references_shape_with_the_month_cost(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    priced = {"modelId": "local-priced", "modelName": "Priced", "provider": "local"}
    prices = {"inputPricePerMillionTokens": 2.0, "outputPricePerMillionTokens": 8.0}
    created = await services.app.post("/admin/managed-models", json={**priced, **prices}, headers=admin)
    assert created.status_code == 201, created.text
    user = random_user_id()
    turn = await services.inference.post(
        "/invocations",
        json={"session_id": random_session_id(), "message": "hi", "model_id": "local-priced"},
        headers=services.auth(user),
    )
    assert turn.status_code == 200

    detail = await services.app.get(f"/admin/users/{user}", headers=admin)

    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert {"profile", "costSummary", "quotaStatus", "recentEvents"} <= set(body)
    assert (body["profile"]["userId"], body["profile"]["email"]) == (user, f"{user}@example.com")
    assert body["profile"]["emailDomain"] == "example.com"
    cost = body["costSummary"]
    assert set(cost) == {
        "totalCost",
        "totalRequests",
        "totalInputTokens",
        "totalOutputTokens",
        "cacheSavings",
        "primaryModel",
    }
    assert (cost["totalRequests"], cost["primaryModel"]) == (1, "local-priced")
    expected = (cost["totalInputTokens"] * 2.0 + cost["totalOutputTokens"] * 8.0) / 1_000_000
    assert cost["totalCost"] == pytest.approx(expected)
    assert cost["totalCost"] > 0
    assert body["quotaStatus"] == {**QUOTA_STATUS_WITHOUT_A_QUOTA, "currentUsage": cost["totalCost"]}
    assert body["recentEvents"] == []


async def test_a_user_without_usage_has_a_zero_month(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    user = random_user_id()
    await sign_in(services, user, None)

    body = (await services.app.get(f"/admin/users/{user}", headers=admin)).json()

    assert body["profile"]["email"] is None
    assert body["costSummary"] == {
        "totalCost": 0.0,
        "totalRequests": 0,
        "totalInputTokens": 0,
        "totalOutputTokens": 0,
        "cacheSavings": 0.0,
        "primaryModel": None,
    }
    assert body["quotaStatus"] == {**QUOTA_STATUS_WITHOUT_A_QUOTA, "currentUsage": 0.0}


async def test_the_user_detail_is_404_for_unknown_users_and_403_for_others(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    user = random_user_id()
    await sign_in(services, user, f"{user}@example.com")

    unknown = await services.app.get(f"/admin/users/{random_user_id()}", headers=admin)
    refused = await services.app.get(f"/admin/users/{user}", headers=services.auth(user))

    assert (unknown.status_code, unknown.json()["code"]) == (404, "user_not_found")
    assert (refused.status_code, refused.json()["code"]) == (403, "admin_required")
