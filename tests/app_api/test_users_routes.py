"""/users/me, /users/search and the admin user routes, through HTTP."""

from __future__ import annotations

import pytest

from tests.fixtures.services import Services
from tests.helpers import random_user_id


async def test_me_is_synced_from_the_token_with_permissions(local_services: Services) -> None:
    user = random_user_id()

    me = (await local_services.app.get("/users/me", headers=local_services.auth_as(user, roles=["staff"]))).json()

    assert me["userId"] == user
    assert me["email"] == f"{user}@example.com"
    assert me["emailDomain"] == "example.com"
    assert me["roles"] == ["staff"]
    assert me["status"] == "active"
    assert me["effectivePermissions"]["appRoles"] == ["default"]
    assert me["effectivePermissions"]["isAdmin"] is False


async def test_an_admins_permissions_come_from_admin_jwt_roles(local_services: Services) -> None:
    me = (await local_services.app.get("/users/me", headers=local_services.auth_as("root", roles=["admin"]))).json()

    assert me["effectivePermissions"]["isAdmin"] is True
    assert me["effectivePermissions"]["models"] == ["*"]
    assert "system_admin" in me["effectivePermissions"]["appRoles"]


async def test_search_finds_by_name_or_email_and_pages(local_services: Services) -> None:
    ids = [f"searchable-{index}-{random_user_id()}" for index in range(3)]
    for user in ids:
        await local_services.app.get("/users/me", headers=local_services.auth(user))
    headers = local_services.auth(random_user_id())

    first = (
        await local_services.app.get("/users/search", params={"q": "SEARCHABLE", "limit": 2}, headers=headers)
    ).json()
    second = (
        await local_services.app.get(
            "/users/search", params={"q": "searchable", "limit": 2, "next_token": first["nextToken"]}, headers=headers
        )
    ).json()

    found = [u["userId"] for u in first["users"] + second["users"]]
    assert sorted(found) == sorted(ids)
    assert set(first["users"][0]) == {"userId", "email", "name"}
    assert second["nextToken"] is None


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": "a"}, 400),
        ({"q": " b "}, 400),
        ({}, 422),
        ({"q": "ab", "limit": 51}, 422),
        ({"q": "ab", "next_token": "x"}, 400),
    ],
)
async def test_search_rejects_bad_queries(local_services: Services, params: dict[str, str | int], status: int) -> None:
    response = await local_services.app.get(
        "/users/search", params=params, headers=local_services.auth(random_user_id())
    )

    assert response.status_code == status


async def test_admin_lists_filter_by_status_and_domain(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])
    alice, bob = random_user_id(), random_user_id()
    for user in (alice, bob):
        await local_services.app.get("/users/me", headers=local_services.auth(user))
    await local_services.app.patch(f"/admin/users/{bob}", json={"status": "suspended"}, headers=admin)

    suspended = (await local_services.app.get("/admin/users", params={"status": "suspended"}, headers=admin)).json()
    by_domain = (await local_services.app.get("/admin/users", params={"domain": "EXAMPLE.com"}, headers=admin)).json()
    nowhere = (await local_services.app.get("/admin/users", params={"domain": "elsewhere.org"}, headers=admin)).json()

    assert [u["userId"] for u in suspended["users"]] == [bob]
    assert {alice, bob} <= {u["userId"] for u in by_domain["users"]}
    assert nowhere["users"] == []


async def test_admin_reads_a_user_with_permissions_and_404s_unknown(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])
    user = random_user_id()
    await local_services.app.get("/users/me", headers=local_services.auth(user))

    found = await local_services.app.get(f"/admin/users/{user}", headers=admin)
    missing = await local_services.app.get(f"/admin/users/{random_user_id()}", headers=admin)
    bad_status = await local_services.app.patch(f"/admin/users/{user}", json={"status": "deleted"}, headers=admin)
    missing_patch = await local_services.app.patch(
        f"/admin/users/{random_user_id()}", json={"status": "suspended"}, headers=admin
    )

    assert found.json()["effectivePermissions"]["appRoles"] == ["default"]
    assert (missing.status_code, missing.json()["code"]) == (404, "user_not_found")
    assert bad_status.status_code == 422
    assert missing_patch.status_code == 404
