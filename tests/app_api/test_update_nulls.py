"""Null in every field of every update body of the app API, through HTTP (docs/decisions.md, "Updates").

An omitted field stays as stored; a null clears a field that may be empty; a null on any other field is a
422 in the error body of a malformed request, and nothing is stored. Each table below names every field of
its update body, and a test checks that it does, so a field added later cannot go untested.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from apis.shared.models import ManagedModelUpdate
from apis.shared.rbac import AppRoleUpdate
from apis.shared.sessions import SessionChanges
from apis.shared.users import UserUpdate
from tests.fixtures.services import Services
from tests.helpers import random_session_id, random_user_id

REFUSED = object()  # a null on this field is a 422

MODEL_NULLS: dict[str, Any] = {
    "modelId": REFUSED,
    "modelName": REFUSED,
    "provider": REFUSED,
    "providerName": "",
    "inputModalities": REFUSED,
    "outputModalities": REFUSED,
    "maxInputTokens": None,
    "maxOutputTokens": None,
    "allowedAppRoles": [],
    "availableToRoles": [],
    "enabled": REFUSED,
    "isDefault": REFUSED,
    "inputPricePerMillionTokens": REFUSED,
    "outputPricePerMillionTokens": REFUSED,
    "cacheWritePricePerMillionTokens": None,
    "cacheReadPricePerMillionTokens": None,
    "supportsCaching": REFUSED,
    "isReasoningModel": REFUSED,
    "knowledgeCutoffDate": None,
}
ROLE_NULLS: dict[str, Any] = {
    "displayName": REFUSED,
    "description": "",
    "jwtRoleMappings": [],
    "inheritsFrom": [],
    "grantedTools": [],
    "grantedModels": [],
    "priority": REFUSED,
    "enabled": REFUSED,
}
USER_NULLS: dict[str, Any] = {"status": REFUSED}
SESSION_NULLS: dict[str, Any] = {
    "title": REFUSED,
    "status": REFUSED,
    "starred": REFUSED,
    "tags": [],
    "preferences": {
        "lastModel": None,
        "lastTemperature": None,
        "enabledTools": None,
        "assistantId": None,
        "systemPromptHash": None,
    },
}
# Fields whose value the server keeps on its own, so they may differ after any update.
MOVING = {"updatedAt"}


def aliases(update: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in update.model_fields.items()}


@pytest.mark.parametrize(
    ("table", "update"),
    [
        (MODEL_NULLS, ManagedModelUpdate),
        (ROLE_NULLS, AppRoleUpdate),
        (USER_NULLS, UserUpdate),
        (SESSION_NULLS, SessionChanges),
    ],
)
def test_each_table_names_every_field_of_its_update_body(table: dict[str, Any], update: type[BaseModel]) -> None:
    assert set(table) == aliases(update)


def full_model(model_id: str) -> dict[str, Any]:
    """A model with a value, none of them empty, in every field an update can clear."""
    return {
        "modelId": model_id,
        "modelName": "Full",
        "provider": "local",
        "providerName": "Acme",
        "inputModalities": ["text", "image"],
        "outputModalities": ["text"],
        "maxInputTokens": 1000,
        "maxOutputTokens": 500,
        "allowedAppRoles": ["default"],
        "availableToRoles": ["Faculty"],
        "inputPricePerMillionTokens": 1.5,
        "outputPricePerMillionTokens": 2.5,
        "cacheWritePricePerMillionTokens": 0.5,
        "cacheReadPricePerMillionTokens": 0.25,
        "supportsCaching": True,
        "isReasoningModel": True,
        "knowledgeCutoffDate": "2025-01-31",
    }


def full_role(role_id: str) -> dict[str, Any]:
    return {
        "roleId": role_id,
        "displayName": "Full",
        "description": "Every field set",
        "jwtRoleMappings": ["full"],
        "inheritsFrom": ["default"],
        "grantedTools": ["calculator"],
        "grantedModels": ["local-echo"],
        "priority": 5,
    }


def assert_only_changed(before: dict[str, Any], after: dict[str, Any], field: str | None) -> None:
    ignored = MOVING | ({field} if field else set())
    assert {k: v for k, v in after.items() if k not in ignored} == {k: v for k, v in before.items() if k not in ignored}


def assert_malformed(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert ["body", field] in [problem["loc"] for problem in body["errors"]], body


class Route:
    """One update route: how to make a record, update it and read it back, as the admin or its owner."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.admin = services.auth_as("root", roles=["admin"])

    async def create(self) -> str:
        raise NotImplementedError

    async def update(self, key: str, body: dict[str, Any]) -> Any:
        raise NotImplementedError

    async def read(self, key: str) -> dict[str, Any]:
        raise NotImplementedError


class ModelRoute(Route):
    async def create(self) -> str:
        created = await self.services.app.post(
            "/admin/managed-models", json=full_model(f"m-{random_user_id()}"), headers=self.admin
        )
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    async def update(self, key: str, body: dict[str, Any]) -> Any:
        return await self.services.app.put(f"/admin/managed-models/{key}", json=body, headers=self.admin)

    async def read(self, key: str) -> dict[str, Any]:
        body: dict[str, Any] = (await self.services.app.get(f"/admin/managed-models/{key}", headers=self.admin)).json()
        return body


