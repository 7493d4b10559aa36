"""The SessionRepository contract, run against the in-memory fake, SQLite and DynamoDB (moto server)."""

from __future__ import annotations

import asyncio

import pytest

from apis.shared.errors import InvalidPageToken
from apis.shared.sessions import (
    Latency,
    Message,
    MessageIdTaken,
    MessageMetadata,
    MessageRole,
    MessageStatus,
    ModelInfo,
    SessionChanges,
    SessionIdTaken,
    SessionMetadata,
    SessionNotFound,
    SessionPreferences,
    SessionRepository,
    SessionStatus,
    TokenUsage,
)
from apis.shared.sessions.messages import new_message
from apis.shared.sessions.metadata import new_session
from tests.helpers import random_session_id, random_user_id


def text_message(text: str, role: MessageRole = MessageRole.USER) -> Message:
    return new_message(role, [{"text": text}])


async def create(repo: SessionRepository, user_id: str, title: str | None = None) -> SessionMetadata:
    changes = SessionChanges(title=title) if title else None
    return await repo.create_session(user_id, new_session(random_session_id(), changes))


async def test_created_session_reads_back_for_its_owner_only(session_repository: SessionRepository) -> None:
    owner, stranger = random_user_id(), random_user_id()
    created = await create(session_repository, owner, "Trip to Lisbon")

    assert await session_repository.get_session(owner, created.session_id) == created
    assert await session_repository.get_session(stranger, created.session_id) is None
    assert await session_repository.get_session(owner, random_session_id()) is None


async def test_a_session_id_belongs_to_one_user(session_repository: SessionRepository) -> None:
    owner, stranger = random_user_id(), random_user_id()
    created = await create(session_repository, owner)

    with pytest.raises(SessionIdTaken):
        await session_repository.create_session(stranger, new_session(created.session_id))
    with pytest.raises(SessionIdTaken):
        await session_repository.create_session(owner, new_session(created.session_id))
    assert await session_repository.get_session(stranger, created.session_id) is None


async def test_list_is_newest_first_and_pages_cover_everything_once(
    session_repository: SessionRepository,
) -> None:
    user = random_user_id()
    created = [await create(session_repository, user) for _ in range(7)]
    # Touch them in a known order, so lastMessageAt decides the order rather than creation.
    for session in reversed(created):
        await session_repository.append_message(user, session.session_id, text_message("hi"))
    await create(session_repository, random_user_id())  # someone else's

    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = await session_repository.list_sessions(user, limit=3, page_token=token)
        pages += 1
        assert len(page.items) == 3 or page.next_token is None
        seen.extend(s.session_id for s in page.items)
        token = page.next_token
        if token is None:
            break

    assert seen == [s.session_id for s in created]
    assert pages == 3


async def test_list_pages_exactly_divisible_end_without_a_token(
    session_repository: SessionRepository,
) -> None:
    user = random_user_id()
    for _ in range(4):
        await create(session_repository, user)

    first = await session_repository.list_sessions(user, limit=2)
    second = await session_repository.list_sessions(user, limit=2, page_token=first.next_token)

    assert len(first.items) == len(second.items) == 2
    assert second.next_token is None
    assert (await session_repository.list_sessions(random_user_id(), limit=5)).items == []


async def test_list_filters_by_starred_and_title_ignoring_case(session_repository: SessionRepository) -> None:
    user = random_user_id()
    lisbon = await create(session_repository, user, "Trip to LISBON")
    await create(session_repository, user, "Tax return")
    porto = await create(session_repository, user, "Lisbon and Porto")
    await session_repository.update_session(user, porto.session_id, SessionChanges(starred=True))

    by_title = await session_repository.list_sessions(user, limit=10, title_query="lisbon")
    starred = await session_repository.list_sessions(user, limit=10, starred=True)
    both = await session_repository.list_sessions(user, limit=10, starred=False, title_query="Lisbon")

    assert {s.session_id for s in by_title.items} == {lisbon.session_id, porto.session_id}
    assert [s.session_id for s in starred.items] == [porto.session_id]
    assert [s.session_id for s in both.items] == [lisbon.session_id]


async def test_filtered_list_pages_through_every_match(session_repository: SessionRepository) -> None:
    user = random_user_id()
    wanted = set()
    for index in range(9):
        session = await create(session_repository, user, f"{'match' if index % 3 == 0 else 'other'} {index}")
        if index % 3 == 0:
            wanted.add(session.session_id)

    seen: list[str] = []
    token: str | None = None
    while True:
        page = await session_repository.list_sessions(user, limit=2, page_token=token, title_query="MATCH")
        seen.extend(s.session_id for s in page.items)
        token = page.next_token
        if token is None:
            break

    assert sorted(seen) == sorted(wanted)


