"""GET /models and the admin catalogue routes: 201, 404, 409, 422, the one default, and who sees what."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.services import Services
from tests.helpers import random_session_id, random_user_id


def model_body(model_id: str, **fields: Any) -> dict[str, Any]:
    return {"modelId": model_id, "modelName": model_id.title(), "provider": "local", **fields}


async def test_create_read_update_delete(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])

    created = await local_services.app.post("/admin/managed-models", json=model_body("m-one"), headers=admin)
    model_id = created.json()["id"]
    read = await local_services.app.get(f"/admin/managed-models/{model_id}", headers=admin)
    updated = await local_services.app.put(
        f"/admin/managed-models/{model_id}",
        json={"modelName": "Renamed", "outputPricePerMillionTokens": 4},
        headers=admin,
    )
    deleted = await local_services.app.delete(f"/admin/managed-models/{model_id}", headers=admin)
    gone = await local_services.app.get(f"/admin/managed-models/{model_id}", headers=admin)

    assert created.status_code == 201
    assert created.json()["isDefault"] is False  # the seeded local model is the default
    assert read.json() == created.json()
    assert (updated.json()["modelName"], updated.json()["outputPricePerMillionTokens"]) == ("Renamed", 4.0)
    assert deleted.status_code == 204
    assert (gone.status_code, gone.json()["code"]) == (404, "model_not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"modelName": "No id", "provider": "local"},
        model_body("x", provider="acme"),
        model_body("x", inputPricePerMillionTokens=-1),
        model_body("x", inputModalities=["smell"]),
        model_body("has space"),
        model_body("x", surprise=True),
        model_body("x", maxOutputTokens=0),
    ],
)
async def test_malformed_models_are_422(local_services: Services, body: dict[str, Any]) -> None:
    response = await local_services.app.post(
        "/admin/managed-models", json=body, headers=local_services.auth_as("root", roles=["admin"])
    )

    assert response.status_code == 422


async def test_duplicate_model_ids_are_409(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])
    await local_services.app.post("/admin/managed-models", json=model_body("dup"), headers=admin)
    other = (await local_services.app.post("/admin/managed-models", json=model_body("other"), headers=admin)).json()

    again = await local_services.app.post("/admin/managed-models", json=model_body("dup"), headers=admin)
    renamed = await local_services.app.put(
        f"/admin/managed-models/{other['id']}", json={"modelId": "dup"}, headers=admin
    )

    assert (again.status_code, again.json()["code"]) == (409, "model_id_taken")
    assert renamed.status_code == 409


async def test_the_default_moves_and_cannot_be_orphaned(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])
    seeded = (await local_services.app.get("/admin/managed-models", headers=admin)).json()["models"][0]
    new = (
        await local_services.app.post("/admin/managed-models", json=model_body("next", isDefault=True), headers=admin)
    ).json()

    listing = (await local_services.app.get("/admin/managed-models", headers=admin)).json()["models"]
    unset = await local_services.app.put(f"/admin/managed-models/{new['id']}", json={"isDefault": False}, headers=admin)
    delete_default = await local_services.app.delete(f"/admin/managed-models/{new['id']}", headers=admin)
    delete_other = await local_services.app.delete(f"/admin/managed-models/{seeded['id']}", headers=admin)

    assert [m["modelId"] for m in listing if m["isDefault"]] == ["next"]
    assert (unset.status_code, unset.json()["code"]) == (409, "default_model_required")
    assert delete_default.status_code == 409
    assert delete_other.status_code == 204
    turn = await local_services.inference.post(
        "/invocations",
        json={"session_id": random_session_id(), "message": "hi"},
        headers=local_services.auth(random_user_id()),
    )
    assert turn.status_code == 200
    assert '"messageId"' in turn.text


async def test_unknown_ids_are_404_on_every_model_route(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])

    responses = [
        await local_services.app.get("/admin/managed-models/nope", headers=admin),
        await local_services.app.put("/admin/managed-models/nope", json={"enabled": False}, headers=admin),
        await local_services.app.delete("/admin/managed-models/nope", headers=admin),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]


async def test_disabled_models_are_hidden_and_refused(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])
    created = (
        await local_services.app.post("/admin/managed-models", json=model_body("off-soon"), headers=admin)
    ).json()
    await local_services.app.put(f"/admin/managed-models/{created['id']}", json={"enabled": False}, headers=admin)
    user = local_services.auth(random_user_id())

    listed = (await local_services.app.get("/models", headers=user)).json()
    turn = await local_services.inference.post(
        "/invocations", json={"session_id": random_session_id(), "message": "hi", "model_id": "off-soon"}, headers=user
    )

    assert "off-soon" not in [m["modelId"] for m in listed["models"]]
    assert (turn.status_code, turn.json()["code"]) == (400, "unknown_model")


async def test_a_role_grant_by_model_id_opens_a_restricted_model(local_services: Services) -> None:
    admin = local_services.auth_as("root", roles=["admin"])
    await local_services.app.post(
        "/admin/managed-models", json=model_body("vip-model", allowedAppRoles=["vip_role"]), headers=admin
    )
    await local_services.app.post(
        "/admin/roles",
        json={
            "roleId": "analyst",
            "displayName": "Analyst",
            "jwtRoleMappings": ["analysts"],
            "grantedModels": ["vip-model"],
        },
        headers=admin,
    )

    analyst = (
        await local_services.app.get("/models", headers=local_services.auth_as(random_user_id(), roles=["analysts"]))
    ).json()
    other = (await local_services.app.get("/models", headers=local_services.auth(random_user_id()))).json()

    assert "vip-model" in [m["modelId"] for m in analyst["models"]]
    assert "vip-model" not in [m["modelId"] for m in other["models"]]


async def test_a_turn_on_an_unconfigured_provider_is_503_naming_its_setting(
    local_services: Services, no_provider_environment: None
) -> None:
    admin = local_services.auth_as("root", roles=["admin"])
    await local_services.app.post(
        "/admin/managed-models", json=model_body("gpt-cloud", provider="openai"), headers=admin
    )

    turn = await local_services.inference.post(
        "/invocations",
        json={"session_id": random_session_id(), "message": "hi", "model_id": "gpt-cloud"},
        headers=local_services.auth(random_user_id()),
    )

    assert (turn.status_code, turn.json()["code"]) == (503, "provider_not_configured")
    assert "OPENAI_API_KEY" in turn.json()["detail"]
    assert turn.headers["retry-after"]
