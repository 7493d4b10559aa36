"""The tool routes and a turn's tools when storage fails: a 503 the caller sees, never an empty list."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.moto import SerializedMotoServer
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings, random_session_id, random_user_id
from tests.storage_locks import write_locked


@pytest.mark.dynamodb
async def test_every_tool_route_is_503_when_dynamodb_goes_away(
    services_on_own_moto: tuple[Services, SerializedMotoServer],
) -> None:
    services, server = services_on_own_moto
    admin = services.auth_as("root", roles=["admin"])
    user = services.auth_as(random_user_id(), roles=["admin"])
    assert (await services.app.get("/tools/", headers=user)).status_code == 200

    server.stop()
    responses = [
        await services.app.get("/tools/", headers=user),
        await services.app.put("/tools/preferences", json={"preferences": {"calculator": True}}, headers=user),
        await services.app.get("/tools/catalog", headers=user),
        await services.app.get("/tools/available", headers=user),
        await services.app.get("/admin/tools/", headers=admin),
        await services.app.get("/admin/tools/calculator", headers=admin),
        await services.app.post(
            "/admin/tools/", json={"toolId": "calculator", "displayName": "C", "description": "x"}, headers=admin
        ),
        await services.app.put("/admin/tools/calculator", json={"isPublic": True}, headers=admin),
        await services.app.delete("/admin/tools/calculator", headers=admin),
        await services.app.get("/admin/tools/calculator/roles", headers=admin),
        await services.app.put("/admin/tools/calculator/roles", json={"appRoleIds": []}, headers=admin),
        await services.app.post("/admin/tools/sync?dry_run=true", headers=admin),
        await services.inference.post(
            "/invocations",
            json={"session_id": random_session_id(), "message": "6 * 7?", "enabled_tools": ["calculator"]},
            headers=user,
        ),
    ]

    assert [response.status_code for response in responses] == [503] * len(responses)
    assert all(response.headers["retry-after"] for response in responses)
    assert {response.json()["code"] for response in responses} == {"storage_unavailable"}


async def test_tool_writes_under_a_held_lock_are_503_and_change_nothing(tmp_path: Path) -> None:
    settings = service_settings(local_storage_settings(tmp_path, sqlite_busy_timeout_ms=50))
    async with open_services(settings) as services:
        admin = services.auth_as("root", roles=["admin"])
        with write_locked(settings.storage.sqlite_path):
            responses = [
                await services.app.put(
                    "/tools/preferences", json={"preferences": {"calculator": False}}, headers=admin
                ),
                await services.app.put("/admin/tools/calculator", json={"isPublic": True}, headers=admin),
                await services.app.delete("/admin/tools/calculator?hard=true", headers=admin),
            ]
        after = (await services.app.get("/admin/tools/calculator", headers=admin)).json()
        mine = (await services.app.get("/tools/", headers=admin)).json()

    assert [response.status_code for response in responses] == [503] * 3
    assert after["isPublic"] is False
    calculator = next(tool for tool in mine["tools"] if tool["toolId"] == "calculator")
    assert calculator["userEnabled"] is None
