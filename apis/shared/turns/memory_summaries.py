"""A session's summary: one memory record of kind `summary` per session, folded forward as the conversation grows.

The record says what it covers: `metadata.throughMessageId` is the newest message folded into it (message ids are
UUIDv7s, so "after it" is a string comparison). Folding sends the model the previous summary and only the messages
after that mark, never the whole conversation again; a long backlog goes in chunks, one call each. Two writers
(the extraction after a turn, a turn that compacts its history) may fold at once: each replaces the record it
read, and the one that finds it already replaced keeps the other's.

The same record is the session's summary of the memory routes (`/memory/summaries/{sessionId}`) and what stands
for older turns in a long conversation's context (compaction.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from apis.shared.clock import new_id, now_iso
from apis.shared.config import MemorySettings
from apis.shared.memory import MemoryKind, MemoryRecord, MemoryRepository
from apis.shared.memory.models import MAX_CONTENT_CHARS
from apis.shared.providers.local_memory import SUMMARY_TASK
from apis.shared.sessions import Message, MessageStatus, SessionRepository
from apis.shared.sessions.messages import WHOLE_CONVERSATION_PAGE
from apis.shared.turns.memory_model import MemoryItem, MemoryModel

THROUGH = "throughMessageId"
# What one message and one call carry to the memory model: a pasted book does not make one huge request.
MESSAGE_TEXT_CHARS = 4_000
CHUNK_CHARS = 24_000
SUMMARY_WORDS = 250
SUMMARY_INSTRUCTIONS = f"""{SUMMARY_TASK}
You keep the running summary of a conversation between a user and an assistant, which later stands in for its
older messages. The input is JSON: `previousSummary` (may be empty) and `newMessages` (oldest first; each from
the user, the assistant or a tool). Write the summary of everything so far in at most {SUMMARY_WORDS} words:
who the user is, what they asked, decisions and facts stated, names, numbers and open questions; keep what the
earliest messages established.
Reply with a JSON array holding one item: [{{"kind": "summary", "subject": "conversation", "content": "..."}}]."""


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """The stored summary of one session, and the newest message it covers."""

    record: MemoryRecord

    @property
    def text(self) -> str:
        return self.record.content

    @property
    def through(self) -> str | None:
        value = self.record.metadata.get(THROUGH)
        return value if isinstance(value, str) else None


async def session_summary(memories: MemoryRepository, *, user_id: str, session_id: str) -> SessionSummary | None:
    """The session's summary, or None if it has none yet."""
    records = await memories.list_records(user_id, [MemoryKind.SUMMARY], limit=1, session_id=session_id)
    return SessionSummary(records[0]) if records else None


def after(messages: Sequence[Message], through: str | None) -> list[Message]:
    """The messages a summary covering up to `through` does not cover yet."""
    return [message for message in messages if through is None or message.message_id > through]


async def uncovered(
    sessions: SessionRepository,
    *,
    user_id: str,
    session_id: str,
    recent: Sequence[Message],
    whole: bool,
    through: str | None,
) -> list[Message]:
    """The messages after `through`, given `recent`, the newest messages (`whole`: all of them). They are all in
    `recent` when it is whole or reaches back to `through`; otherwise (a conversation older than its summary, or a
    summary that fell behind) the whole conversation is read, a page at a time."""
    if whole or (through is not None and recent and recent[0].message_id <= through):
        return after(recent, through)
    older: list[Message] = []
    token: str | None = None
    while True:
        page = await sessions.list_messages(user_id, session_id, limit=WHOLE_CONVERSATION_PAGE, page_token=token)
        older.extend(after(page.items, through))
        if page.next_token is None:
            return older
        token = page.next_token


def settled(messages: Sequence[Message]) -> list[Message]:
    """The messages up to the first one still streaming: an answer in flight is folded once it is complete."""
    done: list[Message] = []
    for message in messages:
        if message.status is MessageStatus.STREAMING:
            break
        done.append(message)
    return done


def message_lines(messages: Sequence[Message]) -> list[dict[str, str]]:
    """What the memory model reads of messages: who said what (user, assistant, or tool for tool results), with
    tool calls and attachments named."""
    lines = []
    for message in messages:
        parts = []
        for block in message.content:
            if "text" in block and str(block["text"]).strip():
                parts.append(str(block["text"]))
            elif "toolUse" in block:
                parts.append(f"[used the tool {block['toolUse'].get('name', '?')}]")
            elif "toolResult" in block:
                parts.append("[a tool's result]")
            for kind in ("image", "document"):
                if isinstance(block.get(kind), dict):
                    parts.append(f"[attached {block[kind].get('filename') or block[kind].get('name') or kind}]")
        text = " ".join(" ".join(parts).split())
        # Tool results are stored as user messages (the shape providers want), but the user did not say them.
        results_only = all("toolResult" in block for block in message.content)
        if text:
            lines.append({"role": "tool" if results_only else message.role.value, "text": text[:MESSAGE_TEXT_CHARS]})
    return lines


def chunks(messages: Sequence[Message]) -> Iterator[list[Message]]:
    """`messages` in runs of at most CHUNK_CHARS of text (a message longer than that is a run of its own)."""
    run: list[Message] = []
    size = 0
    for message in messages:
        length = sum(len(line["text"]) for line in message_lines([message]))
        if run and size + length > CHUNK_CHARS:
            yield run
            run, size = [], 0
        run.append(message)
        size += length
    if run:
        yield run


async def fold(
    *,
    model: MemoryModel,
    instructions: str,
    previous: str,
    messages: Sequence[Message],
    extra: dict[str, Any] | None = None,
) -> tuple[str, list[MemoryItem]]:
    """The summary of `previous` followed by `messages`, and the other items the model wrote on the way, one call
    per chunk; `extra` goes into every call's input beside the summary and messages."""
    summary, items = previous, list[MemoryItem]()
    for run in chunks(messages):
        payload = {**(extra or {}), "previousSummary": summary, "newMessages": message_lines(run)}
        answered = await model.ask(instructions, payload)
        items.extend(item for item in answered if item.kind is not MemoryKind.SUMMARY)
        summary = next((item.content for item in answered if item.kind is MemoryKind.SUMMARY), summary)
    return summary, items


async def store_summary(
    memories: MemoryRepository,
    *,
    user_id: str,
    session_id: str,
    previous: SessionSummary | None,
    text: str,
    through: str,
    settings: MemorySettings,
) -> SessionSummary:
    """Store the session's new summary in place of `previous`. If another writer replaced `previous` meanwhile,
    theirs is kept and returned; if the user deleted it, this one is stored anew."""
    moment = now_iso()
    record = MemoryRecord(
        record_id=new_id(),
        user_id=user_id,
        kind=MemoryKind.SUMMARY,
        content=text.strip()[:MAX_CONTENT_CHARS].strip() or "(nothing to summarise yet)",
        source_session_id=session_id,
        created_at=moment,
        updated_at=moment,
        metadata={THROUGH: through},
    )
    if previous is not None:
        replaced = await memories.replace(user_id, previous.record.record_id, record)
        if replaced is not None:
            return SessionSummary(replaced)
        current = await session_summary(memories, user_id=user_id, session_id=session_id)
        if current is not None:
            return current
    stored = await memories.add(record, max_per_kind=settings.memory_max_records_per_user)
    return SessionSummary(stored)