class RoleRoute(Route):
    async def create(self) -> str:
        role_id = f"r_{random_user_id().replace('-', '_')}"
        created = await self.services.app.post("/admin/roles", json=full_role(role_id), headers=self.admin)
        assert created.status_code == 201, created.text
        return role_id

    async def update(self, key: str, body: dict[str, Any]) -> Any:
        return await self.services.app.patch(f"/admin/roles/{key}", json=body, headers=self.admin)

    async def read(self, key: str) -> dict[str, Any]:
        body: dict[str, Any] = (await self.services.app.get(f"/admin/roles/{key}", headers=self.admin)).json()
        # What a role grants follows from its fields; the fields are what is compared.
        body.pop("effectivePermissions")
        return body


class UserRoute(Route):
    async def create(self) -> str:
        user_id = random_user_id()
        assert (await self.services.app.get("/users/me", headers=self.services.auth(user_id))).status_code == 200
        suspended = await self.update(user_id, {"status": "suspended"})
        assert suspended.status_code == 200, suspended.text
        return user_id

    async def update(self, key: str, body: dict[str, Any]) -> Any:
        return await self.services.app.patch(f"/admin/users/{key}", json=body, headers=self.admin)

    async def read(self, key: str) -> dict[str, Any]:
        body: dict[str, Any] = (await self.services.app.get(f"/admin/users/{key}", headers=self.admin)).json()
        return body


class SessionRoute(Route):
    owner = "session-owner"

    async def create(self) -> str:
        session_id = random_session_id()
        full = {
            "title": "Full",
            "status": "archived",
            "starred": True,
            "tags": ["a", "b"],
            "preferences": {
                "lastModel": "local-echo",
                "lastTemperature": 0.5,
                "enabledTools": ["calculator"],
                "assistantId": "assistant-1",
                "systemPromptHash": "abc",
            },
        }
        created = await self.update(session_id, full)
        assert created.status_code == 200, created.text
        return session_id

    async def update(self, key: str, body: dict[str, Any]) -> Any:
        headers = self.services.auth(self.owner)
        return await self.services.app.put(f"/sessions/{key}/metadata", json=body, headers=headers)

    async def read(self, key: str) -> dict[str, Any]:
        response = await self.services.app.get(f"/sessions/{key}/metadata", headers=self.services.auth(self.owner))
        body: dict[str, Any] = response.json()
        return body


ROUTES: list[tuple[type[Route], dict[str, Any]]] = [
    (ModelRoute, MODEL_NULLS),
    (RoleRoute, ROLE_NULLS),
    (UserRoute, USER_NULLS),
    (SessionRoute, SESSION_NULLS),
]
CASES = [
    pytest.param(route, field, expected, id=f"{route.__name__}-{field}")
    for route, table in ROUTES
    for field, expected in table.items()
]


@pytest.mark.parametrize(("route_type", "field", "expected"), CASES)
async def test_a_null_clears_a_field_that_may_be_empty_and_is_422_on_any_other(
    local_services: Services, route_type: type[Route], field: str, expected: Any
) -> None:
    route = route_type(local_services)
    key = await route.create()
    before = await route.read(key)

    response = await route.update(key, {field: None})
    after = await route.read(key)

    if expected is REFUSED:
        assert_malformed(response, field)
        assert after == before  # nothing stored
    else:
        assert response.status_code == 200, response.text
        assert response.json()[field] == expected
        assert before[field] != expected  # the test data had something to clear
        assert_only_changed(before, after, field)
        assert after[field] == expected


@pytest.mark.parametrize("route_type", [route for route, _ in ROUTES], ids=lambda route: route.__name__)
async def test_an_empty_update_changes_nothing(local_services: Services, route_type: type[Route]) -> None:
    route = route_type(local_services)
    key = await route.create()
    before = await route.read(key)

    response = await route.update(key, {})

    assert response.status_code == 200, response.text
    assert_only_changed(before, await route.read(key), None)


async def test_a_null_inside_preferences_clears_that_preference_only(local_services: Services) -> None:
    route = SessionRoute(local_services)
    key = await route.create()
    before = await route.read(key)

    response = await route.update(key, {"preferences": {"lastModel": None}})

    assert response.status_code == 200, response.text
    assert response.json()["preferences"] == {**before["preferences"], "lastModel": None}
    assert_only_changed(before, await route.read(key), "preferences")


async def test_a_422_names_every_refused_null_and_stores_none_of_the_valid_ones(local_services: Services) -> None:
    route = ModelRoute(local_services)
    key = await route.create()
    before = await route.read(key)

    response = await route.update(key, {"enabled": None, "modelName": None, "allowedAppRoles": None})

    assert_malformed(response, "enabled")
    assert_malformed(response, "modelName")
    assert await route.read(key) == before
