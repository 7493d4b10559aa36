"""Writes one model call's answer while it streams and when it ends, so that a crash loses at most a second.

While the call streams, a checkpoint of its text (status `streaming`) is written every
`TURN_CHECKPOINT_SECONDS` when the text grew, and at least every third of `TURN_ABANDONED_AFTER_SECONDS`
even when it did not, so readers can tell a live turn from one whose process died (sessions/messages.py).
A call that ends sooner than one interval is written once, at its end: short answers cost no extra write.

Every write replaces exactly the version stored before it (the repository checks), so a checkpoint can never
land after the final version. A checkpoint whose write failed may or may not have landed; it is remembered,
and the next write accepts either state. A checkpoint is best-effort (the final write is the one that
counts), so its failure is logged, counted and retried at the next tick rather than failing a turn the user
is still reading; the final write is retried briefly and then fails the turn with `stream_error`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from apis.inference_api.invocations.turn_store import TurnStore
from apis.shared.costs import CostEntry
from apis.shared.errors import StorageError, StorageUnavailableError
from apis.shared.observability import SUPPRESSED_ERRORS
from apis.shared.sessions import Latency, Message, MessageIdTaken, MessageStatus, MessageSuperseded, TokenUsage
from apis.shared.turns.translator import CallTranslator

logger = logging.getLogger(__name__)

FINAL_WRITE_ATTEMPTS = 3
_FINAL_WRITE_BACKOFF_SECONDS = 0.05


class AnswerWriter:
    """The stored versions of one assistant message: its checkpoints, then its final version."""

    def __init__(self, store: TurnStore, call: CallTranslator, *, heartbeat_seconds: float) -> None:
        self.store = store
        self.call = call
        self.heartbeat_seconds = heartbeat_seconds
        self.confirmed: Message | None = None  # the version known to be stored
        self.maybe_stored: list[Message] = []  # versions whose write failed without telling whether it landed
        self.last_write = time.monotonic()
        self.finished = False
        self._lock = asyncio.Lock()

    async def checkpoint(self) -> None:
        """Store the text so far, if it grew (or the last write is getting old); never after the final write."""
        async with self._lock:
            content = self.call.partial_content()
            if self.finished or not content:
                return
            fresh = time.monotonic() - self.last_write < self.heartbeat_seconds
            if self.confirmed is not None and self.confirmed.content == content and fresh:
                return
            version = self.store.checkpoint(
                message_id=self.call.message_id, created_at=self.call.created_at, content=content
            )
            try:
                await self._write(version)
            except StorageError as exc:  # suppressed: a checkpoint; the final write counts, this one retries
                SUPPRESSED_ERRORS.labels(where="turns.checkpoint").inc()
                logger.warning("could not store a checkpoint of a streaming answer", exc_info=exc)

    async def finish(
        self, *, content: list[dict[str, Any]], usage: TokenUsage | None, latency: Latency, status: MessageStatus
    ) -> Message:
        """Store the final version with its cost, in one write with the session's counters and the month."""
        async with self._lock:
            self.finished = True
            answer, cost = self.store.answer(
                message_id=self.call.message_id,
                created_at=self.call.created_at,
                content=content,
                usage=usage,
                latency=latency,
                status=status,
            )
            for attempt in range(FINAL_WRITE_ATTEMPTS):
                try:
                    await self._write(answer, cost=cost)
                    break
                except StorageUnavailableError:
                    # Safe to repeat: the write is idempotent, and a failed one is among `maybe_stored`.
                    if attempt == FINAL_WRITE_ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(_FINAL_WRITE_BACKOFF_SECONDS * 2**attempt)
            self.store.count(answer)
            return answer

    async def _write(self, version: Message, *, cost: CostEntry | None = None) -> None:
        """Store `version` over whichever earlier version is stored: the confirmed one, or one that may be."""
        candidates = [self.confirmed, *self.maybe_stored]
        try:
            for position, replaces in enumerate(candidates):
                try:
                    await self.store.append(version, cost=cost, replaces=replaces)
                    break
                except (MessageIdTaken, MessageSuperseded) as exc:
                    if position == len(candidates) - 1:
                        # Stored is none of ours: a reader took the turn for abandoned while every write
                        # failed for longer than the bound, and settled it as interrupted.
                        raise StorageUnavailableError(
                            "the answer could not be stored in time and was closed as interrupted"
                        ) from exc
        except StorageError:
            self.maybe_stored.append(version)
            raise
        self.confirmed, self.maybe_stored = version, []
        self.last_write = time.monotonic()
