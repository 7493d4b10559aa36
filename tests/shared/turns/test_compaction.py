"""Compaction of a turn's history over the dict-backed repositories and the offline memory model: what is kept,
when the session's summary is folded forward (and when it is not), and what it reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from apis.shared.config import InferenceSettings, Settings
from apis.shared.errors import StorageUnavailableError
from apis.shared.memory import MemoryKind
from apis.shared.models import ManagedModel
from apis.shared.sessions import Message, MessageRole, SessionMetadata
from apis.shared.sessions import messages as messages_service
from apis.shared.sessions.metadata import new_session
from apis.shared.storage.memory.costs import InMemoryCostRepository
from apis.shared.storage.memory.memories import InMemoryMemoryRepository
from apis.shared.storage.memory.models import InMemoryModelRepository
from apis.shared.storage.memory.sessions import InMemorySessionRepository
from apis.shared.turns.compaction import (
    MESSAGE_OVERHEAD_TOKENS,
    HistoryCompactor,
    history_budget,
    message_tokens,
    tail_start,
)
from apis.shared.turns.memory_summaries import THROUGH
from tests.fixtures.services import service_settings
from tests.helpers import local_storage_settings

USER, SESSION = "ada", "s-1"


def _text(role: MessageRole, text: str) -> Message:
    return messages_service.new_message(role, [{"text": text}])


def _tool_turn(index: int) -> list[Message]:
    use = {"toolUse": {"toolUseId": f"t{index}", "name": "calculator", "input": {"expression": "1+1"}}}
    result = {"toolResult": {"toolUseId": f"t{index}", "status": "success", "content": [{"text": "2"}]}}
    return [
        _text(MessageRole.USER, f"question {index} " + "words " * 20),
        messages_service.new_message(MessageRole.ASSISTANT, [use]),
        messages_service.new_message(MessageRole.USER, [result]),
        _text(MessageRole.ASSISTANT, f"answer {index} " + "words " * 20),
    ]


def _conversation(turns: int) -> list[Message]:
    return [message for index in range(turns) for message in _tool_turn(index)]


class Counting(InMemoryMemoryRepository):
    """The fake, counting the reads a turn makes."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def list_records(self, *args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
        self.reads += 1
        return await super().list_records(*args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    base = service_settings(local_storage_settings(tmp_path))
    return base.model_copy(update={"inference": InferenceSettings(history_max_messages=40)})


async def _stored(sessions: InMemorySessionRepository, messages: list[Message]) -> SessionMetadata:
    session = await sessions.create_session(USER, new_session(SESSION, created_at=messages[0].created_at), messages[0])
    for message in messages[1:]:
        session = await sessions.append_message(USER, SESSION, message)
    return session


def _compactor(
    settings: Settings, sessions: InMemorySessionRepository, memories: InMemoryMemoryRepository, budget: int | None
) -> HistoryCompactor:
    return HistoryCompactor(
        memories=memories,
        costs=InMemoryCostRepository(),
        sessions=sessions,
        models=InMemoryModelRepository(),
        settings=settings,
        user_id=USER,
        session_id=SESSION,
        budget=budget,
    )


def test_a_tail_begins_only_where_a_turn_begins() -> None:
    messages = _conversation(6)
    sizes = [message_tokens(message) for message in messages]

    for budget in range(0, sum(sizes) + 1, 7):
        start = tail_start(messages, sizes, budget)
        assert start == len(messages) or (start % 4 == 0 and sum(sizes[start:]) <= budget)


def test_the_budget_is_the_input_limit_less_the_answer_the_prompt_and_a_margin() -> None:
    model = ManagedModel(
        id="m", model_id="m", model_name="m", provider="openai", max_input_tokens=10_000, max_output_tokens=1_000,
        created_at="2026-01-01T00:00:00Z", updated_at="2026-01-01T00:00:00Z",
    )  # fmt: skip
    prompt = [{"text": "x" * 400}]

    budget = history_budget(model=model, max_tokens=None, system_prompt="y" * 800, prompt=prompt, tools=[])
    smaller = history_budget(model=model, max_tokens=3_000, system_prompt="y" * 800, prompt=prompt, tools=[])
    unlimited = history_budget(model=model.model_copy(update={"max_input_tokens": None}), max_tokens=None,
                               system_prompt="", prompt=prompt, tools=[])  # fmt: skip

    assert budget == 10_000 - 1_000 - 1_000 - 200 - 100 - MESSAGE_OVERHEAD_TOKENS
    assert smaller == budget - 2_000
    assert unlimited is None


async def test_a_conversation_that_fits_is_kept_whole_without_reading_memory(settings: Settings) -> None:
    sessions, memories = InMemorySessionRepository(), Counting()
    messages = _conversation(3)
    session = await _stored(sessions, messages)
    compactor = _compactor(settings, sessions, memories, budget=10_000)

    kept = await compactor.compact(messages, session)

    assert kept == messages
    assert compactor.summary is None
    assert memories.reads == 0


async def test_an_overlong_conversation_is_folded_once_then_its_summary_reused(settings: Settings) -> None:
    sessions, memories = InMemorySessionRepository(), Counting()
    messages = _conversation(8)
    session = await _stored(sessions, messages)
    budget = sum(message_tokens(m) for m in messages) // 2 + 600

    first = _compactor(settings, sessions, memories, budget)
    kept = await first.compact(messages, session)
    [summary] = await memories.list_records(USER, [MemoryKind.SUMMARY], limit=5, session_id=SESSION)
    later_turn = [*messages, *_tool_turn(8)]
    second = _compactor(settings, sessions, memories, budget)
    kept_later = await second.compact(later_turn, session.model_copy(update={"message_count": len(later_turn)}))
    [unchanged] = await memories.list_records(USER, [MemoryKind.SUMMARY], limit=5, session_id=SESSION)

    assert kept[0].role is MessageRole.USER
    assert kept == messages[len(messages) - len(kept) :]
    assert summary.metadata[THROUGH] == messages[len(messages) - len(kept) - 1].message_id
    assert "question 0" in (first.summary or "")
    left_out = later_turn[: later_turn.index(kept_later[0])]
    assert all(m.message_id <= summary.metadata[THROUGH] for m in left_out), "only what the summary covers"
    assert unchanged == summary, "the next turn did not fold again"
    assert second.summary == first.summary


async def test_a_conversation_longer_than_the_window_is_summarised_from_its_beginning(settings: Settings) -> None:
    sessions, memories = InMemorySessionRepository(), InMemoryMemoryRepository()
    messages = _conversation(30)  # 120 messages; the window holds 40
    session = await _stored(sessions, messages)
    window = messages[-40:]

    compactor = _compactor(settings, sessions, memories, budget=None)
    kept = await compactor.compact(window, session)

    assert len(kept) <= 20
    assert "question 0" in (compactor.summary or ""), "read back past the window to the conversation's start"


async def test_a_storage_failure_while_compacting_is_raised(settings: Settings) -> None:
    sessions, memories = InMemorySessionRepository(), InMemoryMemoryRepository()
    messages = _conversation(8)
    session = await _stored(sessions, messages)

    async def unavailable(*args: object, **kwargs: object) -> list[object]:
        raise StorageUnavailableError("busy")

    memories.list_records = unavailable  # type: ignore[method-assign, assignment]
    with pytest.raises(StorageUnavailableError):
        await _compactor(settings, sessions, memories, budget=100).compact(messages, session)
