"""What memory adds to a turn before it runs: the user's recalled memories in its system prompt, and what keeps a
long conversation's history within the model's input limit (memory_recall.py, compaction.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from apis.shared.config import Settings
from apis.shared.costs import CostRepository
from apis.shared.memory import MemoryRepository
from apis.shared.models import ManagedModel, ModelRepository
from apis.shared.sessions import SessionRepository
from apis.shared.turns.compaction import HistoryCompactor, history_budget
from apis.shared.turns.memory_recall import recall_section, recalled


@dataclass(frozen=True, slots=True)
class TurnMemory:
    """What a turn needs of long-term memory: the user's records, and the cost records that meter the memory
    model when a long conversation's summary is folded during the turn."""

    memories: MemoryRepository
    costs: CostRepository


async def with_memory(
    memory: TurnMemory,
    *,
    user_id: str,
    session_id: str,
    message: str,
    max_tokens: int | None,
    model: ManagedModel,
    system_prompt: str,
    prompt: Sequence[dict[str, Any]],
    tools: Sequence[Any],
    sessions: SessionRepository,
    models: ModelRepository,
    settings: Settings,
) -> tuple[str, HistoryCompactor]:
    """The system prompt with the user's memories relevant to `message`, and the compactor of this turn's history,
    whose budget is what the model's input limit leaves beside that prompt, the message and the tools."""
    found = await recalled(memory.memories, user_id=user_id, message=message, settings=settings.memory)
    if found:
        system_prompt += recall_section(found, max_tokens=settings.memory.memory_recall_max_tokens)
    budget = history_budget(model=model, max_tokens=max_tokens, system_prompt=system_prompt, prompt=prompt, tools=tools)
    compactor = HistoryCompactor(
        memories=memory.memories,
        costs=memory.costs,
        sessions=sessions,
        models=models,
        settings=settings,
        user_id=user_id,
        session_id=session_id,
        budget=budget,
    )
    return system_prompt, compactor
