"""Message history service: append to and read the caller's conversations, one record per message.

A turn's answer is written while it streams (a `streaming` checkpoint) and replaced by its final version. A
process that dies mid-turn leaves the checkpoint behind; readers settle it: once it is older than the
abandonment bound, it is stored again as `interrupted`, with the text it had. The bound is far longer than
the interval at which a live turn rewrites its checkpoint, so a turn another process is still streaming is
never settled, and the replacement is conditioned on the checkpoint being unchanged.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from apis.shared.clock import new_id, now_iso, to_iso, utc_now
from apis.shared.pagination import Page
from apis.shared.sessions.exceptions import MessageSuperseded
from apis.shared.sessions.models import (
    Message,
    MessageMetadata,
    MessageRole,
    MessageStatus,
    SessionMetadata,
    SessionPreferences,
)
from apis.shared.sessions.repository import SessionRepository

if TYPE_CHECKING:
    from apis.shared.costs.models import CostEntry


def new_message(
    role: MessageRole,
    content: list[dict[str, Any]],
    *,
    status: MessageStatus = MessageStatus.COMPLETE,
    metadata: MessageMetadata | None = None,
    message_id: str | None = None,
) -> Message:
    now = now_iso()
    return Message(
        message_id=message_id or new_id(),
        role=role,
        content=content,
        status=status,
        created_at=now,
        updated_at=now,
        metadata=metadata or MessageMetadata(),
    )


async def append(
    *,
    sessions: SessionRepository,
    user_id: str,
    session_id: str,
    message: Message,
    cost: CostEntry | None = None,
    replaces: Message | None = None,
    preferences: SessionPreferences | None = None,
) -> SessionMetadata:
    """Store `message`; the session's counters, `preferences` and the month's `cost` move in the same write."""
    return await sessions.append_message(
        user_id, session_id, message, cost=cost, replaces=replaces, preferences=preferences
    )


def is_abandoned(message: Message, *, now: datetime, abandoned_after_seconds: float) -> bool:
    """A checkpoint nobody has rewritten within the bound: the process that streamed it is gone."""
    if message.status is not MessageStatus.STREAMING:
        return False
    written = message.updated_at or message.created_at
    return written < to_iso(now - timedelta(seconds=abandoned_after_seconds))


async def settle_abandoned(
    *,
    sessions: SessionRepository,
    user_id: str,
    session_id: str,
    messages: list[Message],
    abandoned_after_seconds: float,
) -> list[Message]:
    """`messages` with each abandoned checkpoint stored again, and returned, as `interrupted`."""
    now = utc_now()
    settled = []
    for message in messages:
        if is_abandoned(message, now=now, abandoned_after_seconds=abandoned_after_seconds):
            interrupted = message.model_copy(update={"status": MessageStatus.INTERRUPTED, "updated_at": to_iso(now)})
            try:
                await append(
                    sessions=sessions, user_id=user_id, session_id=session_id, message=interrupted, replaces=message
                )
            except MessageSuperseded:
                # Control flow, not a failure: its turn (or another reader) wrote it since it was read. The
                # version read is still a true snapshot; the next read shows the newer one.
                settled.append(message)
                continue
            message = interrupted
        settled.append(message)
    return settled


# How many messages one read of the whole conversation asks storage for at a time.
WHOLE_CONVERSATION_PAGE = 500


async def list_messages(
    *,
    sessions: SessionRepository,
    user_id: str,
    session_id: str,
    limit: int | None,
    abandoned_after_seconds: float,
    page_token: str | None = None,
) -> Page[Message]:
    """A page of the conversation, oldest first, with abandoned answers settled as `interrupted`; with no
    `limit`, every message from `page_token` on (read from storage a page at a time)."""
    if limit is not None:
        page = await sessions.list_messages(user_id, session_id, limit=limit, page_token=page_token)
    else:
        page = Page(items=[], next_token=page_token)
        while True:
            more = await sessions.list_messages(
                user_id, session_id, limit=WHOLE_CONVERSATION_PAGE, page_token=page.next_token
            )
            page = Page(items=[*page.items, *more.items], next_token=more.next_token)
            if more.next_token is None:
                break
    items = await settle_abandoned(
        sessions=sessions,
        user_id=user_id,
        session_id=session_id,
        messages=page.items,
        abandoned_after_seconds=abandoned_after_seconds,
    )
    return Page(items=items, next_token=page.next_token)


async def recent_messages(
    *, sessions: SessionRepository, user_id: str, session_id: str, limit: int, abandoned_after_seconds: float
) -> list[Message]:
    """A turn's history window (the newest `limit`, in conversation order), abandoned answers settled."""
    recent = await sessions.list_recent_messages(user_id, session_id, limit=limit)
    return await settle_abandoned(
        sessions=sessions,
        user_id=user_id,
        session_id=session_id,
        messages=recent,
        abandoned_after_seconds=abandoned_after_seconds,
    )