@pytest.mark.parametrize("token", ["garbage!", "e30", "eyJ4IjogMX0", "a" * 5000])
async def test_a_foreign_page_token_is_refused(session_repository: SessionRepository, token: str) -> None:
    user = random_user_id()
    session = await create(session_repository, user)

    with pytest.raises(InvalidPageToken):
        await session_repository.list_sessions(user, limit=5, page_token=token)
    with pytest.raises(InvalidPageToken):
        await session_repository.list_messages(user, session.session_id, limit=5, page_token=token)


async def test_update_changes_only_the_fields_sent(session_repository: SessionRepository) -> None:
    user = random_user_id()
    created = await create(session_repository, user, "Before")
    changes = SessionChanges(
        starred=True,
        tags=["work", "q3"],
        status=SessionStatus.ARCHIVED,
        preferences=SessionPreferences(last_model="local-echo", last_temperature=0.2),
    )

    updated = await session_repository.update_session(user, created.session_id, changes)

    assert updated is not None
    assert updated.title == "Before"
    assert (updated.starred, updated.tags, updated.status) == (True, ["work", "q3"], SessionStatus.ARCHIVED)
    assert updated.preferences.last_model == "local-echo"
    assert await session_repository.get_session(user, created.session_id) == updated
    renamed = await session_repository.update_session(user, created.session_id, SessionChanges(title="After"))
    assert renamed is not None
    assert (renamed.title, renamed.starred, renamed.tags) == ("After", True, ["work", "q3"])


async def test_update_of_another_users_session_changes_nothing(session_repository: SessionRepository) -> None:
    owner = random_user_id()
    created = await create(session_repository, owner, "Mine")

    result = await session_repository.update_session(random_user_id(), created.session_id, SessionChanges(title="X"))

    assert result is None
    assert await session_repository.get_session(owner, created.session_id) == created


async def test_append_counts_and_moves_last_message_at(session_repository: SessionRepository) -> None:
    user = random_user_id()
    created = await create(session_repository, user)
    question = text_message("What is WAL?")
    answer = text_message("Write-ahead logging.", MessageRole.ASSISTANT)

    await session_repository.append_message(user, created.session_id, question)
    after = await session_repository.append_message(user, created.session_id, answer)

    assert after.message_count == 2
    assert after.last_message_at == answer.created_at
    assert await session_repository.get_session(user, created.session_id) == after
    page = await session_repository.list_messages(user, created.session_id, limit=10)
    assert page.items == [question, answer]
    assert page.next_token is None


async def test_append_to_a_missing_or_foreign_session_writes_nothing(
    session_repository: SessionRepository,
) -> None:
    owner, stranger = random_user_id(), random_user_id()
    created = await create(session_repository, owner)

    with pytest.raises(SessionNotFound):
        await session_repository.append_message(stranger, created.session_id, text_message("sneaky"))
    with pytest.raises(SessionNotFound):
        await session_repository.append_message(owner, random_session_id(), text_message("lost"))

    assert (await session_repository.get_session(owner, created.session_id)) == created
    assert (await session_repository.list_messages(owner, created.session_id, limit=10)).items == []


async def test_messages_keep_every_field(session_repository: SessionRepository) -> None:
    user = random_user_id()
    created = await create(session_repository, user)
    message = new_message(
        MessageRole.ASSISTANT,
        [
            {"text": "Let me check."},
            {"toolUse": {"toolUseId": "t1", "name": "calculator", "input": {"expression": "2+2"}}},
        ],
        status=MessageStatus.INTERRUPTED,
        metadata=MessageMetadata(
            token_usage=TokenUsage(input_tokens=12, output_tokens=5, total_tokens=17),
            latency=Latency(time_to_first_byte_ms=12.5, latency_ms=80.25),
            model_info=ModelInfo(
                model_id="local-echo", model_name="Local", provider="local", pricing_snapshot={"input": 0.0}
            ),
            cost=0.000123,
        ),
    )

    await session_repository.append_message(user, created.session_id, message)

    assert (await session_repository.list_messages(user, created.session_id, limit=1)).items == [message]


async def test_message_pages_are_oldest_first(session_repository: SessionRepository) -> None:
    user = random_user_id()
    created = await create(session_repository, user)
    written = [text_message(f"message {index}") for index in range(5)]
    for message in written:
        await session_repository.append_message(user, created.session_id, message)

    first = await session_repository.list_messages(user, created.session_id, limit=2)
    second = await session_repository.list_messages(user, created.session_id, limit=2, page_token=first.next_token)
    third = await session_repository.list_messages(user, created.session_id, limit=2, page_token=second.next_token)

    assert [m.message_id for m in first.items + second.items + third.items] == [m.message_id for m in written]
    assert third.next_token is None


