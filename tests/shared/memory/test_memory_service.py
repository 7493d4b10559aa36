"""The memory service over the in-memory fake: remember merges and replaces, search scores and filters, delete and
the switches answer for the owner only."""

from __future__ import annotations

from typing import Any

import pytest

from apis.shared.config import MemorySettings
from apis.shared.errors import RuleViolation
from apis.shared.memory import MemoryKind, MemoryNotFound, MemoryRecord
from apis.shared.memory import service as memory_service
from apis.shared.memory.models import MAX_CONTENT_CHARS
from apis.shared.storage.memory.memories import InMemoryMemoryRepository
from tests.helpers import random_session_id, random_user_id


def settings(**overrides: Any) -> MemorySettings:
    """The defaults with `overrides`, never the environment's."""
    return MemorySettings.model_construct(**overrides)


async def remember(
    memories: InMemoryMemoryRepository,
    user_id: str,
    content: str,
    *,
    kind: MemoryKind = MemoryKind.FACT,
    subject: str | None = None,
    session_id: str | None = None,
    memory_settings: MemorySettings | None = None,
) -> MemoryRecord:
    return await memory_service.remember(
        memories,
        user_id=user_id,
        kind=kind,
        content=content,
        subject=subject,
        source_session_id=session_id,
        settings=memory_settings or settings(),
    )


async def contents(memories: InMemoryMemoryRepository, user_id: str, *kinds: MemoryKind) -> list[str]:
    listed = await memory_service.list_memories(memories, user_id=user_id, kinds=kinds or list(MemoryKind), limit=100)
    return [record.content for record in listed]


async def test_remember_stores_a_new_fact_with_its_session_and_times() -> None:
    memories, user, session = InMemoryMemoryRepository(), random_user_id(), random_session_id()

    stored = await remember(memories, user, "  My team deploys on Fridays  ", subject="Deploy day", session_id=session)

    assert stored.content == "My team deploys on Fridays"
    assert stored.subject == "Deploy day"
    assert stored.kind is MemoryKind.FACT
    assert stored.source_session_id == session
    assert stored.created_at == stored.updated_at
    assert await memories.get(user, stored.record_id) == stored


async def test_the_same_content_again_is_kept_once() -> None:
    memories, user = InMemoryMemoryRepository(), random_user_id()
    first = await remember(memories, user, "My team deploys on Fridays.")

    again = await remember(memories, user, "my team   deploys on fridays", subject="deploy day")

    assert again == first
    assert await contents(memories, user) == ["My team deploys on Fridays."]


async def test_the_same_content_of_another_kind_is_another_memory() -> None:
    memories, user = InMemoryMemoryRepository(), random_user_id()
    await remember(memories, user, "Prefers answers in French", kind=MemoryKind.PREFERENCE)

    await remember(memories, user, "Prefers answers in French", kind=MemoryKind.FACT)

    assert len(await contents(memories, user)) == 2


async def test_a_newer_record_on_the_same_subject_replaces_the_older() -> None:
    memories, user = InMemoryMemoryRepository(), random_user_id()
    old = await remember(memories, user, "My team deploys on Fridays", subject="deploy day")
    await remember(memories, user, "I drink tea", subject="drink")

    new = await remember(memories, user, "We moved deploys to Tuesdays", subject="  Deploy   DAY ")

    assert await memories.get(user, old.record_id) is None
    assert new.subject == "Deploy   DAY"
    assert await contents(memories, user) == ["We moved deploys to Tuesdays", "I drink tea"]


async def test_a_session_summary_replaces_that_sessions_older_summary_only() -> None:
    memories, user = InMemoryMemoryRepository(), random_user_id()
    first_session, second_session = random_session_id(), random_session_id()
    await remember(memories, user, "Talked about deploys", kind=MemoryKind.SUMMARY, session_id=first_session)
    await remember(memories, user, "Talked about lunch", kind=MemoryKind.SUMMARY, session_id=second_session)

    await remember(memories, user, "Talked about deploys and tests", kind=MemoryKind.SUMMARY, session_id=first_session)
    await remember(memories, user, "Talked about lunch", kind=MemoryKind.SUMMARY, session_id=first_session)

    of_first = await memory_service.list_memories(
        memories, user_id=user, kinds=[MemoryKind.SUMMARY], limit=10, session_id=first_session
    )
    assert [record.content for record in of_first] == ["Talked about lunch"]
    assert await contents(memories, user) == ["Talked about lunch", "Talked about lunch"]


async def test_facts_without_a_subject_accumulate_up_to_the_cap() -> None:
    memories, user = InMemoryMemoryRepository(), random_user_id()
    capped = settings(memory_max_records_per_user=10)

    for n in range(12):
        await remember(memories, user, f"fact number {n}", memory_settings=capped)

    assert await contents(memories, user) == [f"fact number {n}" for n in range(11, 1, -1)]


