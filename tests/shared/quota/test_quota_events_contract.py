"""The QuotaRepository contract: overrides and the event log, on the in-memory fake, SQLite and DynamoDB (moto)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apis.shared.clock import to_iso, utc_now
from apis.shared.errors import InvalidPageToken
from apis.shared.quota import QuotaEvent, QuotaEventType, QuotaOverrideUpdate, QuotaRepository
from tests.helpers import random_user_id
from tests.shared.quota.builders import make_event, make_override

START = utc_now().replace(microsecond=0) - timedelta(days=1)


def at(seconds: int) -> str:
    return to_iso(START + timedelta(seconds=seconds))


async def test_an_override_reads_back_and_is_listed_with_its_users(quota_repository: QuotaRepository) -> None:
    user = random_user_id()
    custom = make_override(user, override_type="custom_limit", monthly_cost_limit=50.0, daily_cost_limit=5.0)
    later = make_override(user, valid_until=to_iso(utc_now() + timedelta(days=9)))
    # Users whose ids begin alike, or carry the key separator, are other users.
    others = [make_override(f"{user}x"), make_override(f"{user}#y"), make_override(random_user_id())]
    for override in (custom, later, *others):
        await quota_repository.create_override(override)

    assert await quota_repository.get_override(custom.override_id) == custom
    assert await quota_repository.list_overrides(user) == [later, custom]
    assert len(await quota_repository.list_overrides()) == 5
    assert await quota_repository.get_override("missing") is None


async def test_an_override_update_changes_the_sent_fields(quota_repository: QuotaRepository) -> None:
    user = random_user_id()
    override = await quota_repository.create_override(make_override(user))
    until = to_iso(utc_now() + timedelta(days=30))
    changes = QuotaOverrideUpdate.model_validate({"validUntil": until, "enabled": False})

    updated = await quota_repository.update_override(override.override_id, changes)

    assert updated is not None
    assert (updated.valid_until, updated.enabled, updated.reason) == (until, False, override.reason)
    assert await quota_repository.list_overrides(user) == [updated]
    assert await quota_repository.update_override("missing", changes) is None


async def test_an_override_is_deleted_once(quota_repository: QuotaRepository) -> None:
    user = random_user_id()
    override = await quota_repository.create_override(make_override(user))

    assert await quota_repository.delete_override(override.override_id) is True
    assert await quota_repository.list_overrides(user) == []
    assert await quota_repository.delete_override(override.override_id) is False


async def record(quota_repository: QuotaRepository, *events: QuotaEvent) -> list[QuotaEvent]:
    for event in events:
        await quota_repository.record_event(event)
    return sorted(events, key=lambda event: (event.timestamp, event.event_id), reverse=True)


async def every_page(quota_repository: QuotaRepository, limit: int, **filters: object) -> list[list[QuotaEvent]]:
    pages: list[list[QuotaEvent]] = []
    token: str | None = None
    while True:
        page = await quota_repository.list_events(limit=limit, page_token=token, **filters)  # type: ignore[arg-type]
        pages.append(page.items)
        token = page.next_token
        if token is None:
            return pages


async def test_an_event_reads_back_with_its_metadata(quota_repository: QuotaRepository) -> None:
    user = random_user_id()
    event = make_event(user, metadata={"threshold": "90%", "share": 0.1, "count": 3, "none": None, "list": [1, "a"]})
    await quota_repository.record_event(event)

    page = await quota_repository.list_events(user_id=user, limit=10)

    assert page.items == [event]
    assert page.next_token is None


async def test_a_users_events_come_newest_first_in_pages(quota_repository: QuotaRepository) -> None:
    user = random_user_id()
    # Two share a timestamp: the event id orders them.
    events = await record(
        quota_repository,
        *(make_event(user, timestamp=at(n)) for n in range(5)),
        make_event(user, timestamp=at(2)),
        make_event(random_user_id(), timestamp=at(3)),
    )
    own = [event for event in events if event.user_id == user]

    pages = await every_page(quota_repository, 2, user_id=user)

    assert [event for page in pages for event in page] == own
    assert [len(page) for page in pages] == [2, 2, 2]


async def test_every_event_comes_newest_first_across_users(quota_repository: QuotaRepository) -> None:
    events = await record(quota_repository, *(make_event(random_user_id(), timestamp=at(n)) for n in range(7)))

    pages = await every_page(quota_repository, 3)

    assert [event for page in pages for event in page] == events


async def test_events_are_filtered_by_tier_type_and_time(quota_repository: QuotaRepository) -> None:
    user = random_user_id()
    events = await record(
        quota_repository,
        make_event(user, "gold", timestamp=at(1)),
        make_event(user, "gold", timestamp=at(2), event_type=QuotaEventType.BLOCK),
        make_event(user, "basic", timestamp=at(3), event_type=QuotaEventType.BLOCK),
        make_event(random_user_id(), "gold", timestamp=at(4), event_type=QuotaEventType.BLOCK),
        make_event(user, "gold", timestamp=at(5)),
    )
    newest, other_user, basic_block, gold_block, oldest = events

    by_tier = [e for page in await every_page(quota_repository, 1, tier_id="gold") for e in page]
    gold_blocks = await quota_repository.list_events(tier_id="gold", event_type=QuotaEventType.BLOCK, limit=10)
    users_gold = await quota_repository.list_events(user_id=user, tier_id="gold", limit=10)
    blocks = await quota_repository.list_events(event_type=QuotaEventType.BLOCK, limit=10)
    recent = await quota_repository.list_events(user_id=user, since=at(3), limit=10)

    assert by_tier == [newest, other_user, gold_block, oldest]
    assert gold_blocks.items == [other_user, gold_block]
    assert users_gold.items == [newest, gold_block, oldest]
    assert blocks.items == [other_user, basic_block, gold_block]
    assert recent.items == [newest, basic_block]


async def test_a_page_below_since_is_empty(quota_repository: QuotaRepository) -> None:
    user = random_user_id()
    await record(quota_repository, *(make_event(user, timestamp=at(n)) for n in range(3)))

    first = await quota_repository.list_events(user_id=user, limit=1)
    after = await quota_repository.list_events(user_id=user, limit=5, page_token=first.next_token, since=at(2))

    assert after.items == []
    assert after.next_token is None


@pytest.mark.parametrize("token", ["not-a-token", "eyJ4IjoxfQ"])
async def test_a_token_this_list_did_not_issue_is_refused(quota_repository: QuotaRepository, token: str) -> None:
    with pytest.raises(InvalidPageToken):
        await quota_repository.list_events(limit=5, page_token=token)
