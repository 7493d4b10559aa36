"""After a completed turn: what the user said that is worth remembering, and the session's summary brought forward.

Background work (the inference API spawns it once the turn has sent `done`; the turn never waits for it). One
call of the memory model reads the messages the session's summary does not cover yet, with the user's known
preferences and facts (so that an update reuses their subject), and answers new preferences and facts plus the
summary folded forward. Each is stored through the memory service: the same content again is merged into the
record that has it, the same subject replaces the older record (a contradiction wins). A failure is logged,
counted and suppressed by the caller (the inference API's after-turn work): nothing a user waits for.
"""

from __future__ import annotations

from apis.shared.config import Settings
from apis.shared.costs import CostRepository
from apis.shared.memory import MemoryKind, MemoryRepository
from apis.shared.memory import service as memory_service
from apis.shared.models import ModelRepository
from apis.shared.providers.local_memory import EXTRACTION_TASK
from apis.shared.sessions import Message, SessionRepository
from apis.shared.turns.memory_model import MemoryModel, resolve_memory_model
from apis.shared.turns.memory_summaries import (
    SUMMARY_WORDS,
    SessionSummary,
    fold,
    session_summary,
    settled,
    store_summary,
    uncovered,
)

# The known memories shown to the model, newest first: enough to reuse subjects, bounded in size.
KNOWN_MEMORIES_SHOWN = 50
# The newest messages read after a turn, also where HISTORY_MAX_MESSAGES sends the model less (even none).
MIN_WINDOW = 20
EXTRACTION_INSTRUCTIONS = f"""{EXTRACTION_TASK}
You keep the long-term memory of one user of a chat assistant. The input is JSON: `knownMemories` (what is
remembered already), `previousSummary` (of this conversation so far, may be empty) and `newMessages` (oldest
first; each from the user, the assistant or a tool). Write down what is worth remembering in later
conversations, from the user's own words only:
- kind "preference": how the user likes things done (answer style and length, language, formats, tools);
- kind "fact": lasting facts about the user, their work, team, projects or surroundings.
Not the assistant's claims, not one-off requests, not questions. Each item has a short lower-case `subject`
naming what it is about ("deploy day", "answer language"); when an item updates or contradicts a known memory,
use that memory's subject. Content is one sentence in the third person ("The user's team deploys on Fridays.").
Add one item of kind "summary": the conversation so far in at most {SUMMARY_WORDS} words, the previous summary
brought forward with the new messages.
Reply with a JSON array only: [{{"kind": "...", "subject": "...", "content": "..."}}]. No new memories: only the
summary item."""


async def remember_turn(
    *,
    user_id: str,
    session_id: str,
    memories: MemoryRepository,
    sessions: SessionRepository,
    models: ModelRepository,
    costs: CostRepository,
    settings: Settings,
) -> int | None:
    """Fold the session's messages since its summary into it and store the preferences and facts the user stated;
    how many of those the model found (None when memory is off for the deployment or the user). ProviderError or
    StorageError when it fails."""
    if not await memory_service.enabled_for(memories, user_id=user_id, settings=settings.memory):
        return None
    previous = await session_summary(memories, user_id=user_id, session_id=session_id)
    new = await _since(
        previous,
        sessions=sessions,
        user_id=user_id,
        session_id=session_id,
        window=settings.inference.history_max_messages,
    )
    if not new:
        return 0
    model = MemoryModel(await resolve_memory_model(models=models, settings=settings), settings, costs, user_id)
    # The offline model decides by rule and never reads them: a read saved on every turn of a fresh install.
    known = (
        await memories.list_records(user_id, [MemoryKind.PREFERENCE, MemoryKind.FACT], limit=KNOWN_MEMORIES_SHOWN)
        if model.model.provider != "local"
        else []
    )
    summary, items = await fold(
        model=model,
        instructions=EXTRACTION_INSTRUCTIONS,
        previous=previous.text if previous else "",
        messages=new,
        extra={"knownMemories": [{"kind": r.kind.value, "subject": r.subject, "content": r.content} for r in known]},
    )
    for item in items:
        await memory_service.remember(
            memories,
            user_id=user_id,
            kind=item.kind,
            content=item.content,
            subject=item.subject,
            source_session_id=session_id,
            settings=settings.memory,
        )
    await store_summary(
        memories,
        user_id=user_id,
        session_id=session_id,
        previous=previous,
        text=summary,
        through=new[-1].message_id,
        settings=settings.memory,
    )
    return len(items)


async def _since(
    previous: SessionSummary | None, *, sessions: SessionRepository, user_id: str, session_id: str, window: int
) -> list[Message]:
    """The session's complete messages that its summary does not cover yet."""
    window = max(window, MIN_WINDOW)
    recent = await sessions.list_recent_messages(user_id, session_id, limit=window)
    through = previous.through if previous else None
    whole = len(recent) < window
    return settled(
        await uncovered(sessions, user_id=user_id, session_id=session_id, recent=recent, whole=whole, through=through)
    )
