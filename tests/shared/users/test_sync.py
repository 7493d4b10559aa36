"""LoginSync over the in-memory repository with a fake clock: when it writes, and how it fails."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from prometheus_client import REGISTRY

from apis.shared.errors import StorageError, StorageUnavailableError
from apis.shared.storage.memory.users import InMemoryUserRepository
from apis.shared.users import LoginSync, UserLogin, UserProfile, UserStatus, UserSuspended
from tests.helpers import random_user_id

INTERVAL = 300.0


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ScriptedUsers(InMemoryUserRepository):
    """The in-memory repository, counting sign-in writes and failing reads or writes on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.upserts = 0
        self.failing_get: StorageError | None = None
        self.failing_upsert: StorageError | None = None

    async def get(self, user_id: str) -> UserProfile | None:
        if self.failing_get is not None:
            raise self.failing_get
        return await super().get(user_id)

    async def upsert_login(self, login: UserLogin, *, at: str) -> UserProfile:
        self.upserts += 1
        if self.failing_upsert is not None:
            raise self.failing_upsert
        return await super().upsert_login(login, at=at)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def users() -> ScriptedUsers:
    return ScriptedUsers()


@pytest.fixture
def sync(users: ScriptedUsers, clock: FakeClock) -> LoginSync:
    return LoginSync(users=users, interval_seconds=INTERVAL, clock=clock)


def a_login(**claims: object) -> UserLogin:
    values: dict[str, object] = {"email": "kim@example.org", "name": "Kim", "roles": ("user",), **claims}
    return UserLogin(user_id=random_user_id(), **values)  # type: ignore[arg-type]


def suppressed_count() -> float:
    return REGISTRY.get_sample_value("colloquy_suppressed_errors_total", {"where": "users.sync"}) or 0.0


async def test_the_first_request_creates_the_profile(sync: LoginSync, users: ScriptedUsers) -> None:
    login = a_login()

    profile = await sync.ensure_active(login)

    assert users.upserts == 1
    assert profile.status is UserStatus.ACTIVE
    assert (profile.email, profile.name, profile.roles) == ("kim@example.org", "Kim", ["user"])
    assert await users.get(login.user_id) == profile


async def test_a_request_within_the_interval_writes_nothing(
    sync: LoginSync, users: ScriptedUsers, clock: FakeClock
) -> None:
    login = a_login()
    first = await sync.ensure_active(login)
    clock.advance(INTERVAL - 1)

    second = await sync.ensure_active(login)

    assert users.upserts == 1
    assert second == first


async def test_a_request_after_the_interval_writes_again(
    sync: LoginSync, users: ScriptedUsers, clock: FakeClock
) -> None:
    login = a_login()
    await sync.ensure_active(login)
    clock.advance(INTERVAL)

    await sync.ensure_active(login)
    await sync.ensure_active(login)

    assert users.upserts == 2


@pytest.mark.parametrize(
    "changed",
    [{"email": "kim@new.example"}, {"name": "Kim K."}, {"roles": ("user", "admin")}, {"picture": "https://p/k"}],
)
async def test_changed_claims_are_written_at_once(
    sync: LoginSync, users: ScriptedUsers, changed: dict[str, Any]
) -> None:
    login = a_login()
    await sync.ensure_active(login)
    updated_login = replace(login, **changed)

    profile = await sync.ensure_active(updated_login)

    assert users.upserts == 2
    assert updated_login.matches(profile)
    assert await users.get(login.user_id) == profile


async def test_a_profile_stored_by_another_process_is_synced_once_here(sync: LoginSync, users: ScriptedUsers) -> None:
    login = a_login()
    await users.upsert_login(login, at="2026-01-01T00:00:00.000000Z")  # the other service wrote it
    users.upserts = 0

    await sync.ensure_active(login)
    await sync.ensure_active(login)

    assert users.upserts == 1


async def test_a_suspended_user_is_refused_without_a_write(sync: LoginSync, users: ScriptedUsers) -> None:
    login = a_login()
    await sync.ensure_active(login)
    await users.set_status(login.user_id, UserStatus.SUSPENDED)

    with pytest.raises(UserSuspended) as raised:
        await sync.ensure_active(login)

    assert (raised.value.status_code, raised.value.code) == (403, "user_suspended")
    assert raised.value.detail == "this account is suspended"
    assert users.upserts == 1


