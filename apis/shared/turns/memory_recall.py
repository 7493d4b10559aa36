"""Recall in the turn: the user's preferences and facts most relevant to their message, in the system prompt.

As the reference recalls them: up to MEMORY_RECALL_PREFERENCES preferences scoring at least
MEMORY_RECALL_PREFERENCES_MIN_SCORE and up to MEMORY_RECALL_FACTS facts scoring at least
MEMORY_RECALL_FACTS_MIN_SCORE (the memory domain's lexical relevance, 0..1), best first, within
MEMORY_RECALL_MAX_TOKENS. The namespace is always the caller's own id. It costs nothing with memory switched off
for the deployment and one read for a user with no records (the opt-out is read only when something would be
recalled). A storage failure is the turn's 503, before anything streams.
"""

from __future__ import annotations

from apis.shared.config import MemorySettings
from apis.shared.memory import MemoryKind, MemoryRepository, ScoredMemory
from apis.shared.memory import relevance as memory_relevance
from apis.shared.memory import service as memory_service
from apis.shared.providers.token_estimates import estimate_tokens

RECALL_OPEN = "<user_memory>\nWhat you remember of this user from earlier conversations (use it where it helps):"
RECALL_CLOSE = "</user_memory>"
_HEADINGS = {MemoryKind.PREFERENCE: "Preferences:", MemoryKind.FACT: "Facts:"}


async def recalled(
    memories: MemoryRepository, *, user_id: str, message: str, settings: MemorySettings
) -> list[ScoredMemory]:
    """The preferences and facts to recall for `message`, best first; none when memory is off for the deployment
    or the user."""
    wanted = {MemoryKind.PREFERENCE: settings.memory_recall_preferences, MemoryKind.FACT: settings.memory_recall_facts}
    if not settings.memory_enabled or not any(wanted.values()):
        return []
    records = await memories.list_records(user_id, list(wanted), limit=memory_service.EVERY_RECORD)
    floors = {
        MemoryKind.PREFERENCE: settings.memory_recall_preferences_min_score,
        MemoryKind.FACT: settings.memory_recall_facts_min_score,
    }
    found: list[ScoredMemory] = []
    for kind, count in wanted.items():
        # Each kind is ranked among its own records, as a search of that kind alone ranks it.
        of_kind = [record for record in records if record.kind is kind]
        if of_kind and count:
            found += memory_relevance.rank(message, of_kind, min_score=floors[kind])[:count]
    if not found or await memories.opted_out(user_id):
        return []
    return sorted(found, key=lambda scored: scored.score, reverse=True)


def recall_section(found: list[ScoredMemory], *, max_tokens: int) -> str:
    """The system prompt's memory section: the best of `found` that fit `max_tokens`, by kind; "" for none."""
    kept: list[ScoredMemory] = []
    for scored in found:
        if estimate_tokens(_render([*kept, scored])) > max_tokens:
            break
        kept.append(scored)
    return f"\n\n{_render(kept)}" if kept else ""


def _render(found: list[ScoredMemory]) -> str:
    lines = [RECALL_OPEN]
    for kind, heading in _HEADINGS.items():
        contents = [scored.record.content for scored in found if scored.record.kind is kind]
        if contents:
            lines += [heading, *(f"- {content}" for content in contents)]
    lines.append(RECALL_CLOSE)
    return "\n".join(lines)
