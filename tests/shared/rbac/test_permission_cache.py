"""The per-process permission cache: one load per TTL however many callers, invalidation, failures."""

from __future__ import annotations

import asyncio

import pytest

from apis.shared.errors import StorageUnavailableError
from apis.shared.rbac import DEFAULT_ROLE, AppRole, AppRoleUpdate, EffectivePermissions, PermissionCache
from apis.shared.storage.memory.roles import InMemoryRoleRepository
from tests.shared.rbac.builders import make_role

TTL = 30.0


class CountingRoles(InMemoryRoleRepository):
    """The in-memory fake, counting `list_roles` calls; a load can be held open or made to fail."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self.load_started = asyncio.Event()
        self.release: asyncio.Event | None = None
        self.failure: Exception | None = None

    async def list_roles(self) -> list[AppRole]:
        self.loads += 1
        self.load_started.set()
        if self.release is not None:
            await self.release.wait()
        if self.failure is not None:
            raise self.failure
        return await super().list_roles()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def roles() -> CountingRoles:
    repository = CountingRoles()
    await repository.create(make_role(DEFAULT_ROLE, granted_models=["local-echo"]))
    await repository.create(make_role("staff", jwt_role_mappings=["staff"], granted_tools=["calculator"]))
    return repository


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(roles: CountingRoles, clock: FakeClock) -> PermissionCache:
    return PermissionCache(roles=roles, admin_jwt_roles=["admin"], ttl_seconds=TTL, clock=clock)


async def callers_during_a_held_load(roles: CountingRoles, calls: list[asyncio.Task[EffectivePermissions]]) -> None:
    """Let every task reach the cache while the first load is held open, then let the load finish."""
    await roles.load_started.wait()
    for _ in range(5):
        await asyncio.sleep(0)
    assert roles.release is not None
    roles.release.set()


async def test_many_concurrent_callers_share_one_load(cache: PermissionCache, roles: CountingRoles) -> None:
    roles.release = asyncio.Event()
    calls = [asyncio.create_task(cache.permissions_for(["staff"])) for _ in range(50)]

    await callers_during_a_held_load(roles, calls)
    results = await asyncio.gather(*calls)

    assert roles.loads == 1
    assert all(result.tools == ["calculator"] for result in results)


async def test_roles_are_loaded_once_per_ttl(cache: PermissionCache, roles: CountingRoles, clock: FakeClock) -> None:
    for _ in range(20):
        await cache.permissions_for(["staff"])
    clock.now += TTL - 0.001
    await cache.permissions_for([])
    assert roles.loads == 1

    clock.now += 0.001
    for _ in range(20):
        await cache.permissions_for(["staff"])
    assert roles.loads == 2


async def test_a_change_elsewhere_shows_once_the_ttl_has_passed(
    cache: PermissionCache, roles: CountingRoles, clock: FakeClock
) -> None:
    assert (await cache.permissions_for(["staff"])).tools == ["calculator"]
    # Another process changes the role: this one keeps its copy until the TTL runs out.
    await roles.update("staff", AppRoleUpdate(granted_tools=["search"]))
    assert (await cache.permissions_for(["staff"])).tools == ["calculator"]

    clock.now += TTL

    assert (await cache.permissions_for(["staff"])).tools == ["search"]


async def test_invalidate_makes_the_next_call_reload(cache: PermissionCache, roles: CountingRoles) -> None:
    await cache.permissions_for(["staff"])
    await roles.create(make_role("ops", jwt_role_mappings=["ops"], granted_tools=["code"]))

    cache.invalidate()

    assert (await cache.permissions_for(["ops"])).tools == ["code"]
    assert roles.loads == 2


async def test_a_load_overtaken_by_invalidate_is_not_kept(cache: PermissionCache, roles: CountingRoles) -> None:
    roles.release = asyncio.Event()
    first = asyncio.create_task(cache.permissions_for(["staff"]))
    await roles.load_started.wait()
    # A write lands while the roles are being read: what the load returns may predate it.
    cache.invalidate()
    roles.release.set()
    await first

    await cache.permissions_for(["staff"])

    assert roles.loads == 2


async def test_a_failed_load_propagates(cache: PermissionCache, roles: CountingRoles) -> None:
    roles.failure = StorageUnavailableError("the database is busy")

    with pytest.raises(StorageUnavailableError):
        await cache.permissions_for(["staff"])


async def test_an_expired_copy_is_not_used_when_the_reload_fails(
    cache: PermissionCache, roles: CountingRoles, clock: FakeClock
) -> None:
    await cache.permissions_for(["staff"])
    clock.now += TTL
    roles.failure = StorageUnavailableError("the database is busy")

    with pytest.raises(StorageUnavailableError):
        await cache.permissions_for(["staff"])

    # Nothing was cached by the failure: once storage is back, the next call loads again and succeeds.
    roles.failure = None
    assert (await cache.permissions_for(["staff"])).tools == ["calculator"]
    assert roles.loads == 3


async def test_callers_waiting_on_a_failed_load_fail_with_it(cache: PermissionCache, roles: CountingRoles) -> None:
    roles.release = asyncio.Event()
    roles.failure = StorageUnavailableError("the database is busy")
    calls = [asyncio.create_task(cache.permissions_for(["staff"])) for _ in range(10)]

    await callers_during_a_held_load(roles, calls)
    results = await asyncio.gather(*calls, return_exceptions=True)

    assert all(isinstance(result, StorageUnavailableError) for result in results)
    assert roles.loads == 1


async def test_an_empty_store_resolves_to_nothing(clock: FakeClock) -> None:
    cache = PermissionCache(roles=InMemoryRoleRepository(), admin_jwt_roles=["admin"], ttl_seconds=TTL, clock=clock)

    assert await cache.permissions_for(["staff"]) == EffectivePermissions()
