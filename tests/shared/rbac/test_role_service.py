"""The roles service on the in-memory fake: validation of parents, system roles' protection, cache invalidation."""

from __future__ import annotations

import pydantic
import pytest

from apis.shared.rbac import (
    DEFAULT_ROLE,
    MAX_LIST_LENGTH,
    SYSTEM_ADMIN,
    AppRoleCreate,
    AppRoleUpdate,
    PermissionCache,
    RoleExists,
    RoleNotFound,
    SystemRoleProtected,
    UnknownParentRole,
    seed_system_roles,
    service,
)
from apis.shared.storage.memory.roles import InMemoryRoleRepository
from tests.shared.rbac.builders import make_role, random_role_id


@pytest.fixture
async def roles() -> InMemoryRoleRepository:
    repository = InMemoryRoleRepository()
    await seed_system_roles(roles=repository, admin_jwt_roles=["admin"])
    return repository


@pytest.fixture
def cache(roles: InMemoryRoleRepository) -> PermissionCache:
    # A clock that never moves: only invalidate() can make the cache reload.
    return PermissionCache(roles=roles, admin_jwt_roles=["admin"], ttl_seconds=30.0, clock=lambda: 0.0)


async def test_a_created_role_is_stored_as_an_ordinary_role(
    roles: InMemoryRoleRepository, cache: PermissionCache
) -> None:
    role_in = AppRoleCreate(role_id="staff", display_name="Staff", jwt_role_mappings=["staff"], priority=5)

    created = await service.create(roles=roles, cache=cache, role_in=role_in)

    assert created.is_system_role is False
    assert created.created_at == created.updated_at
    assert created.model_dump(include=set(AppRoleCreate.model_fields)) == role_in.model_dump()
    assert await service.get_or_raise(roles=roles, role_id="staff") == created


async def test_a_taken_id_is_role_exists(roles: InMemoryRoleRepository, cache: PermissionCache) -> None:
    await service.create(roles=roles, cache=cache, role_in=AppRoleCreate(role_id="staff", display_name="Staff"))

    with pytest.raises(RoleExists):
        await service.create(roles=roles, cache=cache, role_in=AppRoleCreate(role_id="staff", display_name="Other"))


@pytest.mark.parametrize("role_id", [SYSTEM_ADMIN, DEFAULT_ROLE])
async def test_a_system_role_id_cannot_be_created(
    roles: InMemoryRoleRepository, cache: PermissionCache, role_id: str
) -> None:
    await roles.delete(role_id)  # even while it is missing, the id stays reserved

    with pytest.raises(SystemRoleProtected):
        await service.create(roles=roles, cache=cache, role_in=AppRoleCreate(role_id=role_id, display_name="Mine"))


async def test_an_unknown_parent_is_refused_and_nothing_is_stored(
    roles: InMemoryRoleRepository, cache: PermissionCache
) -> None:
    role_in = AppRoleCreate(role_id="staff", display_name="Staff", inherits_from=[DEFAULT_ROLE, "no_such_role"])

    with pytest.raises(UnknownParentRole) as raised:
        await service.create(roles=roles, cache=cache, role_in=role_in)

    assert "no_such_role" in raised.value.detail
    assert raised.value.status_code == 400
    assert await roles.get("staff") is None


async def test_known_parents_are_accepted(roles: InMemoryRoleRepository, cache: PermissionCache) -> None:
    role_in = AppRoleCreate(role_id="staff", display_name="Staff", inherits_from=[DEFAULT_ROLE, SYSTEM_ADMIN])

    created = await service.create(roles=roles, cache=cache, role_in=role_in)

    assert created.inherits_from == [DEFAULT_ROLE, SYSTEM_ADMIN]


async def test_an_update_changes_only_what_was_sent(roles: InMemoryRoleRepository, cache: PermissionCache) -> None:
    role_in = AppRoleCreate(role_id="staff", display_name="Staff", description="Desk", granted_tools=["calculator"])
    created = await service.create(roles=roles, cache=cache, role_in=role_in)

    updated = await service.update(
        roles=roles, cache=cache, role_id="staff", changes=AppRoleUpdate.model_validate({"grantedModels": ["gpt-4o"]})
    )

    assert updated.granted_models == ["gpt-4o"]
    assert (updated.display_name, updated.description, updated.granted_tools) == ("Staff", "Desk", ["calculator"])
    assert updated.created_at == created.created_at


