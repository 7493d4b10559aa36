"""What every MemoryRepository must do, on every backend: owner-only access, newest first, atomic replace, and the
cap on records per kind kept exactly, even under concurrent writers."""

from __future__ import annotations

import asyncio

from apis.shared.clock import new_id, now_iso
from apis.shared.memory import MemoryKind, MemoryRecord, MemoryRepository
from tests.helpers import random_session_id, random_user_id


def record(
    user_id: str,
    kind: MemoryKind = MemoryKind.FACT,
    content: str = "the team deploys on Fridays",
    *,
    subject: str | None = None,
    session_id: str | None = None,
) -> MemoryRecord:
    moment = now_iso()
    return MemoryRecord(
        record_id=new_id(),
        user_id=user_id,
        kind=kind,
        content=content,
        subject=subject,
        source_session_id=session_id,
        created_at=moment,
        updated_at=moment,
        metadata={"extractedBy": "test", "confidence": 0.5},
    )


async def all_of(memories: MemoryRepository, user_id: str, *kinds: MemoryKind) -> list[MemoryRecord]:
    return await memories.list_records(user_id, kinds or tuple(MemoryKind), limit=1000)


def same_but_id(stored: MemoryRecord, given: MemoryRecord) -> bool:
    """Stored as given, but perhaps under an id of the backend's own (AgentCore Memory assigns them)."""
    return stored.model_copy(update={"record_id": given.record_id}) == given


async def add_all(memories: MemoryRepository, *records: MemoryRecord, max_per_kind: int = 1000) -> list[MemoryRecord]:
    return [await memories.add(each, max_per_kind=max_per_kind) for each in records]


async def test_an_added_record_reads_back_as_it_was_given(memories: MemoryRepository) -> None:
    user = random_user_id()
    added = record(user, subject="deploy day: Fridays, not Mondays (é)", session_id=random_session_id())

    stored = await memories.add(added)

    assert same_but_id(stored, added)
    assert await memories.get(user, stored.record_id) == stored
    assert await all_of(memories, user) == [stored]


async def test_nothing_stored_reads_as_none_and_empty(memories: MemoryRepository) -> None:
    user = random_user_id()

    assert await memories.get(user, new_id()) is None
    assert await all_of(memories, user) == []
    assert await memories.list_records(user, [], limit=10) == []
    assert await memories.delete(user, new_id()) is False


async def test_another_users_record_is_no_record_at_all(memories: MemoryRepository) -> None:
    owner, other = random_user_id(), random_user_id()
    (mine,) = await add_all(memories, record(owner))

    assert await memories.get(other, mine.record_id) is None
    assert await all_of(memories, other) == []
    assert await memories.delete(other, mine.record_id) is False
    assert await memories.replace(other, mine.record_id, record(other, content="stolen")) is None
    assert await all_of(memories, other) == []
    assert await memories.get(owner, mine.record_id) == mine


async def test_records_list_newest_first_by_kind_session_and_limit(memories: MemoryRepository) -> None:
    user, session = random_user_id(), random_session_id()
    fact, preference, summary, other_summary, newer_fact = await add_all(
        memories,
        record(user, MemoryKind.FACT, "fact one"),
        record(user, MemoryKind.PREFERENCE, "prefers short answers"),
        record(user, MemoryKind.SUMMARY, "we talked about deploys", session_id=session),
        record(user, MemoryKind.SUMMARY, "we talked about lunch", session_id=random_session_id()),
        record(user, MemoryKind.FACT, "fact two", session_id=session),
    )

    assert await all_of(memories, user) == [newer_fact, other_summary, summary, preference, fact]
    assert await all_of(memories, user, MemoryKind.FACT) == [newer_fact, fact]
    assert await all_of(memories, user, MemoryKind.PREFERENCE, MemoryKind.FACT) == [newer_fact, preference, fact]
    assert await memories.list_records(user, [MemoryKind.SUMMARY], limit=10, session_id=session) == [summary]
    assert await memories.list_records(user, list(MemoryKind), limit=10, session_id=session) == [newer_fact, summary]
    assert await memories.list_records(user, list(MemoryKind), limit=2) == [newer_fact, other_summary]
    assert await memories.list_records(user, list(MemoryKind), limit=0) == []


async def test_replace_swaps_the_old_record_for_the_new_one(memories: MemoryRepository) -> None:
    user = random_user_id()
    (old,) = await add_all(memories, record(user, content="deploys on Fridays", subject="deploy day"))
    new = record(user, content="deploys on Tuesdays", subject="deploy day")

    stored = await memories.replace(user, old.record_id, new)

    assert stored is not None
    assert same_but_id(stored, new)
    assert await memories.get(user, old.record_id) is None
    assert await all_of(memories, user) == [stored]


