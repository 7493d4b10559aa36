"""The users service over the in-memory repository."""

from __future__ import annotations

import pytest

from apis.shared.errors import RuleViolation
from apis.shared.storage.memory.users import InMemoryUserRepository
from apis.shared.users import UserLogin, UserNotFound, UserStatus, UserUpdate, service
from tests.helpers import random_user_id

AT = "2026-02-01T08:00:00.000000Z"


@pytest.fixture
async def users() -> InMemoryUserRepository:
    return InMemoryUserRepository()


async def test_get_or_raise_finds_a_user(users: InMemoryUserRepository) -> None:
    created = await users.upsert_login(UserLogin(user_id=random_user_id(), name="Noor"), at=AT)

    assert await service.get_or_raise(users=users, user_id=created.user_id) == created


async def test_get_or_raise_of_an_unknown_user_is_not_found(users: InMemoryUserRepository) -> None:
    with pytest.raises(UserNotFound) as raised:
        await service.get_or_raise(users=users, user_id=random_user_id())

    assert (raised.value.status_code, raised.value.code) == (404, "user_not_found")


async def test_update_suspends_and_returns_the_profile(users: InMemoryUserRepository) -> None:
    created = await users.upsert_login(UserLogin(user_id=random_user_id()), at=AT)

    updated = await service.update(
        users=users, user_id=created.user_id, changes=UserUpdate(status=UserStatus.SUSPENDED)
    )

    assert updated.status is UserStatus.SUSPENDED
    assert await users.get(created.user_id) == updated


async def test_an_update_without_fields_changes_nothing(users: InMemoryUserRepository) -> None:
    created = await users.upsert_login(UserLogin(user_id=random_user_id()), at=AT)

    assert await service.update(users=users, user_id=created.user_id, changes=UserUpdate()) == created
    assert await users.get(created.user_id) == created


async def test_update_of_an_unknown_user_is_not_found(users: InMemoryUserRepository) -> None:
    user_id = random_user_id()

    with pytest.raises(UserNotFound):
        await service.update(users=users, user_id=user_id, changes=UserUpdate(status=UserStatus.SUSPENDED))

    assert await users.get(user_id) is None


@pytest.mark.parametrize("query", ["", " ", "a", "  b  "])
async def test_a_search_shorter_than_two_characters_is_refused(users: InMemoryUserRepository, query: str) -> None:
    await users.upsert_login(UserLogin(user_id=random_user_id(), name="ab"), at=AT)

    with pytest.raises(RuleViolation) as raised:
        await service.search(users=users, query=query, limit=10)

    assert raised.value.status_code == 400


async def test_search_ignores_surrounding_spaces(users: InMemoryUserRepository) -> None:
    noor = await users.upsert_login(UserLogin(user_id=random_user_id(), name="Noor Haddad"), at=AT)
    await users.upsert_login(UserLogin(user_id=random_user_id(), name="Sam Lee"), at=AT)

    page = await service.search(users=users, query="  NOOR  ", limit=10)

    assert [p.user_id for p in page.items] == [noor.user_id]


@pytest.mark.parametrize("domain", ["acme.example", " ACME.example ", "@Acme.Example"])
async def test_list_users_normalises_the_domain(users: InMemoryUserRepository, domain: str) -> None:
    acme = await users.upsert_login(UserLogin(user_id=random_user_id(), email="x@acme.example"), at=AT)
    await users.upsert_login(UserLogin(user_id=random_user_id(), email="y@other.example"), at=AT)

    page = await service.list_users(users=users, limit=10, email_domain=domain)

    assert [p.user_id for p in page.items] == [acme.user_id]


async def test_list_users_without_filters_lists_everyone(users: InMemoryUserRepository) -> None:
    ids = [(await users.upsert_login(UserLogin(user_id=random_user_id()), at=AT)).user_id for _ in range(3)]
    await users.set_status(ids[0], UserStatus.SUSPENDED)

    everyone = await service.list_users(users=users, limit=10, email_domain="  ")
    suspended = await service.list_users(users=users, limit=10, status=UserStatus.SUSPENDED)

    assert [p.user_id for p in everyone.items] == sorted(ids)
    assert [p.user_id for p in suspended.items] == [ids[0]]


async def test_a_login_derives_its_email_domain() -> None:
    assert UserLogin(user_id="u", email="Someone@Mail.Example.COM").email_domain == "mail.example.com"
    assert UserLogin(user_id="u", email="not-an-email").email_domain is None
    assert UserLogin(user_id="u", email="trailing@").email_domain is None
    assert UserLogin(user_id="u").email_domain is None
