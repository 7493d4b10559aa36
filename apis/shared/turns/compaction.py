"""Long conversations: older turns stand in the model's context as the session's summary, within the model's limit.

A turn reads the newest HISTORY_MAX_MESSAGES messages (a bound on what one turn reads, not on what the model
remembers). What the model may be sent of them is a token budget: the managed model's `maxInputTokens`, less room
for the answer (the turn's `max_tokens`, else the model's `maxOutputTokens`), the system prompt, the tools' specs,
this turn's own message and attachments, and a tenth of the limit for the estimate's error (four characters a
token, the project's estimate; an attachment counts ATTACHMENT_TOKENS).

- A conversation the window holds whole, and whose messages fit the budget, goes as it is: no further read, no
  summary (the common case costs only the estimate).
- Otherwise the session's summary (memory_summaries.py) goes into the system prompt, followed by the newest
  messages that fit beside it, cut only where a turn begins (a user's own message), so a tool call is never
  separated from its result.
- When a message that would be left out is not yet covered by the summary, the summary is folded forward first,
  by the memory model, down to a tail of half the budget and half the window. That margin means a fold happens
  once every several turns, not every turn, and the messages it must read are still within the window.

The full history stays in storage and in `GET /sessions/{id}/messages`; only the model's context is compacted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from apis.shared.config import Settings
from apis.shared.costs import CostRepository
from apis.shared.memory import MemoryRepository
from apis.shared.memory.models import MAX_CONTENT_CHARS
from apis.shared.models import ManagedModel, ModelRepository
from apis.shared.observability import HISTORY_COMPACTIONS
from apis.shared.providers.token_estimates import estimate_tokens
from apis.shared.sessions import Message, MessageRole, SessionMetadata, SessionRepository
from apis.shared.turns.memory_model import MemoryModel, resolve_memory_model
from apis.shared.turns.memory_summaries import (
    SUMMARY_INSTRUCTIONS,
    SessionSummary,
    after,
    fold,
    session_summary,
    store_summary,
    uncovered,
)

# A message's role and framing: about four tokens to a provider's tokenizer, but about sixteen counted as the
# characters of its JSON in a request; the larger, so that the request's own size is within the limit too.
MESSAGE_OVERHEAD_TOKENS = 16
# An image or a document sent as a block; a rough figure (an image is about 1,600 tokens on most providers).
ATTACHMENT_TOKENS = 1_600
DEFAULT_ANSWER_TOKENS = 4_096
ERROR_SHARE = 10  # a tenth of the limit is kept for the estimate's error
SUMMARY_OPEN = "<conversation_summary>\nThe earlier part of this conversation, summarised:\n"
SUMMARY_CLOSE = "\n</conversation_summary>"
# The most a summary can take in the context: what a record holds, framed.
SUMMARY_MAX_TOKENS = estimate_tokens(SUMMARY_OPEN + "x" * MAX_CONTENT_CHARS + SUMMARY_CLOSE)


def block_tokens(block: dict[str, Any]) -> int:
    """A content block's estimated tokens; reasoning is not sent again, so it counts nothing."""
    if "text" in block:
        return estimate_tokens(str(block["text"]))
    if "toolUse" in block:
        return estimate_tokens(json.dumps(block["toolUse"], default=str))
    if "toolResult" in block:
        inner = block["toolResult"].get("content", [])
        return estimate_tokens(block["toolResult"].get("toolUseId", "")) + sum(block_tokens(b) for b in inner)
    if "json" in block:
        return estimate_tokens(json.dumps(block["json"], default=str))
    if "image" in block or "document" in block:
        return ATTACHMENT_TOKENS
    return 0


def message_tokens(message: Message) -> int:
    return MESSAGE_OVERHEAD_TOKENS + sum(block_tokens(block) for block in message.content)


def _tool_tokens(tools: Sequence[Any]) -> int:
    specs = [getattr(tool, "tool_spec", None) for tool in tools]
    return sum(estimate_tokens(json.dumps(spec, default=str)) for spec in specs if spec is not None)


