"""Long-term memory in the turn, through HTTP, with the OpenAI fake recording what the model is sent.

What a user states in one conversation is extracted after the turn (by the offline memory model, with no
provider) and recalled into the system prompt of their later conversations, never into another user's; a deleted
record, an opt-out and the deployment's switch each stop it; an extraction by a managed model is metered for the
user, and its failure leaves the turn untouched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from apis.shared.config import StorageSettings
from apis.shared.errors import StorageUnavailableError
from apis.shared.memory import MemoryKind
from tests.fakes.openai_server import FakeOpenAIState
from tests.fakes.scripts import Fail, Text, Usage
from tests.fakes.server import RunningFake
from tests.fixtures.providers import PROVIDER_VARIABLES
from tests.fixtures.services import Services
from tests.helpers import random_session_id, random_user_id
from tests.memory_turns import (
    MODEL,
    chat,
    fact_record,
    memory_settings,
    openai_services,
    records_of,
    storage_of,
    system_prompt_sent,
)

FACT = "My team deploys on Fridays."
QUESTION = "When does my team deploy to production?"
RECALLED = "The user's team deploys on Fridays."


@pytest.fixture
async def services(
    tmp_path: Path, no_provider_environment: None, openai_fake: RunningFake[FakeOpenAIState]
) -> AsyncIterator[Services]:
    """Both services on the local backend, with the OpenAI fake."""
    async with openai_services(tmp_path, openai_fake) as opened:
        yield opened


@pytest.fixture
async def services_on_each_backend(
    tmp_path: Path,
    storage_settings: StorageSettings,
    openai_fake: RunningFake[FakeOpenAIState],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Services]:
    """Both services on SQLite, then on DynamoDB (moto, with its fake AWS credentials), with the OpenAI fake."""
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    async with openai_services(tmp_path, openai_fake, storage=storage_settings) as opened:
        yield opened


def answers(fake: RunningFake[FakeOpenAIState], count: int) -> None:
    for _ in range(count):
        fake.state.script.add(Text("Noted."), Usage(40, 5))


async def test_a_fact_stated_in_one_conversation_is_recalled_in_the_next_and_never_for_another_user(
    services_on_each_backend: Services, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    services = services_on_each_backend
    ada, bob = random_user_id(), random_user_id()
    answers(openai_fake, 3)

    await chat(services, ada, random_session_id(), FACT)
    listed = (await services.app.get("/memory", params={"topK": 20}, headers=services.auth(ada))).json()
    await chat(services, ada, random_session_id(), QUESTION)
    await chat(services, bob, random_session_id(), QUESTION)

    assert [m["content"] for m in listed["facts"]["memories"]] == [RECALLED]
    assert listed["preferences"]["memories"] == []
    first, ada_later, bob_later = (call.body for call in openai_fake.state.chat_calls)
    assert RECALLED not in system_prompt_sent(first), "nothing was known before it was said"
    assert RECALLED in system_prompt_sent(ada_later)
    assert "<user_memory>" not in system_prompt_sent(bob_later)
    bobs = (await services.app.get("/memory", headers=services.auth(bob))).json()
    assert bobs["facts"]["memories"] == []


async def test_a_deleted_record_is_not_recalled_by_later_turns(
    services: Services, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    ada = random_user_id()
    answers(openai_fake, 3)
    await chat(services, ada, random_session_id(), FACT)
    [record] = await records_of(services, ada)
    await chat(services, ada, random_session_id(), QUESTION)

    deleted = await services.app.delete(f"/memory/{record.record_id}", headers=services.auth(ada))
    assert deleted.status_code == 200, deleted.text
    await chat(services, ada, random_session_id(), QUESTION)

    recalled, after_delete = (call.body for call in openai_fake.state.chat_calls[1:])
    assert RECALLED in system_prompt_sent(recalled)
    assert RECALLED not in system_prompt_sent(after_delete)


async def test_a_newer_statement_on_the_same_subject_replaces_the_older(
    services: Services, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    ada, session_id = random_user_id(), random_session_id()
    answers(openai_fake, 3)
    await chat(services, ada, session_id, FACT)
    await chat(services, ada, session_id, "Also, my team deploys on Tuesdays now.")

    await chat(services, ada, random_session_id(), QUESTION)

    [record] = await records_of(services, ada)
    assert record.content == "The user's team deploys on Tuesdays now."
    later = system_prompt_sent(openai_fake.state.chat_calls[-1].body)
    assert "Tuesdays" in later
    assert "Fridays" not in later


async def test_recall_keeps_to_the_score_floors(services: Services, openai_fake: RunningFake[FakeOpenAIState]) -> None:
    ada = random_user_id()
    answers(openai_fake, 2)
    statements = "I prefer short answers about deploys. My team deploys on Fridays. My deploy tool is Argo."
    await chat(services, ada, random_session_id(), statements)

    await chat(services, ada, random_session_id(), "Plan our deploy for this week: short answers please.")

    assert len(await records_of(services, ada)) == 3
    prompt = system_prompt_sent(openai_fake.state.chat_calls[-1].body)
    assert "Preferences:\n- The user prefers short answers about deploys." in prompt
    assert "Facts:" not in prompt, "facts sharing only 'deploy' with the message score under the facts' floor"


async def test_recall_keeps_to_its_token_budget_best_and_newest_first(
    tmp_path: Path, no_provider_environment: None, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    async with openai_services(tmp_path, openai_fake, memory=memory_settings(memory_recall_max_tokens=60)) as services:
        ada = random_user_id()
        facts = [f"The user's Falcon project has rule number {n}." for n in range(5)]
        for content in facts:
            await storage_of(services).memories.add(fact_record(ada, content, subject=content))
        answers(openai_fake, 1)

        await chat(services, ada, random_session_id(), "Falcon project")

    prompt = system_prompt_sent(openai_fake.state.chat_calls[-1].body)
    section = prompt[prompt.index("<user_memory>") : prompt.index("</user_memory>") + len("</user_memory>")]
    assert len(section) <= 60 * 4
    assert [line[2:] for line in section.splitlines() if line.startswith("- ")] == [facts[4], facts[3]]


async def test_the_session_summary_is_kept_per_session(
    services: Services, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    ada, session_id = random_user_id(), random_session_id()
    answers(openai_fake, 2)
    await chat(services, ada, session_id, "Let us plan the Lisbon offsite.")
    await chat(services, ada, session_id, "It should be in May.")

    [summary] = await storage_of(services).memories.list_records(
        ada, [MemoryKind.SUMMARY], limit=10, session_id=session_id
    )
    assert summary.source_session_id == session_id
    assert "Lisbon offsite" in summary.content
    assert "in May" in summary.content
    messages = await storage_of(services).sessions.list_recent_messages(ada, session_id, limit=10)
    assert summary.metadata["throughMessageId"] == messages[-1].message_id


async def test_an_opted_out_user_is_neither_recalled_nor_remembered(
    services: Services, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    ada = random_user_id()
    answers(openai_fake, 3)
    await chat(services, ada, random_session_id(), FACT)
    switched = await services.app.put("/memory/settings", json={"enabled": False}, headers=services.auth(ada))
    assert switched.status_code == 200, switched.text

    await chat(services, ada, random_session_id(), "My manager is Grace. " + QUESTION)

    assert RECALLED not in system_prompt_sent(openai_fake.state.chat_calls[-1].body)
    assert [record.content for record in await records_of(services, ada)] == [RECALLED]
    await services.app.put("/memory/settings", json={"enabled": True}, headers=services.auth(ada))
    await chat(services, ada, random_session_id(), QUESTION)
    assert RECALLED in system_prompt_sent(openai_fake.state.chat_calls[-1].body)


async def test_memory_switched_off_for_the_deployment_neither_recalls_nor_remembers(
    tmp_path: Path, no_provider_environment: None, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    async with openai_services(tmp_path, openai_fake, memory=memory_settings(memory_enabled=False)) as services:
        ada = random_user_id()
        answers(openai_fake, 2)
        await chat(services, ada, random_session_id(), FACT)
        memories = storage_of(services).memories
        await memories.add(fact_record(ada, RECALLED, subject="team deploys"))
        reads = _counting(memories, "list_records", "opted_out")

        await chat(services, ada, random_session_id(), QUESTION)

        assert reads == [], "a deployment without memory reads nothing of it"

        assert "<user_memory>" not in system_prompt_sent(openai_fake.state.chat_calls[-1].body)
        kinds = [MemoryKind.PREFERENCE, MemoryKind.FACT, MemoryKind.SUMMARY]
        assert [r.content for r in await memories.list_records(ada, kinds, limit=10)] == [RECALLED]


async def test_a_managed_memory_model_extracts_and_is_metered_for_the_user(
    tmp_path: Path, no_provider_environment: None, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    async with openai_services(tmp_path, openai_fake, memory=memory_settings(memory_model_id=MODEL)) as services:
        ada = random_user_id()
        extracted = (
            '```json\n[{"kind": "fact", "subject": "deploy day", "content": "The user\'s team ships on Fridays."},'
            ' {"kind": "summary", "subject": "conversation", "content": "The user said when their team deploys."}]\n```'
        )
        openai_fake.state.script.add(Text("Noted."), Usage(40, 5)).add(Text(extracted), Usage(300, 60))

        await chat(services, ada, random_session_id(), FACT)

        [record] = await records_of(services, ada)
        summary = await services.app.get("/costs/summary", headers=services.auth(ada))
    assert record.content == "The user's team ships on Fridays."
    assert record.subject == "deploy day"
    extraction_call = openai_fake.state.chat_calls[1].body
    assert "Task: memory extraction." in system_prompt_sent(extraction_call)
    assert FACT in str(extraction_call["messages"])
    expected = ((40 + 300) * 3.0 + (5 + 60) * 15.0) / 1_000_000
    assert summary.json()["totalCost"] == pytest.approx(expected), "the extraction call is the user's cost too"


async def test_a_failed_extraction_leaves_the_turn_untouched_and_is_counted(
    tmp_path: Path, no_provider_environment: None, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    failures = _suppressed("memory.extraction")
    async with openai_services(tmp_path, openai_fake, memory=memory_settings(memory_model_id=MODEL)) as services:
        ada, session_id = random_user_id(), random_session_id()
        openai_fake.state.script.add(Text("Noted."), Usage(40, 5)).add(Fail(status=500))

        events = await chat(services, ada, session_id, FACT)

        stored = await storage_of(services).sessions.list_recent_messages(ada, session_id, limit=10)
        kinds = [MemoryKind.PREFERENCE, MemoryKind.FACT, MemoryKind.SUMMARY]
        assert await storage_of(services).memories.list_records(ada, kinds, limit=10) == []
    assert "".join(str(data.get("text", "")) for name, data in events if name == "content_block_delta") == "Noted."
    assert [(m.role.value, m.status.value) for m in stored] == [("user", "complete"), ("assistant", "complete")]
    assert _suppressed("memory.extraction") == failures + 1


def _counting(target: object, *names: str) -> list[str]:
    """The calls made to `names` of `target` from now on, in order."""
    calls: list[str] = []
    for name in names:
        original = getattr(target, name)

        async def counted(*args: object, __name: str = name, __original: Any = original, **kwargs: object) -> Any:
            calls.append(__name)
            return await __original(*args, **kwargs)

        setattr(target, name, counted)
    return calls


def _suppressed(where: str) -> float:
    return REGISTRY.get_sample_value("colloquy_suppressed_errors_total", {"where": where}) or 0.0


async def test_a_storage_failure_of_recall_is_a_503_before_anything_streams(
    services: Services, openai_fake: RunningFake[FakeOpenAIState], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(*args: object, **kwargs: object) -> list[object]:
        raise StorageUnavailableError("the memory store is busy")

    monkeypatch.setattr(storage_of(services).memories, "list_records", unavailable)
    response = await services.inference.post(
        "/invocations",
        json={"session_id": random_session_id(), "message": QUESTION, "model_id": MODEL},
        headers=services.auth(random_user_id()),
    )

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"]
    assert openai_fake.state.chat_calls == [], "the model is not called"
