"""The UserRepository contract, run against the in-memory fake, SQLite and DynamoDB (moto server)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest

from apis.shared.errors import InvalidPageToken
from apis.shared.pagination import Page
from apis.shared.users import UserLogin, UserProfile, UserRepository, UserStatus
from tests.helpers import random_user_id

EARLY = "2026-01-05T09:00:00.000000Z"
LATER = "2026-01-06T10:30:00.000000Z"
LATEST = "2026-01-07T11:45:00.000000Z"


def login(user_id: str | None = None, **claims: object) -> UserLogin:
    """A login with unique claims unless given."""
    user_id = user_id or random_user_id()
    suffix = uuid.uuid4().hex[:6]
    values: dict[str, object] = {
        "email": f"person-{suffix}@example.org",
        "name": f"Person {suffix}",
        "roles": ("user",),
        "picture": None,
        **claims,
    }
    return UserLogin(user_id=user_id, **values)  # type: ignore[arg-type]


Fetch = Callable[..., Awaitable[Page[UserProfile]]]


async def every_page(fetch: Fetch, *, limit: int) -> tuple[list[str], list[Page[UserProfile]]]:
    """The user ids of all pages of a list, in order, and the pages themselves."""
    pages: list[Page[UserProfile]] = []
    token: str | None = None
    while True:
        page = await fetch(limit=limit, page_token=token)
        pages.append(page)
        token = page.next_token
        if token is None:
            break
    return [profile.user_id for page in pages for profile in page.items], pages


async def test_first_login_creates_an_active_profile(user_repository: UserRepository) -> None:
    first = login(email="Ada.Lovelace@Example.COM", name="Ada Lovelace", roles=("user", "admin"), picture="https://p/a")

    created = await user_repository.upsert_login(first, at=EARLY)

    assert created == UserProfile(
        user_id=first.user_id,
        email="Ada.Lovelace@Example.COM",
        name="Ada Lovelace",
        roles=["user", "admin"],
        picture="https://p/a",
        email_domain="example.com",
        created_at=EARLY,
        last_login_at=EARLY,
        status=UserStatus.ACTIVE,
    )
    assert await user_repository.get(first.user_id) == created


async def test_an_unknown_user_is_none(user_repository: UserRepository) -> None:
    assert await user_repository.get(random_user_id()) is None


async def test_a_profile_without_optional_claims_round_trips(user_repository: UserRepository) -> None:
    bare = UserLogin(user_id=random_user_id())

    created = await user_repository.upsert_login(bare, at=EARLY)

    assert (created.email, created.name, created.picture, created.email_domain, created.roles) == (
        None,
        None,
        None,
        None,
        [],
    )
    assert await user_repository.get(bare.user_id) == created


async def test_a_later_login_updates_the_claims_and_keeps_created_at(user_repository: UserRepository) -> None:
    user_id = random_user_id()
    await user_repository.upsert_login(login(user_id, email="a@old.example", name="Old"), at=EARLY)

    updated = await user_repository.upsert_login(
        login(user_id, email="a@New.Example", name="New", roles=("admin",), picture="https://p/new"), at=LATER
    )

    assert updated.created_at == EARLY
    assert updated.last_login_at == LATER
    assert (updated.email, updated.name, updated.roles, updated.picture) == (
        "a@New.Example",
        "New",
        ["admin"],
        "https://p/new",
    )
    assert updated.email_domain == "new.example"
    assert updated.status is UserStatus.ACTIVE
    assert await user_repository.get(user_id) == updated
    cleared = await user_repository.upsert_login(UserLogin(user_id=user_id), at=LATEST)
    assert (cleared.email, cleared.email_domain, cleared.name, cleared.roles) == (None, None, None, [])


async def test_a_suspension_survives_a_later_login(user_repository: UserRepository) -> None:
    user_id = random_user_id()
    await user_repository.upsert_login(login(user_id), at=EARLY)

    suspended = await user_repository.set_status(user_id, UserStatus.SUSPENDED)
    after_login = await user_repository.upsert_login(login(user_id, name="Renamed"), at=LATER)

    assert suspended is not None
    assert suspended.status is UserStatus.SUSPENDED
    assert after_login.status is UserStatus.SUSPENDED
    assert after_login.name == "Renamed"
    assert after_login.created_at == EARLY
    assert await user_repository.get(user_id) == after_login


async def test_a_login_that_read_before_a_suspension_does_not_undo_it(user_repository: UserRepository) -> None:
    user_id = random_user_id()
    await user_repository.upsert_login(login(user_id), at=EARLY)

    # The racing order: a request reads the profile, an admin suspends, then the request writes its sync.
    read = await user_repository.get(user_id)
    await user_repository.set_status(user_id, UserStatus.SUSPENDED)
    written = await user_repository.upsert_login(login(user_id), at=LATER)

    assert read is not None
    assert read.status is UserStatus.ACTIVE
    assert written.status is UserStatus.SUSPENDED
    stored = await user_repository.get(user_id)
    assert stored is not None
    assert stored.status is UserStatus.SUSPENDED


async def test_concurrent_logins_never_undo_a_suspension(user_repository: UserRepository) -> None:
    user_id = random_user_id()
    await user_repository.upsert_login(login(user_id), at=EARLY)

    await asyncio.gather(
        *(user_repository.upsert_login(login(user_id), at=LATER) for _ in range(5)),
        user_repository.set_status(user_id, UserStatus.SUSPENDED),
        *(user_repository.upsert_login(login(user_id), at=LATEST) for _ in range(5)),
    )

    stored = await user_repository.get(user_id)
    assert stored is not None
    assert stored.status is UserStatus.SUSPENDED
    assert stored.created_at == EARLY


async def test_set_status_reactivates(user_repository: UserRepository) -> None:
    user_id = random_user_id()
    created = await user_repository.upsert_login(login(user_id), at=EARLY)
    await user_repository.set_status(user_id, UserStatus.SUSPENDED)

    reactivated = await user_repository.set_status(user_id, UserStatus.ACTIVE)

    assert reactivated == created
    assert await user_repository.get(user_id) == created


async def test_set_status_of_an_unknown_user_is_none_and_creates_nothing(user_repository: UserRepository) -> None:
    user_id = random_user_id()

    assert await user_repository.set_status(user_id, UserStatus.SUSPENDED) is None
    assert await user_repository.get(user_id) is None
    assert (await user_repository.list_users(limit=10)).items == []


async def test_list_is_by_user_id_and_pages_cover_everyone_once(user_repository: UserRepository) -> None:
    user_ids = [random_user_id() for _ in range(7)]
    for user_id in user_ids:
        await user_repository.upsert_login(login(user_id), at=EARLY)

    seen, pages = await every_page(user_repository.list_users, limit=3)

    assert seen == sorted(user_ids)
    assert [len(page.items) for page in pages] == [3, 3, 1]


async def test_list_pages_exactly_divisible_end_without_a_token(user_repository: UserRepository) -> None:
    for _ in range(4):
        await user_repository.upsert_login(login(), at=EARLY)

    first = await user_repository.list_users(limit=2)
    second = await user_repository.list_users(limit=2, page_token=first.next_token)

    assert len(first.items) == len(second.items) == 2
    assert first.next_token is not None
    assert second.next_token is None


async def test_list_filters_by_status_and_domain(user_repository: UserRepository) -> None:
    acme_active = await user_repository.upsert_login(login(email="a@ACME.example"), at=EARLY)
    acme_suspended = await user_repository.upsert_login(login(email="b@acme.example"), at=EARLY)
    other = await user_repository.upsert_login(login(email="c@other.example"), at=EARLY)
    await user_repository.upsert_login(UserLogin(user_id=random_user_id()), at=EARLY)  # no email at all
    await user_repository.set_status(acme_suspended.user_id, UserStatus.SUSPENDED)

    acme = await user_repository.list_users(limit=10, email_domain="Acme.Example")
    suspended = await user_repository.list_users(limit=10, status=UserStatus.SUSPENDED)
    active = await user_repository.list_users(limit=10, status=UserStatus.ACTIVE)
    both = await user_repository.list_users(limit=10, status=UserStatus.ACTIVE, email_domain="acme.example")

    assert {p.user_id for p in acme.items} == {acme_active.user_id, acme_suspended.user_id}
    assert [p.user_id for p in suspended.items] == [acme_suspended.user_id]
    assert len(active.items) == 3
    assert other.user_id in {p.user_id for p in active.items}
    assert [p.user_id for p in both.items] == [acme_active.user_id]
    assert (await user_repository.list_users(limit=10, email_domain="example")).items == []


async def test_filtered_list_pages_through_every_match(user_repository: UserRepository) -> None:
    wanted = []
    for index in range(9):
        domain = "match.example" if index % 3 == 0 else "other.example"
        profile = await user_repository.upsert_login(login(email=f"p{index}@{domain}"), at=EARLY)
        if index % 3 == 0:
            wanted.append(profile.user_id)

    async def fetch(*, limit: int, page_token: str | None) -> Page[UserProfile]:
        return await user_repository.list_users(limit=limit, page_token=page_token, email_domain="match.example")

    seen, pages = await every_page(fetch, limit=2)

    assert seen == sorted(wanted)
    assert [len(page.items) for page in pages] == [2, 1]


async def test_search_matches_name_or_email_ignoring_case(user_repository: UserRepository) -> None:
    grace = await user_repository.upsert_login(login(name="Grace Hopper", email="g.hopper@navy.example"), at=EARLY)
    alan = await user_repository.upsert_login(login(name="Alan Turing", email="alan@bletchley.example"), at=EARLY)
    await user_repository.upsert_login(login(name="Edsger Dijkstra", email="ewd@tue.example"), at=EARLY)
    nameless = await user_repository.upsert_login(
        UserLogin(user_id=random_user_id(), email="HOPPER2@x.example"), at=EARLY
    )

    by_name = await user_repository.search("hOPPer", limit=10)
    by_email = await user_repository.search("BLETCHLEY", limit=10)
    nowhere = await user_repository.search("nobody-has-this", limit=10)

    assert {p.user_id for p in by_name.items} == {grace.user_id, nameless.user_id}
    assert [p.user_id for p in by_email.items] == [alan.user_id]
    assert nowhere.items == []
    assert nowhere.next_token is None


async def test_search_does_not_match_other_fields(user_repository: UserRepository) -> None:
    await user_repository.upsert_login(
        login(name="Barbara Liskov", email="bl@mit.example", roles=("substitution",), picture="https://substitution"),
        at=EARLY,
    )

    assert (await user_repository.search("substitution", limit=10)).items == []


async def test_search_pages_through_every_match(user_repository: UserRepository) -> None:
    wanted = []
    for index in range(7):
        name = f"Needle {index}" if index % 2 == 0 else f"Hay {index}"
        profile = await user_repository.upsert_login(login(name=name), at=EARLY)
        if index % 2 == 0:
            wanted.append(profile.user_id)

    async def fetch(*, limit: int, page_token: str | None) -> Page[UserProfile]:
        return await user_repository.search("needle", limit=limit, page_token=page_token)

    seen, pages = await every_page(fetch, limit=3)

    assert seen == sorted(wanted)
    assert [len(page.items) for page in pages] == [3, 1]


async def test_ids_with_key_separator_characters_round_trip(user_repository: UserRepository) -> None:
    plain, tricky = "user-a", "user-a#PROFILE"
    await user_repository.upsert_login(login(plain, name="Plain"), at=EARLY)
    await user_repository.upsert_login(login(tricky, name="Tricky"), at=EARLY)

    first, second = await user_repository.get(plain), await user_repository.get(tricky)

    assert first is not None
    assert second is not None
    assert (first.name, second.name) == ("Plain", "Tricky")


@pytest.mark.parametrize("token", ["garbage!", "e30", "eyJ4IjogMX0", "a" * 5000])
async def test_a_foreign_page_token_is_refused(user_repository: UserRepository, token: str) -> None:
    await user_repository.upsert_login(login(), at=EARLY)

    with pytest.raises(InvalidPageToken):
        await user_repository.list_users(limit=5, page_token=token)
    with pytest.raises(InvalidPageToken):
        await user_repository.search("person", limit=5, page_token=token)


async def test_search_by_email_is_exact_ignoring_case(user_repository: UserRepository) -> None:
    ada = await user_repository.upsert_login(login(email="Ada@Example.org"), at=EARLY)
    twin = await user_repository.upsert_login(login(email="ada@example.ORG"), at=EARLY)
    await user_repository.upsert_login(login(email="ada@example.org.uk"), at=EARLY)
    await user_repository.upsert_login(login(email="x.ada@example.org"), at=EARLY)

    found = await user_repository.search_by_email("ADA@example.org", limit=10)
    prefix = await user_repository.search_by_email("ada@example", limit=10)

    assert [p.user_id for p in found.items] == sorted([ada.user_id, twin.user_id])
    assert found.next_token is None
    assert prefix.items == []


async def test_search_by_email_pages_through_every_match(user_repository: UserRepository) -> None:
    wanted = sorted(
        [(await user_repository.upsert_login(login(email="shared@inbox.example"), at=EARLY)).user_id for _ in range(3)]
    )
    await user_repository.upsert_login(login(email="other@inbox.example"), at=EARLY)

    async def fetch(*, limit: int, page_token: str | None) -> Page[UserProfile]:
        return await user_repository.search_by_email("shared@inbox.example", limit=limit, page_token=page_token)

    seen, pages = await every_page(fetch, limit=2)

    assert seen == wanted
    assert [len(page.items) for page in pages] == [2, 1]


async def test_email_domains_are_distinct_sorted_and_limited(user_repository: UserRepository) -> None:
    for email in ["a@Beta.example", "b@alpha.example", "c@beta.example", None, "no-domain", "d@gamma.example"]:
        await user_repository.upsert_login(login(email=email), at=EARLY)

    every = await user_repository.list_email_domains(limit=10)
    first_two = await user_repository.list_email_domains(limit=2)

    assert every == ["alpha.example", "beta.example", "gamma.example"]
    assert first_two == ["alpha.example", "beta.example"]


async def test_a_domain_goes_when_its_last_user_moves_away(user_repository: UserRepository) -> None:
    first, second = login(email="one@old.example"), login(email="two@old.example")
    await user_repository.upsert_login(first, at=EARLY)
    await user_repository.upsert_login(second, at=EARLY)

    await user_repository.upsert_login(login(first.user_id, email="one@new.example"), at=LATER)
    halfway = await user_repository.list_email_domains(limit=10)
    await user_repository.upsert_login(login(second.user_id, email="two@NEW.example"), at=LATER)
    await user_repository.upsert_login(login(second.user_id, email="two@new.example"), at=LATEST)  # same domain
    moved = await user_repository.list_email_domains(limit=10)
    await user_repository.upsert_login(login(first.user_id, email=None), at=LATEST)
    await user_repository.upsert_login(login(second.user_id, email=None), at=LATEST)

    assert halfway == ["new.example", "old.example"]
    assert moved == ["new.example"]
    assert await user_repository.list_email_domains(limit=10) == []


async def test_concurrent_sign_ins_count_a_user_under_one_domain_once(user_repository: UserRepository) -> None:
    user_id = random_user_id()
    await asyncio.gather(
        *(user_repository.upsert_login(login(user_id, email=f"u@{domain}.example"), at=EARLY) for domain in "aab" * 2)
    )
    await user_repository.upsert_login(login(user_id, email="u@final.example"), at=LATER)

    assert await user_repository.list_email_domains(limit=10) == ["final.example"]