async def test_replace_of_a_record_that_is_gone_writes_nothing(memories: MemoryRepository) -> None:
    user = random_user_id()
    (old,) = await add_all(memories, record(user))
    await memories.delete(user, old.record_id)

    assert await memories.replace(user, old.record_id, record(user, content="newer")) is None

    assert await all_of(memories, user) == []


async def test_concurrent_replaces_of_one_record_let_exactly_one_win(memories: MemoryRepository) -> None:
    user = random_user_id()
    (old,) = await add_all(memories, record(user))
    candidates = [record(user, content=f"version {n}") for n in range(5)]

    outcomes = await asyncio.gather(*(memories.replace(user, old.record_id, each) for each in candidates))

    winners = [stored for stored in outcomes if stored is not None]
    assert len(winners) == 1
    assert await all_of(memories, user) == winners


async def test_a_delete_removes_one_record_once(memories: MemoryRepository) -> None:
    user = random_user_id()
    kept, gone = await add_all(memories, record(user, content="kept"), record(user, content="gone"))

    assert await memories.delete(user, gone.record_id) is True
    assert await memories.delete(user, gone.record_id) is False

    assert await all_of(memories, user) == [kept]


async def test_ids_with_separators_name_only_themselves(memories: MemoryRepository) -> None:
    user = f"{random_user_id()}#fact#x/../é"
    (added,) = await add_all(memories, record(user, session_id="s:1.2"))

    assert await memories.get(user, f"{added.record_id}#") is None
    assert await memories.get(user.split("#", 1)[0], added.record_id) is None
    assert await memories.delete(user, "fact#" + added.record_id) is False
    assert await memories.get(user, added.record_id) == added
    assert added.user_id == user
    assert added.source_session_id == "s:1.2"


async def test_past_the_cap_the_oldest_of_that_kind_goes(memories: MemoryRepository) -> None:
    user = random_user_id()
    (preference,) = await add_all(memories, record(user, MemoryKind.PREFERENCE, "prefers tea"), max_per_kind=3)
    facts = await add_all(memories, *(record(user, content=f"fact {n}") for n in range(4)), max_per_kind=3)

    assert await all_of(memories, user, MemoryKind.FACT) == facts[:0:-1]
    assert await all_of(memories, user, MemoryKind.PREFERENCE) == [preference]


async def test_the_cap_counts_what_deletes_and_replaces_left(memories: MemoryRepository) -> None:
    user = random_user_id()
    first, second, third = await add_all(
        memories, *(record(user, content=f"fact {n}") for n in range(3)), max_per_kind=3
    )
    await memories.delete(user, second.record_id)
    replacement = await memories.replace(user, third.record_id, record(user, content="fact 3"))

    (fourth,) = await add_all(memories, record(user, content="fact 4"), max_per_kind=3)  # three again: nothing goes
    assert await all_of(memories, user) == [fourth, replacement, first]

    (fifth,) = await add_all(memories, record(user, content="fact 5"), max_per_kind=3)
    assert await all_of(memories, user) == [fifth, fourth, replacement]


async def test_a_lowered_cap_trims_the_excess(memories: MemoryRepository) -> None:
    user = random_user_id()
    facts = await add_all(memories, *(record(user, content=f"fact {n}") for n in range(5)), max_per_kind=10)

    (last,) = await add_all(memories, record(user, content="fact 5"), max_per_kind=2)

    assert await all_of(memories, user) == [last, facts[4]]


async def test_concurrent_adds_past_the_cap_keep_exactly_the_cap(memories: MemoryRepository) -> None:
    user = random_user_id()
    await add_all(memories, *(record(user, content=f"early {n}") for n in range(3)), max_per_kind=4)
    late = [record(user, content=f"late {n}") for n in range(6)]

    await asyncio.gather(*(memories.add(each, max_per_kind=4) for each in late))

    remaining = await all_of(memories, user)
    assert len(remaining) == 4
    assert {each.content for each in remaining} <= {each.content for each in late}


async def test_the_opt_out_is_per_user_and_can_be_undone(memories: MemoryRepository) -> None:
    user, other = random_user_id(), random_user_id()
    assert await memories.opted_out(user) is False

    await memories.set_opted_out(user, True)
    await memories.set_opted_out(user, True)
    assert await memories.opted_out(user) is True
    assert await memories.opted_out(other) is False

    await memories.set_opted_out(user, False)
    assert await memories.opted_out(user) is False