async def test_updating_an_unknown_role_is_role_not_found(
    roles: InMemoryRoleRepository, cache: PermissionCache
) -> None:
    with pytest.raises(RoleNotFound):
        await service.update(
            roles=roles, cache=cache, role_id=random_role_id(), changes=AppRoleUpdate(display_name="Ghost")
        )


async def test_an_update_naming_an_unknown_parent_changes_nothing(
    roles: InMemoryRoleRepository, cache: PermissionCache
) -> None:
    created = await service.create(roles=roles, cache=cache, role_in=AppRoleCreate(role_id="staff", display_name="S"))

    with pytest.raises(UnknownParentRole):
        await service.update(
            roles=roles,
            cache=cache,
            role_id="staff",
            changes=AppRoleUpdate(display_name="Renamed", inherits_from=["no_such_role"]),
        )

    assert await roles.get("staff") == created


@pytest.mark.parametrize(
    "changes",
    [
        AppRoleUpdate(enabled=False),
        AppRoleUpdate(granted_tools=["calculator"]),
        AppRoleUpdate(granted_models=[]),
        AppRoleUpdate(jwt_role_mappings=[]),
        AppRoleUpdate(jwt_role_mappings=["ops"]),
        AppRoleUpdate.model_validate({"jwtRoleMappings": None}),
    ],
    ids=["disable", "drop-tool-wildcard", "drop-model-wildcard", "unmap", "remap", "null-mappings"],
)
async def test_system_admin_keeps_its_powers(
    roles: InMemoryRoleRepository, cache: PermissionCache, changes: AppRoleUpdate
) -> None:
    before = await roles.get(SYSTEM_ADMIN)

    with pytest.raises(SystemRoleProtected) as raised:
        await service.update(roles=roles, cache=cache, role_id=SYSTEM_ADMIN, changes=changes)

    assert raised.value.code == "system_role_protected"
    assert raised.value.status_code == 400
    assert await roles.get(SYSTEM_ADMIN) == before


async def test_system_admin_takes_new_mappings_grants_and_name(
    roles: InMemoryRoleRepository, cache: PermissionCache
) -> None:
    changes = AppRoleUpdate(
        display_name="Root",
        jwt_role_mappings=["admin", "ops"],
        granted_tools=["*", "calculator"],
        granted_models=["*"],
        enabled=True,
    )

    updated = await service.update(roles=roles, cache=cache, role_id=SYSTEM_ADMIN, changes=changes)

    assert (updated.display_name, updated.jwt_role_mappings) == ("Root", ["admin", "ops"])
    assert updated.is_system_role is True


async def test_the_default_role_may_be_edited_and_disabled(
    roles: InMemoryRoleRepository, cache: PermissionCache
) -> None:
    changes = AppRoleUpdate(granted_models=["local-echo"], enabled=False)

    updated = await service.update(roles=roles, cache=cache, role_id=DEFAULT_ROLE, changes=changes)

    assert (updated.granted_models, updated.enabled) == (["local-echo"], False)


@pytest.mark.parametrize("role_id", [SYSTEM_ADMIN, DEFAULT_ROLE])
async def test_system_roles_cannot_be_deleted(
    roles: InMemoryRoleRepository, cache: PermissionCache, role_id: str
) -> None:
    with pytest.raises(SystemRoleProtected) as raised:
        await service.delete(roles=roles, cache=cache, role_id=role_id)

    assert raised.value.status_code == 400
    assert await roles.get(role_id) is not None


async def test_a_deleted_role_is_gone_and_a_second_delete_is_not_found(
    roles: InMemoryRoleRepository, cache: PermissionCache
) -> None:
    await service.create(roles=roles, cache=cache, role_in=AppRoleCreate(role_id="staff", display_name="S"))

    await service.delete(roles=roles, cache=cache, role_id="staff")

    assert await roles.get("staff") is None
    with pytest.raises(RoleNotFound):
        await service.delete(roles=roles, cache=cache, role_id="staff")


