"""The tool catalogue's routes through HTTP on both backends: the reference's shapes, grants kept on the roles,
the user's list and preferences, and every refusal (401, 403, 404, 409, 422, 400)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.services import Services
from tests.helpers import random_user_id

ADMIN_TOOL_FIELDS = {
    "toolId",
    "displayName",
    "description",
    "category",
    "icon",
    "protocol",
    "status",
    "requiresOauthProvider",
    "isPublic",
    "allowedAppRoles",
    "enabledByDefault",
    "createdAt",
    "updatedAt",
    "createdBy",
    "updatedBy",
    "mcpConfig",
    "a2aConfig",
    "kind",
}
USER_TOOL_FIELDS = {
    "toolId",
    "displayName",
    "description",
    "category",
    "icon",
    "protocol",
    "status",
    "requiresOauthProvider",
    "grantedBy",
    "enabledByDefault",
    "userEnabled",
    "isEnabled",
}
BUILTINS = {"calculator", "current_time", "fetch_url_content", "create_visualization"}


def admin(services: Services) -> dict[str, str]:
    return services.auth_as("root", roles=["admin"])


async def staff_role(services: Services, role_id: str = "staff_role", token_role: str = "staff") -> None:
    response = await services.app.post(
        "/admin/roles",
        json={"roleId": role_id, "displayName": "Staff", "jwtRoleMappings": [token_role]},
        headers=admin(services),
    )
    assert response.status_code == 201, response.text


async def user_tools(services: Services, headers: dict[str, str]) -> dict[str, Any]:
    response = await services.app.get("/tools/", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_built_in_tools_are_in_the_catalogue_in_the_reference_shape(services: Services) -> None:
    response = await services.app.get("/admin/tools/", headers=admin(services))

    assert response.status_code == 200
    body = response.json()
    by_id = {tool["toolId"]: tool for tool in body["tools"]}
    assert set(by_id) >= BUILTINS
    assert body["total"] == len(body["tools"])
    calculator = by_id["calculator"]
    assert set(calculator) == ADMIN_TOOL_FIELDS
    assert calculator["protocol"] == "local"
    assert calculator["kind"] == "builtin"
    assert calculator["status"] == "active"
    assert calculator["allowedAppRoles"] == []
    assert calculator["mcpConfig"] is None


async def test_a_user_sees_only_the_tools_their_roles_grant(services: Services) -> None:
    await staff_role(services)
    member = services.auth_as(random_user_id(), roles=["staff"])
    outsider = services.auth(random_user_id())

    granted = await services.app.put(
        "/admin/tools/calculator/roles", json={"appRoleIds": ["staff_role"]}, headers=admin(services)
    )
    mine = await user_tools(services, member)
    theirs = await user_tools(services, outsider)

    assert granted.status_code == 200
    assert [tool["toolId"] for tool in mine["tools"]] == ["calculator"]
    tool = mine["tools"][0]
    assert set(tool) == USER_TOOL_FIELDS
    assert tool["grantedBy"] == ["staff_role"]
    assert (tool["userEnabled"], tool["isEnabled"], tool["enabledByDefault"]) == (None, True, True)
    assert mine["categories"] == ["utility"]
    assert mine["appRolesApplied"] == ["staff_role"]
    assert theirs["tools"] == []
    assert theirs["appRolesApplied"] == ["default"]


async def test_a_grant_lives_on_the_role_and_shows_on_the_tool(services: Services) -> None:
    await staff_role(services)

    await services.app.post(
        "/admin/tools/current_time/roles/add", json={"appRoleIds": ["staff_role"]}, headers=admin(services)
    )
    role = (await services.app.get("/admin/roles/staff_role", headers=admin(services))).json()
    tool = (await services.app.get("/admin/tools/current_time", headers=admin(services))).json()
    roles = (await services.app.get("/admin/tools/current_time/roles", headers=admin(services))).json()
    await services.app.post(
        "/admin/tools/current_time/roles/remove", json={"appRoleIds": ["staff_role"]}, headers=admin(services)
    )
    removed = (await services.app.get("/admin/roles/staff_role", headers=admin(services))).json()

    assert role["grantedTools"] == ["current_time"]
    assert tool["allowedAppRoles"] == ["staff_role"]
    grants = {grant["roleId"]: grant for grant in roles["roles"]}
    assert roles["toolId"] == "current_time"
    assert grants["staff_role"] == {
        "roleId": "staff_role",
        "displayName": "Staff",
        "grantType": "direct",
        "inheritedFrom": None,
        "enabled": True,
    }
    assert grants["system_admin"]["grantType"] == "inherited"
    assert grants["system_admin"]["inheritedFrom"] == "*"
    assert removed["grantedTools"] == []


async def test_set_roles_replaces_the_direct_grants(services: Services) -> None:
    await staff_role(services)
    await staff_role(services, "tutor_role", "tutor")
    headers = admin(services)

    await services.app.put("/admin/tools/calculator/roles", json={"appRoleIds": ["staff_role"]}, headers=headers)
    await services.app.put("/admin/tools/calculator/roles", json={"appRoleIds": ["tutor_role"]}, headers=headers)
    tool = (await services.app.get("/admin/tools/calculator", headers=headers)).json()

    assert tool["allowedAppRoles"] == ["tutor_role"]


async def test_a_public_tool_is_every_users(services: Services) -> None:
    changed = await services.app.put("/admin/tools/current_time", json={"isPublic": True}, headers=admin(services))
    anyone = await user_tools(services, services.auth(random_user_id()))

    assert changed.status_code == 200
    assert changed.json()["isPublic"] is True
    assert [(tool["toolId"], tool["grantedBy"]) for tool in anyone["tools"]] == [("current_time", ["public"])]


async def test_preferences_switch_a_tool_and_refuse_others(services: Services) -> None:
    await staff_role(services)
    await services.app.put(
        "/admin/tools/calculator/roles", json={"appRoleIds": ["staff_role"]}, headers=admin(services)
    )
    member = services.auth_as(random_user_id(), roles=["staff"])

    saved = await services.app.put("/tools/preferences", json={"preferences": {"calculator": False}}, headers=member)
    after = await user_tools(services, member)
    refused = await services.app.put(
        "/tools/preferences", json={"preferences": {"calculator": True, "fetch_url_content": True}}, headers=member
    )
    unchanged = await user_tools(services, member)

    assert saved.status_code == 200
    assert saved.json() == {"message": "Preferences saved successfully"}
    assert (after["tools"][0]["userEnabled"], after["tools"][0]["isEnabled"]) == (False, False)
    assert refused.status_code == 400
    assert "fetch_url_content" in refused.json()["detail"]
    assert unchanged["tools"][0]["isEnabled"] is False


async def test_a_disabled_tool_is_nobodys_and_a_hard_delete_drops_its_grants(services: Services) -> None:
    await staff_role(services)
    headers = admin(services)
    member = services.auth_as(random_user_id(), roles=["staff"])
    await services.app.put("/admin/tools/calculator/roles", json={"appRoleIds": ["staff_role"]}, headers=headers)

    soft = await services.app.delete("/admin/tools/calculator", headers=headers)
    listed_after_soft = await user_tools(services, member)
    status = (await services.app.get("/admin/tools/calculator", headers=headers)).json()["status"]
    hard = await services.app.delete("/admin/tools/calculator?hard=true", headers=headers)
    gone = await services.app.get("/admin/tools/calculator", headers=headers)
    role = (await services.app.get("/admin/roles/staff_role", headers=headers)).json()

    assert soft.json() == {"message": "Tool 'calculator' disabled successfully"}
    assert listed_after_soft["tools"] == []
    assert status == "disabled"
    assert hard.json() == {"message": "Tool 'calculator' deleted successfully"}
    assert gone.status_code == 404
    assert role["grantedTools"] == []


async def test_sync_reports_and_restores_a_missing_built_in(services: Services) -> None:
    headers = admin(services)
    await services.app.delete("/admin/tools/current_time?hard=true", headers=headers)

    dry = await services.app.post("/admin/tools/sync?dry_run=true", headers=headers)
    still_missing = await services.app.get("/admin/tools/current_time", headers=headers)
    applied = await services.app.post("/admin/tools/sync?dry_run=false", headers=headers)
    restored = await services.app.get("/admin/tools/current_time", headers=headers)

    assert dry.status_code == 200
    assert dry.json()["dryRun"] is True
    assert [item["tool_id"] for item in dry.json()["discovered"]] == ["current_time"]
    assert dry.json()["discovered"][0]["action"] == "create"
    assert "calculator" in dry.json()["unchanged"]
    assert still_missing.status_code == 404
    assert applied.json()["dryRun"] is False
    assert restored.status_code == 200


async def test_the_older_listings_and_my_permissions(services: Services) -> None:
    await staff_role(services)
    await services.app.put(
        "/admin/tools/calculator/roles", json={"appRoleIds": ["staff_role"]}, headers=admin(services)
    )
    member_id = random_user_id()
    member = services.auth_as(member_id, roles=["staff"])

    catalogue = (await services.app.get("/tools/catalog", headers=member)).json()
    available = (await services.app.get("/tools/available", headers=member)).json()
    permissions = (await services.app.get("/tools/my-permissions", headers=member)).json()
    admins = (await services.app.get("/tools/my-permissions", headers=admin(services))).json()

    assert {tool["toolId"] for tool in catalogue["tools"]} >= BUILTINS
    assert set(catalogue["tools"][0]) == {"toolId", "name", "description", "category", "isGatewayTool", "icon"}
    assert [tool["toolId"] for tool in available["tools"]] == ["calculator"]
    assert available["total"] == 1
    assert permissions == {
        "userId": member_id,
        "allowedTools": ["calculator"],
        "hasWildcard": False,
        "appRoles": ["staff_role"],
    }
    assert admins["hasWildcard"] is True


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"toolId": "shell_exec", "displayName": "Shell", "description": "x"}, "no built-in tool"),
        ({"toolId": "agent_x", "displayName": "A", "description": "x", "protocol": "a2a"}, "not supported"),
        ({"toolId": "srv_x", "displayName": "S", "description": "x", "protocol": "mcp_external"}, "needs mcpConfig"),
        (
            {
                "toolId": "srv_x",
                "displayName": "S",
                "description": "x",
                "protocol": "mcp_external",
                "mcpConfig": {"serverUrl": "http://127.0.0.1:9/mcp", "authType": "aws-iam"},
            },
            "authType",
        ),
        (
            {
                "toolId": "srv_x",
                "displayName": "S",
                "description": "x",
                "protocol": "mcp_external",
                "mcpConfig": {"serverUrl": "http://127.0.0.1:9/mcp", "authType": "bearer-token"},
            },
            "bearerToken",
        ),
        (
            {
                "toolId": "srv_x",
                "displayName": "S",
                "description": "x",
                "protocol": "mcp_external",
                "mcpConfig": {"serverUrl": "ftp://example.com/mcp"},
            },
            "http",
        ),
        ({"toolId": "X", "displayName": "S", "description": "x"}, "toolId"),
        ({"toolId": "calc_2", "displayName": "S", "description": "x", "requiresOauthProvider": "google"}, "OAuth"),
    ],
)
async def test_a_tool_that_cannot_run_here_is_refused_with_422(
    services: Services, body: dict[str, Any], problem: str
) -> None:
    response = await services.app.post("/admin/tools/", json=body, headers=admin(services))

    assert response.status_code == 422, response.text
    assert problem in response.text
    assert (await services.app.get(f"/admin/tools/{body['toolId']}", headers=admin(services))).status_code in (
        404,
        422,
    )


async def test_a_taken_id_is_409(services: Services) -> None:
    response = await services.app.post(
        "/admin/tools/",
        json={"toolId": "calculator", "displayName": "Again", "description": "x"},
        headers=admin(services),
    )

    assert response.status_code == 409
    assert response.json()["code"] == "tool_exists"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/admin/tools/no_such_tool", None),
        ("PUT", "/admin/tools/no_such_tool", {"description": "x"}),
        ("DELETE", "/admin/tools/no_such_tool", None),
        ("DELETE", "/admin/tools/no_such_tool?hard=true", None),
        ("GET", "/admin/tools/no_such_tool/roles", None),
        ("PUT", "/admin/tools/no_such_tool/roles", {"appRoleIds": []}),
        ("POST", "/admin/tools/no_such_tool/roles/add", {"appRoleIds": []}),
        ("POST", "/admin/tools/no_such_tool/sync", None),
    ],
)
async def test_an_unknown_tool_is_404(services: Services, method: str, path: str, body: Any) -> None:
    response = await services.app.request(method, path, json=body, headers=admin(services))

    assert response.status_code == 404, response.text
    assert response.json()["code"] == "tool_not_found"


async def test_granting_to_an_unknown_role_is_400_and_changes_nothing(services: Services) -> None:
    await staff_role(services)
    response = await services.app.put(
        "/admin/tools/calculator/roles", json={"appRoleIds": ["staff_role", "ghost_role"]}, headers=admin(services)
    )
    tool = (await services.app.get("/admin/tools/calculator", headers=admin(services))).json()

    assert response.status_code == 400
    assert "ghost_role" in response.json()["detail"]
    assert tool["allowedAppRoles"] == []


async def test_a_built_in_is_not_synced_like_a_server(services: Services) -> None:
    response = await services.app.post("/admin/tools/calculator/sync", headers=admin(services))

    assert response.status_code == 400
    assert response.json()["code"] == "not_an_mcp_server"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/tools/"),
        ("POST", "/admin/tools/"),
        ("GET", "/admin/tools/calculator"),
        ("PUT", "/admin/tools/calculator"),
        ("DELETE", "/admin/tools/calculator"),
        ("GET", "/admin/tools/calculator/roles"),
        ("PUT", "/admin/tools/calculator/roles"),
        ("POST", "/admin/tools/sync"),
    ],
)
async def test_the_admin_routes_are_for_admins(services: Services, method: str, path: str) -> None:
    anonymous = await services.app.request(method, path)
    plain = await services.app.request(method, path, headers=services.auth(random_user_id()), json={})

    assert anonymous.status_code == 401
    assert plain.status_code == 403


@pytest.mark.parametrize("path", ["/tools/", "/tools/catalog", "/tools/available", "/tools/my-permissions"])
async def test_the_user_routes_need_a_token(services: Services, path: str) -> None:
    assert (await services.app.get(path)).status_code == 401
    assert (await services.app.get(path, headers={"Authorization": "Bearer forged.token.here"})).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/tools/preferences", {"preferences": {"calculator": "maybe"}}),
        ("PUT", "/tools/preferences", {"preferences": {"Not An Id": True}}),
        ("PUT", "/tools/preferences", {}),
        ("GET", "/tools/catalog?category=spaceships", None),
        ("GET", "/tools/available?category=spaceships", None),
        ("GET", "/admin/tools/?status=gone", None),
        ("PUT", "/admin/tools/calculator", {"protocol": "a2a"}),
        ("PUT", "/admin/tools/calculator/roles", {"appRoleIds": ["Bad Role"]}),
    ],
)
async def test_malformed_requests_are_422_and_change_nothing(
    services: Services, method: str, path: str, body: Any
) -> None:
    headers = admin(services)
    before = (await services.app.get("/admin/tools/calculator", headers=headers)).json()

    response = await services.app.request(method, path, json=body, headers=headers)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert (await services.app.get("/admin/tools/calculator", headers=headers)).json() == before
