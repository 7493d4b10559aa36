"""Events recorded once, on the in-memory fake, SQLite and DynamoDB (moto): the id is the claim, so a warning of a
user, tier, period and threshold is stored once however many turns record it at the same time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from apis.shared.quota import (
    QuotaEventType,
    QuotaRepository,
    QuotaWindow,
    check_user,
    record_outcome,
)
from apis.shared.quota.enforcement import warning_id
from tests.helpers import random_user_id
from tests.shared.quota.builders import make_assignment, make_event, make_tier

NOW = datetime.now(UTC).replace(microsecond=0)


async def test_an_event_recorded_once_is_stored_by_the_first_call_only(quota_repository: QuotaRepository) -> None:
    user = random_user_id()
    first = make_event(user, event_id=warning_id(user_id=user, tier_id="standard", period="2025-03", threshold="80%"))
    again = first.model_copy(update={"current_usage": 9.0})

    stored = [await quota_repository.record_event_once(first), await quota_repository.record_event_once(again)]
    page = await quota_repository.list_events(user_id=user, limit=10)
    other = make_event(user, event_id=warning_id(user_id=user, tier_id="standard", period="2025-03", threshold="90%"))

    assert stored == [True, False]
    assert page.items == [first]
    assert await quota_repository.record_event_once(other) is True
    assert len((await quota_repository.list_events(user_id=user, limit=10)).items) == 2


async def test_concurrent_calls_with_one_id_store_one_event(quota_repository: QuotaRepository) -> None:
    user = random_user_id()
    event_id = warning_id(user_id=user, tier_id="standard", period="2025-03", threshold="80%")
    events = [make_event(user, event_id=event_id, current_usage=8.0 + index / 100) for index in range(12)]

    stored = await asyncio.gather(*(quota_repository.record_event_once(event) for event in events))

    assert sorted(stored) == [False] * 11 + [True]
    (kept,) = (await quota_repository.list_events(user_id=user, limit=50)).items
    assert kept == events[stored.index(True)]


async def test_concurrent_turns_past_the_soft_limit_record_one_warning(quota_repository: QuotaRepository) -> None:
    user, tier = random_user_id(), make_tier(monthly_cost_limit=10.0)
    await quota_repository.create_tier(tier)
    await quota_repository.create_assignment(make_assignment(tier.tier_id))

    async def spent(user_id: str, window: QuotaWindow) -> float:
        return 8.5

    decisions = [await check_user(quotas=quota_repository, usage=spent, user_id=user, now=NOW) for _ in range(10)]
    moments = [NOW + timedelta(milliseconds=index) for index in range(10)]

    recorded = await asyncio.gather(
        *(
            record_outcome(quotas=quota_repository, user_id=user, decision=decision, session_id=f"s{index}", now=moment)
            for index, (decision, moment) in enumerate(zip(decisions, moments, strict=True))
        )
    )

    assert sum(event is not None for event in recorded) == 1
    stored = (await quota_repository.list_events(user_id=user, event_type=QuotaEventType.WARNING, limit=50)).items
    assert [(event.tier_id, (event.metadata or {})["threshold"]) for event in stored] == [(tier.tier_id, "80%")]
    assert stored == [event for event in recorded if event is not None]
