"""The admin-update issue's reproductions, through HTTP, on SQLite and on DynamoDB (moto).

- A null in an update is refused or clears, and can no longer store a record that poisons the catalogue.
- A stored record that does not validate (written behind the repositories' back here, as a bug or another
  version might have) is skipped from lists, does not stop either service from starting, is a 500
  `corrupt_record` only for a request that needs it, and can be deleted.
- The token roles of ADMIN_JWT_ROLES always make a system_admin; an update that would unmap them is a 400.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from prometheus_client import REGISTRY
from pydantic import BaseModel

from apis.shared.config import StorageBackend, StorageSettings
from apis.shared.rbac import AppRole, AppRoleUpdate, PermissionCache, RoleRepository
from apis.shared.sessions import SessionMetadata
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import deserialize, dynamodb_client, serialize
from apis.shared.users import UserProfile
from tests.fixtures.services import Services, open_services
from tests.helpers import random_session_id, random_user_id


class StoredRecords:
    """Rewrites one field of a stored record directly in the backend, bypassing every validation."""

    def __init__(self, settings: StorageSettings) -> None:
        self.settings = settings

    def set_model_field(self, id: str, name: str, value: Any) -> None:
        """Managed models are stored as a JSON body, keyed by field name, on both backends."""
        if self.settings.storage_backend is StorageBackend.LOCAL:
            self._sqlite_body("managed_models", "id", id, name, value)
        else:
            key = {"pk": "CATALOGUE", "sk": f"MODEL#{id}"}
            item = self._dynamo_get(key)
            item["body"] = json.dumps({**json.loads(item["body"]), name: value})
            self._dynamo_put(item)

    def set_role_field(self, role_id: str, name: str, value: Any) -> None:
        if self.settings.storage_backend is StorageBackend.LOCAL:
            self._sqlite_body("roles", "role_id", role_id, name, value)
        else:
            item = self._dynamo_get({"pk": "ROLE", "sk": f"ROLE#{role_id}"})
            self._dynamo_put({**item, _alias(AppRole, name): value})

    def set_user_status(self, user_id: str, value: str) -> None:
        if self.settings.storage_backend is StorageBackend.LOCAL:
            with self._sqlite() as connection:
                connection.execute("UPDATE users SET status = ? WHERE user_id = ?", (value, user_id))
        else:
            item = self._dynamo_get({schema.PARTITION_KEY: schema.user_pk(user_id), schema.SORT_KEY: "PROFILE"})
            self._dynamo_put({**item, _alias(UserProfile, "status"): value})

    def set_session_field(self, user_id: str, session_id: str, name: str, value: Any) -> None:
        if self.settings.storage_backend is StorageBackend.LOCAL:
            self._sqlite_body("sessions", "session_id", session_id, name, value)
        else:
            item = self._dynamo_get(
                {schema.PARTITION_KEY: schema.user_pk(user_id), schema.SORT_KEY: schema.session_sk(session_id)}
            )
            self._dynamo_put({**item, _alias(SessionMetadata, name): value})

    def _sqlite(self) -> sqlite3.Connection:
        return sqlite3.connect(self.settings.sqlite_path, isolation_level=None)

    def _sqlite_body(self, table: str, key_column: str, key: str, name: str, value: Any) -> None:
        connection = self._sqlite()
        try:
            (body,) = connection.execute(f"SELECT body FROM {table} WHERE {key_column} = ?", (key,)).fetchone()
            changed = json.dumps({**json.loads(body), name: value})
            connection.execute(f"UPDATE {table} SET body = ? WHERE {key_column} = ?", (changed, key))
        finally:
            connection.close()

    def _dynamo_get(self, key: dict[str, str]) -> dict[str, Any]:
        client = dynamodb_client(self.settings)
        try:
            response = client.get_item(TableName=self.settings.dynamodb_table_name, Key=serialize(key))
        finally:
            client.close()
        return deserialize(response["Item"])

    def _dynamo_put(self, item: dict[str, Any]) -> None:
        client = dynamodb_client(self.settings)
        try:
            client.put_item(TableName=self.settings.dynamodb_table_name, Item=serialize(item))
        finally:
            client.close()


def _alias(model: type[BaseModel], name: str) -> str:
    return model.model_fields[name].alias or name


def invalid_records(kind: str) -> float:
    return REGISTRY.get_sample_value("colloquy_invalid_records_total", {"kind": kind}) or 0.0


async def assert_both_services_start_and_serve(services: Services, user: str) -> None:
    """A fresh start of both services on the same store, as after a restart."""
    async with open_services(services.settings) as restarted:
        models = await restarted.app.get("/models", headers=restarted.auth(user))
        ping = await restarted.inference.get("/ping")
    assert (models.status_code, ping.status_code) == (200, 200), models.text


def model_ids(response: Any) -> list[str]:
    return [model["modelId"] for model in response.json()["models"]]


async def test_a_null_in_a_model_update_is_refused_and_the_catalogue_keeps_working(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    user = random_user_id()
    created = await services.app.post(
        "/admin/managed-models", json={"modelId": "m1", "modelName": "M1", "provider": "local"}, headers=admin
    )
    id = created.json()["id"]

    refused = await services.app.put(f"/admin/managed-models/{id}", json={"enabled": None}, headers=admin)
    usable = await services.app.get("/models", headers=services.auth(user))
    admin_list = await services.app.get("/admin/managed-models", headers=admin)
    read = await services.app.get(f"/admin/managed-models/{id}", headers=admin)

    assert (refused.status_code, refused.json()["code"]) == (422, "validation_error")
    assert usable.status_code == admin_list.status_code == 200
    assert "m1" in model_ids(usable)
    assert "m1" in model_ids(admin_list)
    assert read.json() == created.json()
    await assert_both_services_start_and_serve(services, user)
    assert (await services.app.delete(f"/admin/managed-models/{id}", headers=admin)).status_code == 204


async def test_an_unreadable_stored_model_is_left_out_and_can_be_deleted(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    user = random_user_id()
    created = await services.app.post(
        "/admin/managed-models", json={"modelId": "m1", "modelName": "M1", "provider": "local"}, headers=admin
    )
    id = created.json()["id"]
    StoredRecords(services.settings.storage).set_model_field(id, "enabled", None)
    counted = invalid_records("managed model")

    usable = await services.app.get("/models", headers=services.auth(user))
    admin_list = await services.app.get("/admin/managed-models", headers=admin)
    read = await services.app.get(f"/admin/managed-models/{id}", headers=admin)
    update = await services.app.put(f"/admin/managed-models/{id}", json={"modelName": "M2"}, headers=admin)
    turn = await services.inference.post(
        "/invocations", json={"session_id": "s-unreadable", "message": "hi", "model_id": "m1"}, headers=admin
    )

    assert (usable.status_code, admin_list.status_code) == (200, 200)
    assert model_ids(usable) == model_ids(admin_list) == ["local-echo"]
    assert admin_list.json()["totalCount"] == 1
    assert [(r.status_code, r.json()["code"]) for r in (read, update, turn)] == [(500, "corrupt_record")] * 3
    assert invalid_records("managed model") > counted
    await assert_both_services_start_and_serve(services, user)

    deleted = await services.app.delete(f"/admin/managed-models/{id}", headers=admin)
    gone = await services.app.get(f"/admin/managed-models/{id}", headers=admin)
    again = await services.app.post(
        "/admin/managed-models", json={"modelId": "m1", "modelName": "M1", "provider": "local"}, headers=admin
    )

    assert (deleted.status_code, gone.status_code, again.status_code) == (204, 404, 201)


async def test_an_unreadable_role_is_left_out_and_does_not_stop_a_start(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    created = await services.app.post(
        "/admin/roles",
        json={"roleId": "staff_role", "displayName": "Staff", "jwtRoleMappings": ["staff"], "grantedTools": ["x"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    StoredRecords(services.settings.storage).set_role_field("staff_role", "priority", "high")
    services.app_asgi.state.permission_cache.invalidate()

    listed = await services.app.get("/admin/roles", headers=admin)
    read = await services.app.get("/admin/roles/staff_role", headers=admin)
    patched = await services.app.patch("/admin/roles/staff_role", json={"priority": 1}, headers=admin)
    staff = await services.app.get("/users/me", headers=services.auth_as(random_user_id(), roles=["staff"]))

    assert listed.status_code == 200
    assert [role["roleId"] for role in listed.json()["roles"]] == ["system_admin", "default"]
    assert [(r.status_code, r.json()["code"]) for r in (read, patched)] == [(500, "corrupt_record")] * 2
    assert staff.status_code == 200
    assert staff.json()["effectivePermissions"]["appRoles"] == ["default"]  # as if the role did not exist
    await assert_both_services_start_and_serve(services, random_user_id())

    deleted = await services.app.delete("/admin/roles/staff_role", headers=admin)
    gone = await services.app.get("/admin/roles/staff_role", headers=admin)

    assert (deleted.status_code, gone.status_code) == (204, 404)


async def test_an_unreadable_system_admin_leaves_the_admins_in_and_the_services_starting(services: Services) -> None:
    StoredRecords(services.settings.storage).set_role_field("system_admin", "enabled", None)
    services.app_asgi.state.permission_cache.invalidate()
    admin = services.auth_as("root", roles=["admin"])

    roles = await services.app.get("/admin/roles", headers=admin)

    assert roles.status_code == 200
    assert [role["roleId"] for role in roles.json()["roles"]] == ["default"]
    async with open_services(services.settings) as restarted:
        me = await restarted.app.get("/users/me", headers=restarted.auth_as("root", roles=["admin"]))
    assert me.status_code == 200
    assert me.json()["effectivePermissions"]["isAdmin"] is True


async def test_an_unreadable_user_profile_is_left_out_of_the_admin_list(services: Services) -> None:
    admin = services.auth_as("a-admin", roles=["admin"])
    users = sorted(random_user_id() for _ in range(4))
    for user in users:
        assert (await services.app.get("/users/me", headers=services.auth(user))).status_code == 200
    StoredRecords(services.settings.storage).set_user_status(users[1], "banished")

    listed: list[str] = []
    token: str | None = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 1, **({"next_token": token} if token else {})}
        page = await services.app.get("/admin/users", params=params, headers=admin)
        assert page.status_code == 200, page.text
        listed += [profile["userId"] for profile in page.json()["users"]]
        token = page.json()["nextToken"]
        if token is None:
            break
    read = await services.app.get(f"/admin/users/{users[1]}", headers=admin)
    own = await services.app.get("/users/me", headers=services.auth(users[1]))

    assert [user for user in listed if user in users] == [users[0], *users[2:]]
    assert [(r.status_code, r.json()["code"]) for r in (read, own)] == [(500, "corrupt_record")] * 2


async def test_system_admin_cannot_lose_the_admin_token_roles(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])

    emptied = await services.app.patch("/admin/roles/system_admin", json={"jwtRoleMappings": []}, headers=admin)
    nulled = await services.app.patch("/admin/roles/system_admin", json={"jwtRoleMappings": None}, headers=admin)
    swapped = await services.app.patch("/admin/roles/system_admin", json={"jwtRoleMappings": ["ops"]}, headers=admin)
    added = await services.app.patch(
        "/admin/roles/system_admin", json={"jwtRoleMappings": ["admin", "ops"]}, headers=admin
    )
    still = await services.app.get("/admin/roles", headers=admin)

    for refused in (emptied, nulled, swapped):
        assert (refused.status_code, refused.json()["code"]) == (400, "system_role_protected"), refused.text
        assert "ADMIN_JWT_ROLES" in refused.json()["detail"]
    assert added.status_code == 200
    assert added.json()["jwtRoleMappings"] == ["admin", "ops"]
    assert still.status_code == 200


async def test_an_admin_token_is_an_admin_whatever_the_stored_system_admin_says(services: Services) -> None:
    roles: RoleRepository = services.app_asgi.state.storage.roles
    cache: PermissionCache = services.app_asgi.state.permission_cache
    admin = services.auth_as("root", roles=["admin"])

    await roles.update("system_admin", AppRoleUpdate(jwt_role_mappings=[], enabled=False))
    cache.invalidate()
    unmapped = await services.app.get("/admin/roles", headers=admin)
    me = await services.app.get("/users/me", headers=admin)
    await roles.delete("system_admin")
    cache.invalidate()
    missing = await services.app.get("/admin/users", headers=admin)
    other = await services.app.get("/admin/roles", headers=services.auth_as(random_user_id(), roles=["staff"]))

    assert (unmapped.status_code, me.status_code, missing.status_code) == (200, 200, 200)
    permissions = me.json()["effectivePermissions"]
    assert permissions["isAdmin"] is True
    assert "system_admin" in permissions["appRoles"]
    assert (permissions["tools"], permissions["models"]) == (["*"], ["*"])
    assert other.status_code == 403


async def test_an_unreadable_session_is_left_out_of_its_owners_list(services: Services) -> None:
    user = random_user_id()
    headers = services.auth(user)
    session_ids = [random_session_id() for _ in range(4)]
    for session_id in session_ids:
        created = await services.app.put(f"/sessions/{session_id}/metadata", json={"title": "t"}, headers=headers)
        assert created.status_code == 200, created.text
    StoredRecords(services.settings.storage).set_session_field(user, session_ids[1], "status", "vanished")

    listed: list[str] = []
    token: str | None = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 1, **({"next_token": token} if token else {})}
        page = await services.app.get("/sessions", params=params, headers=headers)
        assert page.status_code == 200, page.text
        listed += [session["sessionId"] for session in page.json()["sessions"]]
        token = page.json()["nextToken"]
        if token is None:
            break
    read = await services.app.get(f"/sessions/{session_ids[1]}/metadata", headers=headers)

    assert sorted(listed) == sorted(session_ids[:1] + session_ids[2:])
    assert (read.status_code, read.json()["code"]) == (500, "corrupt_record")
