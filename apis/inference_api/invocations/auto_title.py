"""After the first turn of a new session, name it: best-effort work in the background.

A failure here must not touch the turn, which has ended: the session keeps its default title, and the
failure is logged, counted (`colloquy_suppressed_errors_total{where="sessions.auto_title"}`) and listed in
docs/suppressions.md. `POST /chat/generate-title` remains for a client that wants another try.
"""

from __future__ import annotations

import logging

from apis.shared.config import Settings
from apis.shared.costs import CostRepository
from apis.shared.errors import ProviderError, StorageError
from apis.shared.models import ModelRepository
from apis.shared.observability import SUPPRESSED_ERRORS
from apis.shared.sessions import SessionChanges, SessionRepository
from apis.shared.sessions.metadata import DEFAULT_TITLE
from apis.shared.turns import PreparedTurn, title_for

logger = logging.getLogger(__name__)


async def name_new_session(
    *,
    turn: PreparedTurn,
    sessions: SessionRepository,
    models: ModelRepository,
    costs: CostRepository,
    settings: Settings,
) -> None:
    """Give the session a title from its first message, unless someone named it meanwhile."""
    user_id, session_id = turn.user_id, turn.session.session_id
    try:
        title = await title_for(
            models=models, costs=costs, settings=settings, user_id=user_id, text=turn.request.message
        )
        current = await sessions.get_session(user_id, session_id)
        if current is not None and current.title == DEFAULT_TITLE:
            await sessions.update_session(user_id, session_id, SessionChanges(title=title))
    except (ProviderError, StorageError) as exc:  # suppressed: a title is a nicety; the turn has ended well
        SUPPRESSED_ERRORS.labels(where="sessions.auto_title").inc()
        logger.warning("could not name a new session; it keeps its default title", exc_info=exc)