async def test_remember_cuts_long_content_and_refuses_empty_content() -> None:
    memories, user = InMemoryMemoryRepository(), random_user_id()

    long = await remember(memories, user, "word " * 1000, subject="s" * 500)
    assert len(long.content) <= MAX_CONTENT_CHARS
    assert long.subject is not None
    assert len(long.subject) == 200
    with pytest.raises(RuleViolation):
        await remember(memories, user, "   \n ")


async def test_remember_keeps_users_apart() -> None:
    memories, alice, bob = InMemoryMemoryRepository(), random_user_id(), random_user_id()
    await remember(memories, alice, "My team deploys on Fridays", subject="deploy day")

    await remember(memories, bob, "My team deploys on Mondays", subject="deploy day")
    await remember(memories, bob, "My team deploys on Fridays")

    assert await contents(memories, alice) == ["My team deploys on Fridays"]
    assert await contents(memories, bob) == ["My team deploys on Fridays", "My team deploys on Mondays"]


async def test_search_ranks_the_users_records_by_relevance_and_drops_the_unrelated() -> None:
    memories, user = InMemoryMemoryRepository(), random_user_id()
    await remember(memories, user, "My team deploys on Fridays")
    await remember(memories, user, "I am allergic to peanuts")
    await remember(memories, user, "The team uses PostgreSQL for the billing service")
    await remember(memories, random_user_id(), "Their team deploys on Fridays too")

    found = await memory_service.search(
        memories, user_id=user, kinds=[MemoryKind.FACT], query="When does the team deploy?", top_k=5
    )

    assert [item.record.content for item in found] == [
        "My team deploys on Fridays",
        "The team uses PostgreSQL for the billing service",
    ]
    assert found[0].score == 1.0
    assert 0 < found[1].score < 1


async def test_search_keeps_top_k_min_score_and_kinds() -> None:
    memories, user = InMemoryMemoryRepository(), random_user_id()
    await remember(memories, user, "Prefers answers about deploys in French", kind=MemoryKind.PREFERENCE)
    await remember(memories, user, "My team deploys on Fridays")
    await remember(memories, user, "Deploys need two reviewers and a long checklist of many steps")

    facts = await memory_service.search(memories, user_id=user, kinds=[MemoryKind.FACT], query="deploys", top_k=1)
    strict = await memory_service.search(
        memories, user_id=user, kinds=list(MemoryKind), query="team deploys", top_k=10, min_score=0.9
    )
    none = await memory_service.search(memories, user_id=user, kinds=[MemoryKind.FACT], query="deploys", top_k=0)

    assert len(facts) == 1
    assert facts[0].record.kind is MemoryKind.FACT
    assert [item.record.content for item in strict] == ["My team deploys on Fridays"]
    assert none == []


async def test_a_query_of_stop_words_only_matches_nothing() -> None:
    memories, user = InMemoryMemoryRepository(), random_user_id()
    await remember(memories, user, "My team deploys on Fridays")

    found = await memory_service.search(memories, user_id=user, kinds=[MemoryKind.FACT], query="what is the", top_k=5)

    assert found == []


async def test_delete_own_forgets_the_record_and_another_users_id_is_not_found() -> None:
    memories, alice, bob = InMemoryMemoryRepository(), random_user_id(), random_user_id()
    record = await remember(memories, alice, "My team deploys on Fridays")

    with pytest.raises(MemoryNotFound) as refused:
        await memory_service.delete_own(memories, user_id=bob, record_id=record.record_id)
    assert refused.value.code == "memory_not_found"
    assert refused.value.status_code == 404
    await memory_service.delete_own(memories, user_id=alice, record_id=record.record_id)

    with pytest.raises(MemoryNotFound):
        await memory_service.delete_own(memories, user_id=alice, record_id=record.record_id)
    with pytest.raises(MemoryNotFound):
        await memory_service.get_or_raise(memories, user_id=alice, record_id=record.record_id)


async def test_memory_is_on_for_a_user_unless_the_deployment_or_the_user_turned_it_off() -> None:
    memories, user = InMemoryMemoryRepository(), random_user_id()
    on, off = settings(), settings(memory_enabled=False)

    assert await memory_service.enabled_for(memories, user_id=user, settings=on) is True
    assert await memory_service.enabled_for(memories, user_id=user, settings=off) is False

    assert await memory_service.set_enabled_for(memories, user_id=user, enabled=False) is False
    assert await memory_service.enabled_for(memories, user_id=user, settings=on) is False
    assert await memory_service.enabled_for(memories, user_id=random_user_id(), settings=on) is True

    await memory_service.set_enabled_for(memories, user_id=user, enabled=True)
    assert await memory_service.enabled_for(memories, user_id=user, settings=on) is True
