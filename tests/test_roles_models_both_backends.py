"""The users/roles/models issue's acceptance scenario on each storage backend, through HTTP."""

from __future__ import annotations

from tests.fixtures.services import Services
from tests.helpers import parse_sse, random_session_id, random_user_id


async def test_a_model_restricted_to_a_role_is_seen_and_used_only_by_that_role(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    role = await services.app.post(
        "/admin/roles",
        json={"roleId": "staff_role", "displayName": "Staff", "jwtRoleMappings": ["staff"]},
        headers=admin,
    )
    model = await services.app.post(
        "/admin/managed-models",
        json={
            "modelId": "local-staff",
            "modelName": "Staff model",
            "provider": "local",
            "allowedAppRoles": ["staff_role"],
            "inputPricePerMillionTokens": 2.0,
            "outputPricePerMillionTokens": 8.0,
        },
        headers=admin,
    )
    assert (role.status_code, model.status_code) == (201, 201), (role.text, model.text)

    outsider = services.auth_as(random_user_id(), roles=["engineering"])
    staff = services.auth_as(random_user_id(), roles=["staff"])
    outsider_models = (await services.app.get("/models", headers=outsider)).json()
    staff_models = (await services.app.get("/models", headers=staff)).json()
    refused = await services.inference.post(
        "/invocations",
        json={"session_id": random_session_id(), "message": "hi", "model_id": "local-staff"},
        headers=outsider,
    )
    session_id = random_session_id()
    accepted = await services.inference.post(
        "/invocations", json={"session_id": session_id, "message": "hi", "model_id": "local-staff"}, headers=staff
    )

    assert "local-staff" not in [m["modelId"] for m in outsider_models["models"]]
    assert "local-echo" in [m["modelId"] for m in outsider_models["models"]]
    assert "local-staff" in [m["modelId"] for m in staff_models["models"]]
    assert staff_models["totalCount"] == len(staff_models["models"])
    assert refused.status_code == 403
    assert refused.json()["code"] == "model_not_allowed"
    events = parse_sse(accepted.text)
    assert accepted.status_code == 200
    assert events[-1][0] == "done"
    history = (await services.app.get(f"/sessions/{session_id}/messages", headers=staff)).json()["messages"]
    model_info = history[1]["metadata"]["modelInfo"]
    assert model_info["modelId"] == "local-staff"
    assert model_info["pricingSnapshot"] == {
        "inputPricePerMtok": 2.0,
        "outputPricePerMtok": 8.0,
        "currency": "USD",
        "snapshotAt": history[1]["createdAt"],
    }
    usage = history[1]["metadata"]["tokenUsage"]
    expected_cost = (usage["inputTokens"] * 2.0 + usage["outputTokens"] * 8.0) / 1_000_000
    assert abs(history[1]["metadata"]["cost"] - expected_cost) < 1e-12


async def test_a_suspension_stops_the_next_request_on_either_service(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    user = random_user_id()
    headers = services.auth(user)
    first = await services.inference.post(
        "/invocations", json={"session_id": random_session_id(), "message": "hi"}, headers=headers
    )
    assert first.status_code == 200

    await services.app.patch(f"/admin/users/{user}", json={"status": "suspended"}, headers=admin)
    turn = await services.inference.post(
        "/invocations", json={"session_id": random_session_id(), "message": "hi"}, headers=headers
    )
    listing = await services.app.get("/sessions", headers=headers)

    assert (turn.status_code, listing.status_code) == (403, 403)
    assert turn.json()["code"] == listing.json()["code"] == "user_suspended"


async def test_a_fresh_install_chats_on_the_seeded_default(services: Services) -> None:
    headers = services.auth(random_user_id())

    listed = (await services.app.get("/models", headers=headers)).json()
    turn = await services.inference.post(
        "/invocations", json={"session_id": random_session_id(), "message": "hi"}, headers=headers
    )
    roles = (await services.app.get("/admin/roles", headers=services.auth_as("root", roles=["admin"]))).json()

    assert [(m["modelId"], m["isDefault"], m["provider"]) for m in listed["models"]] == [("local-echo", True, "local")]
    assert turn.status_code == 200
    assert {r["roleId"] for r in roles["roles"]} == {"system_admin", "default"}
