"""Seeding the system roles at start, on every backend: fresh store, reruns, merges, repairs, races, failures."""

from __future__ import annotations

import pytest

from apis.shared.errors import CorruptRecord, StorageUnavailableError
from apis.shared.rbac import (
    DEFAULT_ROLE,
    SYSTEM_ADMIN,
    AppRole,
    AppRoleUpdate,
    RoleRepository,
    seed_system_roles,
)
from apis.shared.storage.memory.roles import InMemoryRoleRepository


async def stored(roles: RoleRepository, role_id: str) -> AppRole:
    role = await roles.get(role_id)
    assert role is not None
    return role


async def test_a_fresh_store_gets_both_system_roles(role_repository: RoleRepository) -> None:
    lines = await seed_system_roles(roles=role_repository, admin_jwt_roles=["admin", "Admins"])

    assert lines == [f"role {SYSTEM_ADMIN}: created", f"role {DEFAULT_ROLE}: created"]
    admin = await stored(role_repository, SYSTEM_ADMIN)
    assert (admin.display_name, admin.jwt_role_mappings, admin.priority) == (
        "System administrator",
        ["admin", "Admins"],
        1000,
    )
    assert (admin.granted_tools, admin.granted_models, admin.is_system_role, admin.enabled) == (
        ["*"],
        ["*"],
        True,
        True,
    )
    default = await stored(role_repository, DEFAULT_ROLE)
    assert (default.display_name, default.priority, default.is_system_role, default.enabled) == (
        "Default",
        0,
        True,
        True,
    )
    assert (default.jwt_role_mappings, default.granted_tools, default.granted_models) == ([], [], [])


async def test_a_second_run_changes_nothing(role_repository: RoleRepository) -> None:
    await seed_system_roles(roles=role_repository, admin_jwt_roles=["admin"])
    before = await role_repository.list_roles()

    lines = await seed_system_roles(roles=role_repository, admin_jwt_roles=["admin"])

    assert lines == [f"role {SYSTEM_ADMIN}: exists", f"role {DEFAULT_ROLE}: exists"]
    assert await role_repository.list_roles() == before


async def test_new_admin_token_roles_are_merged_with_those_admins_added(role_repository: RoleRepository) -> None:
    await seed_system_roles(roles=role_repository, admin_jwt_roles=["admin"])
    await role_repository.update(SYSTEM_ADMIN, AppRoleUpdate(jwt_role_mappings=["admin", "platform-owners"]))

    lines = await seed_system_roles(roles=role_repository, admin_jwt_roles=["admin", "ops", "ops", " "])

    assert lines[0] == f"role {SYSTEM_ADMIN}: updated"
    admin = await stored(role_repository, SYSTEM_ADMIN)
    assert admin.jwt_role_mappings == ["admin", "platform-owners", "ops"]


async def test_a_disabled_system_admin_without_wildcards_is_restored(role_repository: RoleRepository) -> None:
    await seed_system_roles(roles=role_repository, admin_jwt_roles=["admin"])
    # As if changed behind the service's back (the service itself refuses these changes).
    await role_repository.update(
        SYSTEM_ADMIN,
        AppRoleUpdate(enabled=False, granted_tools=["calculator"], granted_models=[], display_name="Root"),
    )

    lines = await seed_system_roles(roles=role_repository, admin_jwt_roles=["admin"])

    assert lines == [f"role {SYSTEM_ADMIN}: updated", f"role {DEFAULT_ROLE}: exists"]
    admin = await stored(role_repository, SYSTEM_ADMIN)
    assert (admin.enabled, admin.granted_tools, admin.granted_models) == (True, ["calculator", "*"], ["*"])
    assert admin.display_name == "Root"


async def test_the_default_role_is_left_as_the_admins_made_it(role_repository: RoleRepository) -> None:
    await seed_system_roles(roles=role_repository, admin_jwt_roles=["admin"])
    edited = await role_repository.update(DEFAULT_ROLE, AppRoleUpdate(enabled=False, granted_models=["local-echo"]))

    lines = await seed_system_roles(roles=role_repository, admin_jwt_roles=["admin"])

    assert lines[1] == f"role {DEFAULT_ROLE}: exists"
    assert await role_repository.get(DEFAULT_ROLE) == edited


class LateToTheRace(InMemoryRoleRepository):
    """Once `late` is set, answers "no such role" to the first read of each id, as if another process
    created it just after."""

    def __init__(self) -> None:
        super().__init__()
        self.late = False
        self._missed: set[str] = set()

    async def get(self, role_id: str) -> AppRole | None:
        if self.late and role_id not in self._missed:
            self._missed.add(role_id)
            return None
        return await super().get(role_id)


async def test_losing_the_race_to_another_seeder_is_fine() -> None:
    roles = LateToTheRace()
    await seed_system_roles(roles=roles, admin_jwt_roles=["admin"])
    first_admin = await stored(roles, SYSTEM_ADMIN)
    roles.late = True

    lines = await seed_system_roles(roles=roles, admin_jwt_roles=["admin", "ops"])

    assert lines == [f"role {SYSTEM_ADMIN}: updated", f"role {DEFAULT_ROLE}: exists"]
    admin = await stored(roles, SYSTEM_ADMIN)
    assert admin.jwt_role_mappings == ["admin", "ops"]
    assert admin.created_at == first_admin.created_at


class Unreachable(InMemoryRoleRepository):
    async def get(self, role_id: str) -> AppRole | None:
        raise StorageUnavailableError("the database is busy or unreachable; try again shortly")


async def test_a_storage_failure_stops_the_seeding() -> None:
    with pytest.raises(StorageUnavailableError):
        await seed_system_roles(roles=Unreachable(), admin_jwt_roles=["admin"])


class UnreadableAdmin(InMemoryRoleRepository):
    """system_admin is stored in a shape this version cannot read."""

    async def get(self, role_id: str) -> AppRole | None:
        if role_id == SYSTEM_ADMIN:
            raise CorruptRecord(f"the stored role {role_id} cannot be read")
        return await super().get(role_id)


async def test_an_unreadable_system_role_is_left_as_stored_and_the_rest_is_seeded() -> None:
    roles = UnreadableAdmin()

    lines = await seed_system_roles(roles=roles, admin_jwt_roles=["admin"])

    assert lines == [f"role {SYSTEM_ADMIN}: cannot be read, left as stored", f"role {DEFAULT_ROLE}: created"]
    assert [role.role_id for role in await roles.list_roles()] == [DEFAULT_ROLE]