def history_budget(
    *,
    model: ManagedModel,
    max_tokens: int | None,
    system_prompt: str,
    prompt: Sequence[dict[str, Any]],
    tools: Sequence[Any],
) -> int | None:
    """The tokens the history (summary included) may take in this turn's request; None when the model states no
    input limit. May be 0: the new message alone fills the request."""
    limit = model.max_input_tokens
    if limit is None:
        return None
    answer = min(max_tokens or model.max_output_tokens or DEFAULT_ANSWER_TOKENS, limit // 2)
    taken = (
        answer
        + limit // ERROR_SHARE
        + estimate_tokens(system_prompt)
        + MESSAGE_OVERHEAD_TOKENS
        + sum(block_tokens(block) for block in prompt)
        + _tool_tokens(tools)
    )
    return max(0, limit - taken)


def summary_section(summary: str) -> str:
    """How the summary reads in the system prompt."""
    return f"\n\n{SUMMARY_OPEN}{summary}{SUMMARY_CLOSE}"


def _starts_turn(message: Message) -> bool:
    """A user's own message: a turn begins there (a tool result, also stored as a user message, does not)."""
    return message.role is MessageRole.USER and not any("toolResult" in block for block in message.content)


def tail_start(messages: Sequence[Message], sizes: Sequence[int], budget: float, *, most: int | None = None) -> int:
    """Where the longest run of newest messages that fits `budget` tokens (and `most` messages) begins, at the
    start of a turn; len(messages) when not even the newest turn fits."""
    start, total = len(messages), 0
    for index in range(len(messages) - 1, -1, -1):
        total += sizes[index]
        if total > budget or (most is not None and len(messages) - index > most):
            break
        if _starts_turn(messages[index]):
            start = index
    return start


@dataclass
class HistoryCompactor:
    """Compacts one turn's history window; `summary` is what the system prompt must carry afterwards."""

    memories: MemoryRepository
    costs: CostRepository
    sessions: SessionRepository
    models: ModelRepository
    settings: Settings
    user_id: str
    session_id: str
    budget: int | None
    summary: str | None = field(default=None, init=False)

    @property
    def window(self) -> int:
        return self.settings.inference.history_max_messages

    async def compact(self, recent: list[Message], session: SessionMetadata) -> list[Message]:
        """The messages of `recent` the model is sent; sets `summary` when older ones stand as a summary."""
        if not recent:
            return recent
        whole = len(recent) < self.window or session.message_count <= len(recent)
        sizes = [message_tokens(message) for message in recent]
        limit = float("inf") if self.budget is None else self.budget
        if whole and sum(sizes) <= limit:
            return recent
        current = await session_summary(self.memories, user_id=self.user_id, session_id=self.session_id)
        through = current.through if current else None
        room = limit - (estimate_tokens(summary_section(current.text)) if current else 0)
        start = tail_start(recent, sizes, room)
        dropped_covered = start == 0 or (through is not None and recent[start - 1].message_id <= through)
        reaches_back = whole or (through is not None and recent[0].message_id <= through)
        uncovered_in_window = len(after(recent, through))
        if dropped_covered and reaches_back and (whole or uncovered_in_window <= self.window * 3 // 4):
            # Something older than the tail is left out (before it, or before the window): the summary stands for it.
            if current is not None and (start > 0 or not whole):
                self.summary = current.text
                HISTORY_COMPACTIONS.labels("reused").inc()
            return recent[start:]
        return await self._fold(recent, sizes, limit, current, whole)

    async def _fold(
        self, recent: list[Message], sizes: list[int], limit: float, current: SessionSummary | None, whole: bool
    ) -> list[Message]:
        """Fold what the new, shorter tail leaves out into the summary, and return that tail."""
        half = (limit - SUMMARY_MAX_TOKENS) / 2
        start = tail_start(recent, sizes, half, most=max(1, self.window // 2))
        through = current.through if current else None
        backlog = await uncovered(
            self.sessions, user_id=self.user_id, session_id=self.session_id, recent=recent, whole=whole, through=through
        )
        first_kept = recent[start].message_id if start < len(recent) else None
        folded = [message for message in backlog if first_kept is None or message.message_id < first_kept]
        if folded:
            model = MemoryModel(
                await resolve_memory_model(models=self.models, settings=self.settings),
                self.settings,
                self.costs,
                self.user_id,
            )
            text, _ = await fold(
                model=model,
                instructions=SUMMARY_INSTRUCTIONS,
                previous=current.text if current else "",
                messages=folded,
            )
            current = await store_summary(
                self.memories,
                user_id=self.user_id,
                session_id=self.session_id,
                previous=current,
                text=text,
                through=folded[-1].message_id,
                settings=self.settings.memory,
            )
        if current is not None:
            self.summary = current.text
            HISTORY_COMPACTIONS.labels("folded" if folded else "reused").inc()
        return recent[start:]
