"""The writes a turn makes, on every backend: an answer, its checkpoints and its cost land together or not at all."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from apis.shared.clock import now_iso, to_iso, utc_now
from apis.shared.costs import CostEntry, CostRepository
from apis.shared.costs.summaries import period_of
from apis.shared.sessions import (
    Message,
    MessageIdTaken,
    MessageMetadata,
    MessageRole,
    MessageStatus,
    MessageSuperseded,
    SessionNotFound,
    SessionPreferences,
    SessionRepository,
    TokenUsage,
)
from apis.shared.sessions import messages as messages_service
from apis.shared.sessions.metadata import new_session
from tests.helpers import random_session_id, random_user_id

Pair = tuple[SessionRepository, CostRepository]


def checkpoint(message_id: str, created_at: str, text: str, *, updated_at: str | None = None) -> Message:
    return Message(
        message_id=message_id,
        role=MessageRole.ASSISTANT,
        content=[{"text": text}],
        status=MessageStatus.STREAMING,
        created_at=created_at,
        updated_at=updated_at or now_iso(),
    )


def text(words: str) -> Message:
    return messages_service.new_message(MessageRole.USER, [{"text": words}])


def final(draft: Message, text: str, cost: float) -> Message:
    return draft.model_copy(
        update={
            "content": [{"text": text}],
            "status": MessageStatus.COMPLETE,
            "updated_at": now_iso(),
            "metadata": MessageMetadata(cost=cost, token_usage=TokenUsage(input_tokens=10, output_tokens=5)),
        }
    )


def entry(user_id: str, cost: float) -> CostEntry:
    return CostEntry(
        user_id=user_id,
        period=period_of(now_iso()),
        model_id="m1",
        provider="local",
        usage=TokenUsage(input_tokens=10, output_tokens=5, total_tokens=15),
        cost=cost,
    )


async def new_conversation(sessions: SessionRepository, user_id: str) -> str:
    session = await sessions.create_session(user_id, new_session(random_session_id()))
    return session.session_id


async def test_an_answer_and_its_cost_land_in_one_write(sessions_and_costs: Pair) -> None:
    sessions, costs = sessions_and_costs
    user = random_user_id()
    session_id = await new_conversation(sessions, user)
    draft = checkpoint("m-1", now_iso(), "")
    answer = final(draft, "the answer", 0.25)

    session = await sessions.append_message(user, session_id, answer, cost=entry(user, 0.25))

    summary = await costs.get_summary(user, period_of(now_iso()))
    assert (session.message_count, session.total_cost) == (1, 0.25)
    assert (summary.total_cost, summary.total_requests, summary.input_tokens) == (0.25, 1, 10)
    assert [model.model_id for model in summary.models] == ["m1"]


async def test_an_answer_to_a_missing_session_counts_no_cost(sessions_and_costs: Pair) -> None:
    sessions, costs = sessions_and_costs
    user = random_user_id()
    answer = final(checkpoint("m-1", now_iso(), ""), "lost", 0.5)

    with pytest.raises(SessionNotFound):
        await sessions.append_message(user, random_session_id(), answer, cost=entry(user, 0.5))

    assert (await costs.get_summary(user, period_of(now_iso()))).total_cost == 0


async def test_a_retried_answer_counts_once(sessions_and_costs: Pair) -> None:
    sessions, costs = sessions_and_costs
    user = random_user_id()
    session_id = await new_conversation(sessions, user)
    answer = final(checkpoint("m-1", now_iso(), ""), "once", 0.125)

    for _ in range(3):
        await sessions.append_message(user, session_id, answer, cost=entry(user, 0.125))

    stored = await sessions.get_session(user, session_id)
    assert stored is not None
    assert (stored.message_count, stored.total_cost) == (1, 0.125)
    assert (await costs.get_summary(user, period_of(now_iso()))).total_cost == 0.125


async def test_checkpoints_replace_each_other_and_the_final_version_counts_once(sessions_and_costs: Pair) -> None:
    sessions, costs = sessions_and_costs
    user = random_user_id()
    session_id = await new_conversation(sessions, user)
    first = checkpoint("m-1", now_iso(), "Once upon")
    await sessions.append_message(user, session_id, first)
    second = checkpoint("m-1", first.created_at, "Once upon a time")
    await sessions.append_message(user, session_id, second, replaces=first)
    answer = final(second, "Once upon a time, the end.", 0.5)

    session = await sessions.append_message(user, session_id, answer, cost=entry(user, 0.5), replaces=second)

    listed = (await sessions.list_messages(user, session_id, limit=10)).items
    assert listed == [answer]
    assert (session.message_count, session.total_cost) == (1, 0.5)
    assert (await costs.get_summary(user, period_of(now_iso()))).total_cost == 0.5


async def test_a_write_over_a_checkpoint_that_changed_is_refused_and_writes_nothing(sessions_and_costs: Pair) -> None:
    sessions, costs = sessions_and_costs
    user = random_user_id()
    session_id = await new_conversation(sessions, user)
    first = checkpoint("m-1", now_iso(), "partial")
    await sessions.append_message(user, session_id, first)
    settled = first.model_copy(update={"status": MessageStatus.INTERRUPTED, "updated_at": now_iso()})
    await sessions.append_message(user, session_id, settled, replaces=first)

    with pytest.raises(MessageSuperseded):
        await sessions.append_message(
            user, session_id, final(first, "too late", 0.5), cost=entry(user, 0.5), replaces=first
        )
    with pytest.raises(MessageIdTaken):
        await sessions.append_message(user, session_id, final(first, "as new", 0.5), cost=entry(user, 0.5))

    assert (await sessions.list_messages(user, session_id, limit=10)).items == [settled]
    session = await sessions.get_session(user, session_id)
    assert session is not None
    assert (session.message_count, session.total_cost) == (1, 0.0)
    assert (await costs.get_summary(user, period_of(now_iso()))).total_cost == 0


async def test_concurrent_answers_keep_the_summary_equal_to_the_messages(sessions_and_costs: Pair) -> None:
    sessions, costs = sessions_and_costs
    user = random_user_id()
    session_ids = [await new_conversation(sessions, user) for _ in range(4)]
    prices = [0.001 * (index + 1) for index in range(24)]

    async def answer(index: int, price: float) -> None:
        draft = checkpoint(f"m-{index:03d}", now_iso(), "")
        await sessions.append_message(
            user, session_ids[index % 4], final(draft, f"answer {index}", price), cost=entry(user, price)
        )

    await asyncio.gather(*(answer(index, price) for index, price in enumerate(prices)))

    stored = [
        message
        for session_id in session_ids
        for message in (await sessions.list_messages(user, session_id, limit=100)).items
    ]
    summary = await costs.get_summary(user, period_of(now_iso()))
    assert len(stored) == len(prices)
    assert summary.total_cost == pytest.approx(sum(message.cost for message in stored), abs=1e-12)
    assert summary.total_requests == len(prices)


async def test_readers_settle_an_abandoned_checkpoint_as_interrupted_but_not_a_live_one(
    sessions_and_costs: Pair,
) -> None:
    sessions, _ = sessions_and_costs
    user = random_user_id()
    session_id = await new_conversation(sessions, user)
    long_ago = to_iso(utc_now() - timedelta(seconds=120))
    abandoned = checkpoint("m-1", long_ago, "what the user saw", updated_at=long_ago)
    live = checkpoint("m-2", long_ago, "still streaming")
    await sessions.append_message(user, session_id, abandoned)
    await sessions.append_message(user, session_id, live)

    page = await messages_service.list_messages(
        sessions=sessions, user_id=user, session_id=session_id, limit=10, abandoned_after_seconds=30
    )
    again = await sessions.list_messages(user, session_id, limit=10)

    assert [(m.message_id, m.status) for m in page.items] == [
        ("m-1", MessageStatus.INTERRUPTED),
        ("m-2", MessageStatus.STREAMING),
    ]
    assert page.items == again.items, "the settled version is stored, not only shown"
    assert page.items[0].content == [{"text": "what the user saw"}]
    session = await sessions.get_session(user, session_id)
    assert session is not None
    assert session.message_count == 2


async def test_a_message_sets_the_preferences_sent_with_it_and_keeps_the_others(sessions_and_costs: Pair) -> None:
    sessions, _ = sessions_and_costs
    user = random_user_id()
    session_id = await new_conversation(sessions, user)
    first = SessionPreferences(last_model="m1", last_temperature=0.5, enabled_tools=["calculator"])
    await sessions.append_message(user, session_id, text("one"), preferences=first)

    updated = await sessions.append_message(
        user, session_id, text("two"), preferences=SessionPreferences(last_model="m2", enabled_tools=[])
    )

    stored = await sessions.get_session(user, session_id)
    assert updated == stored
    assert stored is not None
    assert (stored.message_count, stored.preferences.last_model, stored.preferences.last_temperature) == (2, "m2", 0.5)
    assert stored.preferences.enabled_tools == []
