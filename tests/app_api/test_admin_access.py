"""Every admin route against four callers: an admin, a plain user, a suspended user, and a user whose token
roles map to no app role. Only the admin gets through; the others get 403 and change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.services import Services
from tests.helpers import random_user_id

ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/admin/users", None),
    ("GET", "/admin/users/{victim}", None),
    ("PATCH", "/admin/users/{victim}", {"status": "suspended"}),
    ("GET", "/admin/roles", None),
    ("POST", "/admin/roles", {"roleId": "sneaky_role", "displayName": "Sneaky", "grantedModels": ["*"]}),
    ("GET", "/admin/roles/default", None),
    ("PATCH", "/admin/roles/default", {"grantedTools": ["*"]}),
    ("DELETE", "/admin/roles/{custom_role}", None),
    ("GET", "/admin/managed-models", None),
    ("POST", "/admin/managed-models", {"modelId": "sneaky", "modelName": "Sneaky", "provider": "openai"}),
    ("GET", "/admin/managed-models/{model}", None),
    ("PUT", "/admin/managed-models/{model}", {"enabled": False}),
    ("DELETE", "/admin/managed-models/{model}", None),
    ("GET", "/admin/bedrock/models", None),
    ("GET", "/admin/openai/models", None),
    ("GET", "/admin/gemini/models", None),
]


async def prepare(services: Services) -> dict[str, str]:
    """A user to act on, a custom role and a second model, made by an admin; returns the path values."""
    admin = services.auth_as("root", roles=["admin"])
    victim = random_user_id()
    await services.app.get("/users/me", headers=services.auth(victim))
    role = await services.app.post(
        "/admin/roles", json={"roleId": "custom_role", "displayName": "Custom"}, headers=admin
    )
    model = await services.app.post(
        "/admin/managed-models",
        json={"modelId": "extra-model", "modelName": "Extra", "provider": "openai"},
        headers=admin,
    )
    assert (role.status_code, model.status_code) == (201, 201), (role.text, model.text)
    return {"victim": victim, "custom_role": "custom_role", "model": model.json()["id"]}


async def caller_headers(services: Services, persona: str) -> dict[str, str]:
    match persona:
        case "plain user":
            return services.auth(random_user_id())
        case "unmapped roles":
            return services.auth_as(random_user_id(), roles=["astronaut", "Admin"])
        case "suspended admin":
            suspended = random_user_id()
            headers = services.auth_as(suspended, roles=["admin"])
            await services.app.get("/users/me", headers=headers)
            root = services.auth_as("root", roles=["admin"])
            response = await services.app.patch(f"/admin/users/{suspended}", json={"status": "suspended"}, headers=root)
            assert response.status_code == 200
            return headers
    raise AssertionError(persona)


@pytest.mark.parametrize("persona", ["plain user", "unmapped roles", "suspended admin"])
@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
async def test_only_admins_pass_the_admin_routes(
    local_services: Services, persona: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    values = await prepare(local_services)
    headers = await caller_headers(local_services, persona)
    admin = local_services.auth_as("root", roles=["admin"])
    before = {
        "roles": (await local_services.app.get("/admin/roles", headers=admin)).json(),
        "models": (await local_services.app.get("/admin/managed-models", headers=admin)).json(),
        "victim": (await local_services.app.get(f"/admin/users/{values['victim']}", headers=admin)).json(),
    }

    response = await local_services.app.request(method, path.format(**values), json=body, headers=headers)

    assert response.status_code == 403, response.text
    expected = "user_suspended" if persona == "suspended admin" else "admin_required"
    assert response.json()["code"] == expected
    after = {
        "roles": (await local_services.app.get("/admin/roles", headers=admin)).json(),
        "models": (await local_services.app.get("/admin/managed-models", headers=admin)).json(),
        "victim": (await local_services.app.get(f"/admin/users/{values['victim']}", headers=admin)).json(),
    }
    assert after == before


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
async def test_an_admin_passes_every_admin_route(
    local_services: Services, no_provider_environment: None, method: str, path: str, body: dict[str, Any] | None
) -> None:
    values = await prepare(local_services)

    response = await local_services.app.request(
        method, path.format(**values), json=body, headers=local_services.auth_as("root", roles=["admin"])
    )

    # Provider catalogues are not configured in tests: 503 naming the setting, past the admin check.
    assert response.status_code in {200, 201, 204, 503}, response.text
    if response.status_code == 503:
        assert response.json()["code"] == "provider_unavailable"


async def test_a_suspended_user_is_refused_on_both_services(local_services: Services) -> None:
    user = random_user_id()
    headers = local_services.auth(user)
    assert (await local_services.app.get("/sessions", headers=headers)).status_code == 200
    root = local_services.auth_as("root", roles=["admin"])

    suspended = await local_services.app.patch(f"/admin/users/{user}", json={"status": "suspended"}, headers=root)
    refused = [
        await local_services.app.get("/sessions", headers=headers),
        await local_services.app.get("/users/me", headers=headers),
        await local_services.app.get("/models", headers=headers),
        await local_services.inference.post(
            "/invocations", json={"session_id": "s-1", "message": "hi"}, headers=headers
        ),
    ]
    reinstated = await local_services.app.patch(f"/admin/users/{user}", json={"status": "active"}, headers=root)
    back = await local_services.app.get("/sessions", headers=headers)

    assert suspended.json()["status"] == "suspended"
    assert [r.status_code for r in refused] == [403] * 4
    assert {r.json()["code"] for r in refused} == {"user_suspended"}
    assert reinstated.json()["status"] == "active"
    assert back.status_code == 200


async def test_an_admin_cannot_suspend_themselves(local_services: Services) -> None:
    root = local_services.auth_as("root", roles=["admin"])
    await local_services.app.get("/users/me", headers=root)

    response = await local_services.app.patch("/admin/users/root", json={"status": "suspended"}, headers=root)

    assert response.status_code == 400
    assert response.json()["code"] == "self_suspension"