async def test_list_roles_puts_system_admin_first(roles: InMemoryRoleRepository, cache: PermissionCache) -> None:
    await service.create(roles=roles, cache=cache, role_in=AppRoleCreate(role_id="staff", display_name="S", priority=5))

    listed = await service.list_roles(roles=roles)

    assert [role.role_id for role in listed] == [SYSTEM_ADMIN, "staff", DEFAULT_ROLE]


async def test_every_write_applies_to_the_next_request_of_this_process(
    roles: InMemoryRoleRepository, cache: PermissionCache
) -> None:
    assert (await cache.permissions_for(["staff"])).app_roles == [DEFAULT_ROLE]

    role_in = AppRoleCreate(role_id="staff", display_name="S", jwt_role_mappings=["staff"], granted_tools=["calc"])
    await service.create(roles=roles, cache=cache, role_in=role_in)
    assert (await cache.permissions_for(["staff"])).tools == ["calc"]

    await service.update(roles=roles, cache=cache, role_id="staff", changes=AppRoleUpdate(granted_tools=["search"]))
    assert (await cache.permissions_for(["staff"])).tools == ["search"]

    await service.delete(roles=roles, cache=cache, role_id="staff")
    assert (await cache.permissions_for(["staff"])).app_roles == [DEFAULT_ROLE]


async def test_with_permissions_shows_what_the_role_grants_with_its_direct_parents() -> None:
    grandparent = make_role("grandparent", granted_tools=["far"])
    parent = make_role("parent", granted_tools=["near"], granted_models=["m1"], inherits_from=["grandparent"])
    admin = make_role(SYSTEM_ADMIN, granted_tools=["*"], granted_models=["*"], enabled=True)
    role = make_role("staff", granted_models=["m2"], inherits_from=["parent", SYSTEM_ADMIN, "missing"])

    read = service.with_permissions(role, [grandparent, parent, admin, role])

    assert read.role_id == "staff"
    permissions = read.effective_permissions
    assert (permissions.app_roles, permissions.tools, permissions.models) == (
        ["staff"],
        ["*", "near"],
        ["*", "m1", "m2"],
    )
    assert permissions.is_admin is True
    assert read.model_dump(by_alias=True)["effectivePermissions"]["isAdmin"] is True


async def test_with_permissions_of_a_disabled_role_is_empty() -> None:
    role = make_role("staff", granted_tools=["calc"], enabled=False)

    permissions = service.with_permissions(role, [role]).effective_permissions

    assert (permissions.app_roles, permissions.tools, permissions.models, permissions.is_admin) == ([], [], [], False)


@pytest.mark.parametrize(
    "body",
    [{"roleId": "other"}, {"isSystemRole": False}, {"role_id": "other"}],
    ids=["role-id", "system-flag", "snake-case-id"],
)
async def test_an_update_cannot_name_the_id_or_the_system_flag(body: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        AppRoleUpdate.model_validate(body)


@pytest.mark.parametrize(
    "body",
    [
        {"roleId": "Staff", "displayName": "S"},
        {"roleId": "s", "displayName": "S"},
        {"roleId": "9lives", "displayName": "S"},
        {"roleId": "staff", "displayName": ""},
        {"roleId": "staff", "displayName": "S", "grantedTools": [f"t{n}" for n in range(MAX_LIST_LENGTH + 1)]},
        {"roleId": "staff", "displayName": "S", "jwtRoleMappings": [""]},
        {"roleId": "staff", "displayName": "S", "inheritsFrom": ["Not-An-Id"]},
    ],
    ids=["upper-case", "too-short", "leading-digit", "empty-name", "too-many-tools", "empty-mapping", "bad-parent"],
)
async def test_a_malformed_role_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        AppRoleCreate.model_validate(body)


async def test_repeated_list_entries_are_kept_once() -> None:
    role_in = AppRoleCreate(role_id="staff", display_name="S", granted_tools=["calc", "search", "calc"])

    assert role_in.granted_tools == ["calc", "search"]