async def test_messages_of_another_users_session_are_not_found(session_repository: SessionRepository) -> None:
    owner = random_user_id()
    created = await create(session_repository, owner)
    await session_repository.append_message(owner, created.session_id, text_message("private"))

    with pytest.raises(SessionNotFound):
        await session_repository.list_messages(random_user_id(), created.session_id, limit=10)


async def test_concurrent_appends_are_all_counted(session_repository: SessionRepository) -> None:
    user = random_user_id()
    created = await create(session_repository, user)

    await asyncio.gather(
        *(session_repository.append_message(user, created.session_id, text_message(str(i))) for i in range(20))
    )

    session = await session_repository.get_session(user, created.session_id)
    assert session is not None
    assert session.message_count == 20
    assert len((await session_repository.list_messages(user, created.session_id, limit=100)).items) == 20


async def test_delete_removes_messages_and_frees_the_id(session_repository: SessionRepository) -> None:
    user, stranger = random_user_id(), random_user_id()
    created = await create(session_repository, user)
    for index in range(3):
        await session_repository.append_message(user, created.session_id, text_message(str(index)))

    assert await session_repository.delete_session(stranger, created.session_id) is None
    assert await session_repository.get_session(user, created.session_id) is not None

    deleted = await session_repository.delete_session(user, created.session_id)

    assert deleted is not None
    assert deleted.session_id == created.session_id
    assert await session_repository.get_session(user, created.session_id) is None
    assert await session_repository.delete_session(user, created.session_id) is None
    # The id is free again, and a new session under it starts empty.
    await session_repository.create_session(stranger, new_session(created.session_id))
    assert (await session_repository.list_messages(stranger, created.session_id, limit=10)).items == []


async def test_ping_answers_when_the_backend_is_up(session_repository: SessionRepository) -> None:
    await session_repository.ping()


async def test_a_session_can_be_created_with_its_first_message(session_repository: SessionRepository) -> None:
    user = random_user_id()
    session = new_session(random_session_id())
    first = text_message("Hello")

    created = await session_repository.create_session(user, session, first)

    assert created.message_count == 1
    assert created.last_message_at == first.created_at
    assert await session_repository.get_session(user, created.session_id) == created
    assert (await session_repository.list_messages(user, created.session_id, limit=5)).items == [first]


async def test_a_taken_id_writes_neither_session_nor_first_message(session_repository: SessionRepository) -> None:
    owner, stranger = random_user_id(), random_user_id()
    taken = await create(session_repository, owner)

    with pytest.raises(SessionIdTaken):
        await session_repository.create_session(stranger, new_session(taken.session_id), text_message("intruder"))

    assert await session_repository.get_session(owner, taken.session_id) == taken
    assert (await session_repository.list_messages(owner, taken.session_id, limit=5)).items == []


async def test_a_message_is_stored_once_even_if_written_twice(session_repository: SessionRepository) -> None:
    user = random_user_id()
    created = await create(session_repository, user)
    message = text_message("only once")
    await session_repository.append_message(user, created.session_id, message)

    # The same write again (a retry whose first answer was lost) succeeds without counting twice...
    await session_repository.append_message(user, created.session_id, message)
    # ...while another message under the same id is refused.
    with pytest.raises(MessageIdTaken):
        await session_repository.append_message(
            user, created.session_id, message.model_copy(update={"content": [{"text": "impostor"}]})
        )

    session = await session_repository.get_session(user, created.session_id)
    assert session is not None
    assert session.message_count == 1
    assert len((await session_repository.list_messages(user, created.session_id, limit=5)).items) == 1


async def test_recent_messages_are_the_newest_in_conversation_order(session_repository: SessionRepository) -> None:
    user = random_user_id()
    created = await create(session_repository, user)
    written = [text_message(f"message {index}") for index in range(7)]
    for message in written:
        await session_repository.append_message(user, created.session_id, message)

    recent = await session_repository.list_recent_messages(user, created.session_id, limit=3)
    everything = await session_repository.list_recent_messages(user, created.session_id, limit=50)

    assert [m.message_id for m in recent] == [m.message_id for m in written[-3:]]
    assert everything == written
    with pytest.raises(SessionNotFound):
        await session_repository.list_recent_messages(random_user_id(), created.session_id, limit=3)


async def test_message_costs_add_up_on_the_session(session_repository: SessionRepository) -> None:
    user = random_user_id()
    created = await create(session_repository, user)
    costs = [0.1, 0.2, 0.000125]
    for cost in costs:
        answer = new_message(MessageRole.ASSISTANT, [{"text": "paid"}], metadata=MessageMetadata(cost=cost))
        await session_repository.append_message(user, created.session_id, answer)
    await session_repository.append_message(user, created.session_id, text_message("free"))

    session = await session_repository.get_session(user, created.session_id)

    assert session is not None
    assert session.total_cost == pytest.approx(sum(costs), abs=1e-12)
    assert session.message_count == 4
