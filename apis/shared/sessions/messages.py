"""Message history service: append to and read the caller's conversations, one record per message."""

from __future__ import annotations

from typing import Any

from apis.shared.clock import new_id, now_iso
from apis.shared.pagination import Page
from apis.shared.sessions.models import (
    Message,
    MessageMetadata,
    MessageRole,
    MessageStatus,
    SessionMetadata,
)
from apis.shared.sessions.repository import SessionRepository


def new_message(
    role: MessageRole,
    content: list[dict[str, Any]],
    *,
    status: MessageStatus = MessageStatus.COMPLETE,
    metadata: MessageMetadata | None = None,
    message_id: str | None = None,
) -> Message:
    return Message(
        message_id=message_id or new_id(),
        role=role,
        content=content,
        status=status,
        created_at=now_iso(),
        metadata=metadata or MessageMetadata(),
    )


async def append(*, sessions: SessionRepository, user_id: str, session_id: str, message: Message) -> SessionMetadata:
    """Store `message`; the session's count and lastMessageAt move in the same write."""
    return await sessions.append_message(user_id, session_id, message)


async def list_messages(
    *, sessions: SessionRepository, user_id: str, session_id: str, limit: int, page_token: str | None = None
) -> Page[Message]:
    return await sessions.list_messages(user_id, session_id, limit=limit, page_token=page_token)
