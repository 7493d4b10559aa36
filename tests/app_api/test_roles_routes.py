"""The admin roles routes: create, read, update, delete, the system roles' protection, and effect on callers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from apis.shared.config import AuthMode, AuthSettings
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings, random_user_id


def role(role_id: str, **fields: Any) -> dict[str, Any]:
    return {"roleId": role_id, "displayName": role_id.replace("_", " ").title(), **fields}


async def test_system_roles_are_seeded_and_listed_with_permissions(local_services: Services) -> None:
    listing = (
        await local_services.app.get("/admin/roles", headers=local_services.auth_as("root", roles=["admin"]))
    ).json()

    by_id = {r["roleId"]: r for r in listing["roles"]}
    assert listing["totalCount"] == 2
    assert by_id["system_admin"]["jwtRoleMappings"] == ["admin"]
    assert by_id["system_admin"]["isSystemRole"] is True
    assert by_id["system_admin"]["effectivePermissions"]["isAdmin"] is True
    assert by_id["default"]["effectivePermissions"]["models"] == []


async def test_a_new_role_applies_to_its_token_role_at_once(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])
    staff = local_services.auth_as(random_user_id(), roles=["staff"])
    before = (await local_services.app.get("/users/me", headers=staff)).json()["effectivePermissions"]

    created = await local_services.app.post(
        "/admin/roles", json=role("staff_role", jwtRoleMappings=["staff"], grantedTools=["calculator"]), headers=admin
    )
    after = (await local_services.app.get("/users/me", headers=staff)).json()["effectivePermissions"]

    assert created.status_code == 201
    assert created.json()["effectivePermissions"]["tools"] == ["calculator"]
    assert before["appRoles"] == ["default"]
    assert after["appRoles"] == ["staff_role"]
    assert after["tools"] == ["calculator"]


async def test_inheritance_is_one_level(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])
    await local_services.app.post("/admin/roles", json=role("grandparent", grantedTools=["old"]), headers=admin)
    await local_services.app.post(
        "/admin/roles", json=role("parent_role", grantedTools=["mid"], inheritsFrom=["grandparent"]), headers=admin
    )
    child = await local_services.app.post(
        "/admin/roles", json=role("child_role", jwtRoleMappings=["kid"], inheritsFrom=["parent_role"]), headers=admin
    )

    assert child.json()["effectivePermissions"]["tools"] == ["mid"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (role("Bad-Id"), 422, "validation_error"),
        ({"displayName": "No id"}, 422, "validation_error"),
        (role("orphan", inheritsFrom=["missing_parent"]), 400, None),
        (role("system_admin"), 400, "system_role_protected"),
    ],
)
async def test_bad_role_writes_are_refused(
    local_services: Services, body: dict[str, Any], status: int, code: str | None
) -> None:
    response = await local_services.app.post(
        "/admin/roles", json=body, headers=local_services.auth_as("root", roles=["admin"])
    )

    assert response.status_code == status, response.text
    if code:
        assert response.json()["code"] == code


async def test_a_duplicate_role_id_is_409(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])
    first = await local_services.app.post("/admin/roles", json=role("twin_role"), headers=admin)

    second = await local_services.app.post("/admin/roles", json=role("twin_role", grantedTools=["x"]), headers=admin)

    assert first.status_code == 201
    assert (second.status_code, second.json()["code"]) == (409, "role_exists")
    assert (await local_services.app.get("/admin/roles/twin_role", headers=admin)).json()["grantedTools"] == []


async def test_update_delete_and_the_system_roles_protection(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])
    await local_services.app.post("/admin/roles", json=role("temp_role", grantedTools=["a"]), headers=admin)

    patched = await local_services.app.patch("/admin/roles/temp_role", json={"grantedTools": ["a", "b"]}, headers=admin)
    deleted = await local_services.app.delete("/admin/roles/temp_role", headers=admin)
    missing = [
        await local_services.app.get("/admin/roles/temp_role", headers=admin),
        await local_services.app.patch("/admin/roles/temp_role", json={"enabled": False}, headers=admin),
        await local_services.app.delete("/admin/roles/temp_role", headers=admin),
    ]
    protected = [
        await local_services.app.delete("/admin/roles/system_admin", headers=admin),
        await local_services.app.delete("/admin/roles/default", headers=admin),
        await local_services.app.patch("/admin/roles/system_admin", json={"enabled": False}, headers=admin),
    ]

    assert patched.json()["grantedTools"] == ["a", "b"]
    assert deleted.status_code == 204
    assert [r.status_code for r in missing] == [404, 404, 404]
    assert [r.status_code for r in protected] == [400, 400, 400]
    assert {r.json()["code"] for r in protected} == {"system_role_protected"}
    still_admin = (await local_services.app.get("/users/me", headers=admin)).json()
    assert still_admin["effectivePermissions"]["isAdmin"] is True


async def test_admin_jwt_roles_setting_makes_admins(tmp_path: Path) -> None:
    settings = service_settings(local_storage_settings(tmp_path))
    settings = settings.model_copy(
        update={"auth": AuthSettings(auth_mode=AuthMode.LOCAL, admin_jwt_roles="ops, platform")}
    )
    async with open_services(settings) as services:
        ops = (await services.app.get("/users/me", headers=services.auth_as("o", roles=["platform"]))).json()
        old = (await services.app.get("/users/me", headers=services.auth_as("a", roles=["admin"]))).json()

    assert ops["effectivePermissions"]["isAdmin"] is True
    assert old["effectivePermissions"]["isAdmin"] is False
