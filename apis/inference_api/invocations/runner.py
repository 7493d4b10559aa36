"""Runs a prepared turn in a task of its own (turn_events.py: one model call, or Strands' agent loop when the
turn has tools), and hands SSE frames to the response.

The task owns the turn: it stores every message as it completes, so the response is only a relay. That is
what makes a client's disconnect safe to handle: the relay stops, tells the task, and the task stores what
the model had said with status `interrupted` (API.md §1). The relay sends `: keep-alive` whenever no frame
came for a while, and the route waits for the provider's first event before answering, so that a provider
that fails at once is a plain 502 rather than a stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import aclosing
from typing import Any, cast

from apis.inference_api.invocations.answer_writer import AnswerWriter
from apis.inference_api.invocations.turn_events import turn_events
from apis.inference_api.invocations.turn_store import TurnStore
from apis.inference_api.ping import ActiveTurns
from apis.shared.background import BackgroundTasks
from apis.shared.clock import new_id
from apis.shared.errors import ProviderError, StorageError
from apis.shared.observability import PROVIDER_SECONDS, STREAMS, TIME_TO_FIRST_BYTE_SECONDS
from apis.shared.providers.failures import provider_failure
from apis.shared.sessions import Latency, MessageStatus
from apis.shared.turns import PreparedTurn
from apis.shared.turns.sse import KEEP_ALIVE, frame
from apis.shared.turns.tool_events import tool_result_event, tool_use_event
from apis.shared.turns.translator import CallTranslator

logger = logging.getLogger(__name__)
_END = None


class TurnRun:
    """One turn in flight: its task, its frames for the client, and what has been said so far."""

    def __init__(
        self,
        turn: PreparedTurn,
        *,
        store: TurnStore,
        active: ActiveTurns,
        keepalive_seconds: float,
        checkpoint_seconds: float,
        abandoned_after_seconds: float,
        after_success: Callable[[], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        self.turn = turn
        self.store = store
        self.active = active
        self.keepalive_seconds = keepalive_seconds
        self.checkpoint_seconds = checkpoint_seconds
        # A live answer is rewritten well within the bound after which readers take it for abandoned.
        self.heartbeat_seconds = abandoned_after_seconds / 3
        self.writer: AnswerWriter | None = None
        self.frames: asyncio.Queue[str | None] = asyncio.Queue()
        self.first_event: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.call: CallTranslator | None = None
        self.call_started = 0.0
        self.first_byte_ms: float | None = None
        self.call_first_byte_ms: float | None = None
        self.client_gone = False
        self.outcome = "complete"
        self.task: asyncio.Task[None]
        self.tasks: BackgroundTasks | None = None
        self.after_success = after_success

    @property
    def provider(self) -> str:
        return self.turn.model.provider

    async def wait_for_first_event(self, timeout_seconds: float) -> None:
        """Return once the model started (or `timeout_seconds` passed); raise its failure if it failed first."""
        # asyncio.wait leaves the future alone when time runs out (wait_for would cancel it, hence a shield).
        await asyncio.wait((self.first_event,), timeout=timeout_seconds)
        if self.first_event.done():
            self.first_event.result()

    async def relay(self) -> AsyncIterator[str]:
        """The frames for the client, with keep-alive comments; a client that goes away interrupts the turn.

        The frames queued by the time the relay runs leave together, as one write. A keep-alive timer is armed
        only while the relay waits on an empty queue (one timer handle, not a timeout task per frame)."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                if self.frames.empty():
                    timer = loop.call_later(self.keepalive_seconds, self.frames.put_nowait, KEEP_ALIVE)
                    try:
                        batch = [await self.frames.get()]
                    finally:
                        timer.cancel()
                else:
                    batch = []
                while not self.frames.empty():
                    batch.append(self.frames.get_nowait())
                if _END in batch:
                    ready = batch[: batch.index(_END)]
                    if ready:
                        yield "".join(cast("list[str]", ready))
                    return
                yield "".join(cast("list[str]", batch))
        finally:
            if not self.finished:
                self.client_gone = True
                self.task.cancel()

    def start(self, tasks: BackgroundTasks) -> None:
        """Run the turn as tracked background work: it must finish storing even if the client leaves."""
        self.tasks = tasks
        self.task = tasks.spawn(self.run(), name="chat-turn")

    @property
    def finished(self) -> bool:
        return self.task.done()

    def _emit(self, name: str, data: dict[str, Any]) -> None:
        self.frames.put_nowait(frame(name, data))

    async def run(self) -> None:
        """The whole turn; every way it can end stores what exists and sends `done` (unless nobody listens)."""
        self.active.enter()
        # Most answers end within the first interval and never need a checkpoint: a timer handle costs a turn
        # less than a task, and starts the task that writes them only when an answer lasts that long.
        ticker: asyncio.Task[None] | None = None

        def start_ticker() -> None:
            nonlocal ticker
            ticker = asyncio.create_task(self._checkpoints(), name="answer-checkpoints")

        first_tick = asyncio.get_running_loop().call_later(self.checkpoint_seconds, start_ticker)
        try:
            # A quota warning first, then the sources, so the client can show them while the answer streams
            # (the reference's order).
            if self.turn.quota_warning is not None:
                self._emit("quota_warning", self.turn.quota_warning)
            for citation in self.turn.citations:
                self._emit("citation", citation.model_dump(by_alias=True))
            await self._stream_agent()
            await self._finish()
        except asyncio.CancelledError:
            self.outcome = "interrupted"
            # What the provider already billed counts, answered or not: the partial answer carries its cost.
            await self._store_partial(MessageStatus.INTERRUPTED)
            raise
        except StorageError as exc:
            self.outcome = "storage_error"
            self._emit("stream_error", {"code": "storage_unavailable", "message": exc.detail, "recoverable": True})
            self._emit("done", {})
        except Exception as exc:
            failure = provider_failure(exc, self.provider)
            if failure is None:  # a bug: the client is told the turn failed, and the task fails loudly
                self.outcome = "internal_error"
                self._fail_first_event(exc)
                self._emit(
                    "stream_error", {"code": "internal_error", "message": "the turn failed", "recoverable": False}
                )
                self._emit("done", {})
                raise
            await self._provider_failed(failure)
        finally:
            self.active.leave()
            STREAMS.labels(self.outcome).inc()
            self.frames.put_nowait(_END)
            first_tick.cancel()
            if ticker is not None:
                ticker.cancel()
                await asyncio.wait([ticker])
                if not ticker.cancelled():
                    ticker.result()  # the ticker only ends early through a bug: let it fail the task loudly

    async def _checkpoints(self) -> None:
        """Every interval, make the answer in flight durable (answer_writer.py says when it writes); started one
        interval into the turn."""
        while True:
            writer = self.writer
            if writer is not None and time.perf_counter() - self.call_started >= self.checkpoint_seconds:
                await writer.checkpoint()
            await asyncio.sleep(self.checkpoint_seconds)

    def _fail_first_event(self, exc: BaseException) -> None:
        if not self.first_event.done():
            self.first_event.set_exception(exc)

    async def _provider_failed(self, failure: ProviderError) -> None:
        """Before the first event: a plain HTTP error. After it: the partial answer, `stream_error`, `done`."""
        self.outcome = "provider_error"
        if not self.first_event.done():
            self.first_event.set_exception(failure)
            return
        await self._store_partial(MessageStatus.ERROR)
        recoverable = failure.code in ("provider_throttled", "provider_unreachable")
        self._emit("stream_error", {"code": failure.code, "message": failure.detail, "recoverable": recoverable})
        self._emit("done", {})

    async def _stream_agent(self) -> None:
        # Closed here, in this task, whatever happens: the agent's spans must end where they began.
        async with aclosing(turn_events(self.turn)) as events:
            async for event in events:
                await self._on_agent_event(event)

    async def _on_agent_event(self, event: dict[str, Any]) -> None:
        if "event" in event:
            sent_before = self.call_first_byte_ms is not None
            self._on_model_event(event["event"])
            if not sent_before and self.call_first_byte_ms is not None:
                # The first delta goes out before the rest of an already buffered stream is parsed; later
                # frames wait for the relay's next turn and leave in batches.
                await asyncio.sleep(0)
        elif "message" in event:
            await self._on_message(event["message"])

    def _on_model_event(self, event: dict[str, Any]) -> None:
        if "messageStart" in event:
            self.call = CallTranslator(message_id=new_id())
            self.writer = AnswerWriter(self.store, self.call, heartbeat_seconds=self.heartbeat_seconds)
            self.call_started = time.perf_counter()
            self.call_first_byte_ms = None
        elif not self.first_event.done():
            # Some models announce the message before they send the request: the provider has answered
            # only once something other than messageStart arrives.
            self.first_event.set_result(None)
        if self.call is None:
            return
        for name, data in self.call.translate(event):
            if name in ("content_block_delta", "reasoning") and self.call_first_byte_ms is None:
                self._first_byte()
            self._emit(name, data)

    def _first_byte(self) -> None:
        now = time.perf_counter()
        self.call_first_byte_ms = round((now - self.call_started) * 1000, 3)
        if self.first_byte_ms is None:
            self.first_byte_ms = round((now - self.turn.started) * 1000, 3)
            TIME_TO_FIRST_BYTE_SECONDS.labels(self.provider).observe(self.first_byte_ms / 1000)

    async def _on_message(self, message: dict[str, Any]) -> None:
        """A message the agent added: the model's answer (with its usage) or the results of its tools."""
        if message.get("role") == "assistant" and self.call is not None and self.writer is not None:
            elapsed = time.perf_counter() - self.call_started
            PROVIDER_SECONDS.labels(self.provider).observe(elapsed)
            latency = Latency(time_to_first_byte_ms=self.call_first_byte_ms, latency_ms=round(elapsed * 1000, 3))
            usage = self.call.usage or self.store.usage_of(message)
            stored = await self.writer.finish(
                content=message["content"], usage=usage, latency=latency, status=MessageStatus.COMPLETE
            )
            for block in message["content"]:
                if "toolUse" in block:
                    self._emit("tool_use", tool_use_event(block["toolUse"]))
            self._emit("metadata", self.store.metadata_frame(stored))
            self.call, self.writer = None, None
        elif message.get("role") == "user":
            await self.store.save_tool_results(message["content"])
            for block in message["content"]:
                if "toolResult" in block:
                    self._emit("tool_result", tool_result_event(block["toolResult"]))

    async def _store_partial(self, status: MessageStatus) -> None:
        """What the model said before the call broke off, stored with `status` (never lost, never doubled)."""
        (call, self.call), (writer, self.writer) = (self.call, None), (self.writer, None)
        if call is None or writer is None:
            return
        latency = Latency(
            time_to_first_byte_ms=self.call_first_byte_ms,
            latency_ms=round((time.perf_counter() - self.call_started) * 1000, 3),
        )
        try:
            await writer.finish(content=call.partial_content(), usage=call.usage, latency=latency, status=status)
        except StorageError:
            logger.error("could not store the partial answer of a broken-off turn", exc_info=True)
            raise

    async def _finish(self) -> None:
        total_ms = round((time.perf_counter() - self.turn.started) * 1000, 3)
        self._emit("metadata", self.store.turn_metadata_frame(latency_ms=total_ms, first_byte_ms=self.first_byte_ms))
        self._emit("done", {})
        if self.after_success is not None and self.tasks is not None:
            self.tasks.spawn(self.after_success(), name="after-turn")
