"""Background work that outlives the request that started it: kept, watched, and awaited at shutdown.

A task nobody holds can be garbage-collected mid-flight, and a failure nobody reads is lost; so every task
goes through `BackgroundTasks.spawn`, whose failures are logged (with the request id of the request that
spawned it) and counted in `colloquy_background_task_failures_total`.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from apis.shared.observability import BACKGROUND_FAILURES

T = TypeVar("T")
logger = logging.getLogger(__name__)


class BackgroundTasks:
    """The tasks of one service process."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        # The task runs in a copy of this context, so its log lines carry the spawning request's id.
        task = asyncio.create_task(work, name=name, context=contextvars.copy_context())
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        failure = task.exception()
        if failure is not None:
            BACKGROUND_FAILURES.labels(task.get_name()).inc()
            logger.error("background task %s failed", task.get_name(), exc_info=failure)

    def every(self, seconds: float, make_work: Callable[[], Coroutine[Any, Any, Any]], *, name: str) -> None:
        """Run `make_work()` every `seconds`, each round a task of its own: a round that fails is logged and
        counted like any background task, and the next round tries again."""

        async def timer() -> None:
            while True:
                await asyncio.sleep(seconds)
                await asyncio.wait([self.spawn(make_work(), name=name)])

        task = asyncio.create_task(timer(), name=f"{name}-timer")
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout_seconds: float) -> None:
        """Wait for the running tasks at shutdown; cancel what is still running after `timeout_seconds`.

        Timers stop first: a round that has not started has nothing to finish.
        """
        for timer in list(self._timers):
            timer.cancel()
        if self._timers:
            await asyncio.wait(set(self._timers))
        if not self._tasks:
            return
        pending = set(self._tasks)
        _, still_running = await asyncio.wait(pending, timeout=timeout_seconds)
        for task in still_running:
            task.cancel()
        if still_running:
            await asyncio.wait(still_running, timeout=timeout_seconds)
