"""The RoleRepository contract, run against the in-memory fake, SQLite and DynamoDB (moto server)."""

from __future__ import annotations

import asyncio

import pytest

from apis.shared.rbac import AppRoleUpdate, RoleExists, RoleRepository
from tests.shared.rbac.builders import make_role, random_role_id

LONG_AGO = "2020-01-01T00:00:00.000000Z"


async def test_a_created_role_reads_back_as_it_was_given(role_repository: RoleRepository) -> None:
    role = make_role(
        display_name="Staff – Lisbon office",
        description="",
        jwt_role_mappings=["staff", "Staff"],
        inherits_from=["default"],
        granted_tools=["web_search", "*"],
        granted_models=["gpt-4o", "anthropic.claude-3:0"],
        priority=-7,
        is_system_role=True,
        enabled=False,
    )

    assert await role_repository.create(role) == role
    assert await role_repository.get(role.role_id) == role


async def test_a_role_with_nothing_granted_reads_back_with_empty_lists(role_repository: RoleRepository) -> None:
    role = make_role()
    await role_repository.create(role)

    stored = await role_repository.get(role.role_id)

    assert stored is not None
    assert (stored.jwt_role_mappings, stored.inherits_from, stored.granted_tools, stored.granted_models) == (
        [],
        [],
        [],
        [],
    )


async def test_an_unknown_role_is_none(role_repository: RoleRepository) -> None:
    assert await role_repository.get(random_role_id()) is None


async def test_a_taken_id_is_refused_and_the_first_role_kept(role_repository: RoleRepository) -> None:
    first = make_role(display_name="First")
    await role_repository.create(first)

    with pytest.raises(RoleExists) as raised:
        await role_repository.create(make_role(first.role_id, display_name="Second"))

    assert raised.value.code == "role_exists"
    assert await role_repository.get(first.role_id) == first


async def test_concurrent_creates_of_one_id_store_exactly_one(role_repository: RoleRepository) -> None:
    role_id = random_role_id()
    candidates = [make_role(role_id, display_name=f"Candidate {n}") for n in range(5)]

    results = await asyncio.gather(*(role_repository.create(role) for role in candidates), return_exceptions=True)

    winners = [result for result in results if not isinstance(result, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(result, RoleExists) for result in results if isinstance(result, BaseException))
    assert await role_repository.get(role_id) == winners[0]


async def test_an_empty_store_lists_no_role(role_repository: RoleRepository) -> None:
    assert await role_repository.list_roles() == []


async def test_the_list_is_every_role_by_priority_then_id(role_repository: RoleRepository) -> None:
    roles = [
        make_role("beta", priority=10),
        make_role("alpha", priority=10),
        make_role("system_admin", priority=1000),
        make_role("default", priority=0),
        make_role("guest", priority=-5),
        make_role("zulu", priority=10),
    ]
    for role in roles:
        await role_repository.create(role)

    listed = await role_repository.list_roles()

    assert [role.role_id for role in listed] == ["system_admin", "alpha", "beta", "zulu", "default", "guest"]
    assert {role.role_id: role for role in listed} == {role.role_id: role for role in roles}


async def test_an_update_changes_only_the_sent_fields_and_the_update_time(role_repository: RoleRepository) -> None:
    role = make_role(
        description="Before",
        jwt_role_mappings=["staff"],
        granted_tools=["calculator"],
        granted_models=["local-echo"],
        priority=3,
        created_at=LONG_AGO,
        updated_at=LONG_AGO,
    )
    await role_repository.create(role)

    updated = await role_repository.update(
        role.role_id, AppRoleUpdate(granted_models=["gpt-4o", "local-echo"], enabled=False)
    )

    assert updated is not None
    assert updated.granted_models == ["gpt-4o", "local-echo"]
    assert updated.enabled is False
    assert updated.updated_at > LONG_AGO
    unchanged = {"granted_models", "enabled", "updated_at"}
    assert updated.model_dump(exclude=unchanged) == role.model_dump(exclude=unchanged)
    assert await role_repository.get(role.role_id) == updated


async def test_an_update_that_sends_null_clears_those_fields_only(role_repository: RoleRepository) -> None:
    role = make_role(
        description="Gone",
        granted_tools=["calculator"],
        granted_models=["kept"],
        created_at=LONG_AGO,
        updated_at=LONG_AGO,
    )
    await role_repository.create(role)

    changes = AppRoleUpdate.model_validate({"description": None, "grantedTools": None})
    updated = await role_repository.update(role.role_id, changes)

    assert updated is not None
    assert (updated.description, updated.granted_tools, updated.granted_models) == ("", [], ["kept"])
    cleared = {"description", "granted_tools", "updated_at"}
    assert updated.model_dump(exclude=cleared) == role.model_dump(exclude=cleared)
    assert await role_repository.get(role.role_id) == updated


async def test_an_update_can_empty_a_list(role_repository: RoleRepository) -> None:
    role = make_role(jwt_role_mappings=["staff", "ops"])
    await role_repository.create(role)

    updated = await role_repository.update(role.role_id, AppRoleUpdate(jwt_role_mappings=[]))

    assert updated is not None
    assert updated.jwt_role_mappings == []
    assert await role_repository.get(role.role_id) == updated


async def test_updating_an_unknown_role_is_none_and_creates_nothing(role_repository: RoleRepository) -> None:
    role_id = random_role_id()

    assert await role_repository.update(role_id, AppRoleUpdate(display_name="Ghost")) is None
    assert await role_repository.get(role_id) is None


async def test_concurrent_updates_of_different_fields_both_stay(role_repository: RoleRepository) -> None:
    role = make_role()
    await role_repository.create(role)

    await asyncio.gather(
        role_repository.update(role.role_id, AppRoleUpdate(granted_tools=["calculator"])),
        role_repository.update(role.role_id, AppRoleUpdate(granted_models=["gpt-4o"])),
        role_repository.update(role.role_id, AppRoleUpdate(description="Edited")),
    )

    stored = await role_repository.get(role.role_id)
    assert stored is not None
    assert (stored.granted_tools, stored.granted_models, stored.description) == (["calculator"], ["gpt-4o"], "Edited")


async def test_a_deleted_role_comes_back_once_and_is_gone(role_repository: RoleRepository) -> None:
    kept, doomed = make_role(), make_role()
    await role_repository.create(kept)
    await role_repository.create(doomed)

    assert await role_repository.delete(doomed.role_id) is True
    assert await role_repository.get(doomed.role_id) is None
    assert await role_repository.delete(doomed.role_id) is False
    assert await role_repository.list_roles() == [kept]


async def test_a_deleted_id_can_be_created_again(role_repository: RoleRepository) -> None:
    role = make_role(display_name="Old")
    await role_repository.create(role)
    await role_repository.delete(role.role_id)

    again = make_role(role.role_id, display_name="New")
    await role_repository.create(again)

    assert await role_repository.get(role.role_id) == again


async def test_a_returned_role_is_not_the_stored_one(role_repository: RoleRepository) -> None:
    role = make_role(granted_tools=["calculator"])
    await role_repository.create(role)

    read = await role_repository.get(role.role_id)
    assert read is not None
    read.granted_tools.append("*")
    role.granted_tools.append("*")

    assert await role_repository.get(role.role_id) == make_role(
        role.role_id, granted_tools=["calculator"], created_at=role.created_at, updated_at=role.updated_at
    )
