"""Recall's cost and its section, and how the memory model's answer is read."""

from __future__ import annotations

import pytest

from apis.shared.config import MemorySettings
from apis.shared.errors import ProviderError
from apis.shared.memory import MemoryKind
from apis.shared.storage.memory.memories import InMemoryMemoryRepository
from apis.shared.turns.memory_model import MemoryItem, parse_items
from apis.shared.turns.memory_recall import recall_section, recalled
from tests.memory_turns import fact_record, memory_settings


class Counting(InMemoryMemoryRepository):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    async def list_records(self, *args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
        self.calls.append("list_records")
        return await super().list_records(*args, **kwargs)  # type: ignore[arg-type]

    async def opted_out(self, user_id: str) -> bool:
        self.calls.append("opted_out")
        return await super().opted_out(user_id)


def _settings(**changes: object) -> MemorySettings:
    return memory_settings(**changes)


async def test_recall_for_a_user_with_no_records_is_one_read() -> None:
    memories = Counting()

    assert await recalled(memories, user_id="ada", message="When do we deploy?", settings=_settings()) == []
    assert memories.calls == ["list_records"]


async def test_recall_with_memory_switched_off_reads_nothing() -> None:
    memories = Counting()
    await memories.add(fact_record("ada", "The user's team deploys on Fridays.", subject="team deploys"))

    found = await recalled(memories, user_id="ada", message="deploys", settings=_settings(memory_enabled=False))

    assert found == []
    assert memories.calls == []


async def test_an_opted_out_user_is_recalled_nothing() -> None:
    memories = Counting()
    await memories.add(fact_record("ada", "The user's team deploys on Fridays.", subject="team deploys"))
    await memories.set_opted_out("ada", True)

    assert await recalled(memories, user_id="ada", message="team deploys", settings=_settings()) == []
    assert memories.calls == ["list_records", "opted_out"]


async def test_recall_is_only_ever_of_the_callers_records() -> None:
    memories = InMemoryMemoryRepository()
    await memories.add(fact_record("bob", "The user's team deploys on Fridays.", subject="team deploys"))

    assert await recalled(memories, user_id="ada", message="team deploys", settings=_settings()) == []


async def test_the_section_fits_its_budget_and_is_empty_when_nothing_fits() -> None:
    memories = InMemoryMemoryRepository()
    await memories.add(fact_record("ada", "The user's team deploys on Fridays.", subject="team deploys"))
    found = await recalled(memories, user_id="ada", message="team deploys", settings=_settings())

    assert recall_section(found, max_tokens=10) == ""
    section = recall_section(found, max_tokens=100)
    assert section.strip().endswith("Facts:\n- The user's team deploys on Fridays.\n</user_memory>")
    assert len(section.strip()) <= 400


def test_the_answer_may_come_in_a_code_fence_and_bad_items_are_left_out() -> None:
    text = (
        "Here you go:\n```json\n"
        '[{"kind": "fact", "subject": " deploy day ", "content": "The team deploys on Fridays."},'
        ' {"kind": "mood", "content": "happy"}, {"kind": "fact", "content": "  "}, "text",'
        ' {"kind": "summary", "content": "They talked about deploys."}]\n```'
    )

    assert parse_items(text) == [
        MemoryItem(MemoryKind.FACT, "deploy day", "The team deploys on Fridays."),
        MemoryItem(MemoryKind.SUMMARY, None, "They talked about deploys."),
    ]


@pytest.mark.parametrize("text", ["I found nothing.", "[not json", '{"kind": "fact"}', ""])
def test_an_answer_without_a_json_array_is_a_provider_error(text: str) -> None:
    with pytest.raises(ProviderError):
        parse_items(text)
