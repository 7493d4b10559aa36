"""What runs in the background once a turn has ended well: naming a new session, and long-term memory's work.

Both are best effort and independent of each other, so they run side by side in the one tracked task the runner
spawns after `done`. Memory's work (turns/memory_extraction.py) is skipped outright when the deployment has
memory switched off; for a user who opted out it stops after one read. Its failure (the memory model's provider,
an answer that is not the JSON asked for, storage) must not touch the turn, which has ended and is stored: it is
logged, counted (`colloquy_suppressed_errors_total{where="memory.extraction"}` and
`colloquy_memory_extractions_total{outcome="failed"}`) and listed in docs/suppressions.md; the next turn's
extraction reads the same messages again, since the session's summary did not move past them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from apis.inference_api.invocations.auto_title import name_new_session
from apis.shared.config import Settings
from apis.shared.errors import ProviderError, StorageError
from apis.shared.observability import MEMORY_EXTRACTIONS, SUPPRESSED_ERRORS
from apis.shared.sessions.metadata import DEFAULT_TITLE
from apis.shared.storage import Storage
from apis.shared.turns import PreparedTurn
from apis.shared.turns.memory_extraction import remember_turn

logger = logging.getLogger(__name__)
AfterTurn = Callable[[], Coroutine[Any, Any, None]]


async def remember_after_turn(*, turn: PreparedTurn, storage: Storage, settings: Settings) -> None:
    """Keep what the user said that is worth remembering, and the session's summary, best effort."""
    try:
        found = await remember_turn(
            user_id=turn.user_id,
            session_id=turn.session.session_id,
            memories=storage.memories,
            sessions=storage.sessions,
            models=storage.models,
            costs=storage.costs,
            settings=settings,
        )
    except (ProviderError, StorageError) as exc:  # suppressed: memory is side work; the turn has ended well
        SUPPRESSED_ERRORS.labels(where="memory.extraction").inc()
        MEMORY_EXTRACTIONS.labels("failed").inc()
        logger.warning("could not extract memories after a turn; the next turn tries again", exc_info=exc)
        return
    MEMORY_EXTRACTIONS.labels("off" if found is None else "stored" if found else "nothing").inc()


def after_turn(*, turn: PreparedTurn, storage: Storage, settings: Settings) -> AfterTurn | None:
    """The background work of this turn once it has ended well, or None when there is none."""
    works: list[AfterTurn] = []
    if turn.first_turn and turn.session.title == DEFAULT_TITLE:  # else stored named (titles.title_without_a_call)
        works.append(
            partial(
                name_new_session,
                turn=turn,
                sessions=storage.sessions,
                models=storage.models,
                costs=storage.costs,
                settings=settings,
            )
        )
    if settings.memory.memory_enabled:
        works.append(partial(remember_after_turn, turn=turn, storage=storage, settings=settings))
    if len(works) < 2:
        return works[0] if works else None

    async def run_all() -> None:
        async with asyncio.TaskGroup() as group:
            for work in works:
                group.create_task(work())

    return run_all