async def test_a_suspended_user_with_changed_claims_is_refused_too(sync: LoginSync, users: ScriptedUsers) -> None:
    login = a_login()
    await sync.ensure_active(login)
    await users.set_status(login.user_id, UserStatus.SUSPENDED)

    with pytest.raises(UserSuspended):
        await sync.ensure_active(UserLogin(user_id=login.user_id, name="New name"))

    assert users.upserts == 1


async def test_a_suspension_landing_between_read_and_write_is_refused(users: ScriptedUsers, clock: FakeClock) -> None:
    class SuspendingUsers(ScriptedUsers):
        async def upsert_login(self, login: UserLogin, *, at: str) -> UserProfile:
            await self.set_status(login.user_id, UserStatus.SUSPENDED)  # an admin, just before the write
            return await super().upsert_login(login, at=at)

    racing = SuspendingUsers()
    login = a_login()
    await racing.upsert_login(login, at="2026-01-01T00:00:00.000000Z")
    await racing.set_status(login.user_id, UserStatus.ACTIVE)

    with pytest.raises(UserSuspended):
        await LoginSync(users=racing, interval_seconds=INTERVAL, clock=clock).ensure_active(login)


async def test_a_reactivated_user_goes_on(sync: LoginSync, users: ScriptedUsers) -> None:
    login = a_login()
    await sync.ensure_active(login)
    await users.set_status(login.user_id, UserStatus.SUSPENDED)
    with pytest.raises(UserSuspended):
        await sync.ensure_active(login)

    await users.set_status(login.user_id, UserStatus.ACTIVE)

    assert (await sync.ensure_active(login)).status is UserStatus.ACTIVE


async def test_a_failed_refresh_is_suppressed_logged_and_counted(
    sync: LoginSync, users: ScriptedUsers, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    login = a_login()
    stored = await sync.ensure_active(login)
    clock.advance(INTERVAL)
    users.failing_upsert = StorageUnavailableError("the database is busy")
    before = suppressed_count()

    with caplog.at_level(logging.WARNING, logger="apis.shared.users.sync"):
        profile = await sync.ensure_active(login)

    assert profile == stored
    assert users.upserts == 2
    assert suppressed_count() == before + 1
    warnings = [record for record in caplog.records if record.name == "apis.shared.users.sync"]
    assert len(warnings) == 1
    assert warnings[0].exc_info is not None
    assert warnings[0].exc_info[1] is users.failing_upsert


async def test_a_failed_refresh_is_not_retried_on_every_request(
    sync: LoginSync, users: ScriptedUsers, clock: FakeClock
) -> None:
    login = a_login()
    await sync.ensure_active(login)
    clock.advance(INTERVAL)
    users.failing_upsert = StorageUnavailableError("the database is busy")
    await sync.ensure_active(login)

    await sync.ensure_active(login)
    assert users.upserts == 2
    users.failing_upsert = None
    clock.advance(INTERVAL)
    await sync.ensure_active(login)
    assert users.upserts == 3


async def test_a_failed_first_sync_propagates(sync: LoginSync, users: ScriptedUsers) -> None:
    login = a_login()
    users.failing_upsert = StorageError("the database failed")
    before = suppressed_count()

    with pytest.raises(StorageError):
        await sync.ensure_active(login)

    assert suppressed_count() == before
    # Nothing remembered: the next request tries the first write again.
    users.failing_upsert = None
    await sync.ensure_active(login)
    assert users.upserts == 2


async def test_a_failed_read_propagates_even_for_a_known_user(sync: LoginSync, users: ScriptedUsers) -> None:
    login = a_login()
    await sync.ensure_active(login)
    users.failing_get = StorageUnavailableError("the database is unreachable")

    with pytest.raises(StorageUnavailableError):
        await sync.ensure_active(login)

    assert users.upserts == 1


async def test_it_remembers_only_the_most_recent_users(users: ScriptedUsers, clock: FakeClock) -> None:
    sync = LoginSync(users=users, interval_seconds=INTERVAL, clock=clock, remembered_users=2)
    first, second, third = a_login(), a_login(), a_login()
    for login in (first, second, first, third):
        await sync.ensure_active(login)
    assert users.upserts == 3

    await sync.ensure_active(first)  # used recently: still remembered
    assert users.upserts == 3
    await sync.ensure_active(second)  # the least recent, forgotten when the third came
    assert users.upserts == 4
