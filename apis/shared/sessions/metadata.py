"""Session metadata service: create, read, list, update and delete the caller's conversations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from apis.shared.clock import now_iso
from apis.shared.pagination import Page
from apis.shared.sessions.exceptions import SessionIdTaken, SessionNotFound
from apis.shared.sessions.models import Message, SessionChanges, SessionMetadata, SessionPreferences
from apis.shared.sessions.repository import SessionRepository

DEFAULT_TITLE = "New conversation"
# Removes what belongs to a session in other domains (its attachments), given the session's id.
BeforeDelete = Callable[[str], Awaitable[None]]
MAX_BULK_DELETE = 20


def new_session(
    session_id: str, changes: SessionChanges | None = None, *, created_at: str | None = None
) -> SessionMetadata:
    """A fresh session record; `changes` may give its first title, tags and the like."""
    created_at = created_at or now_iso()
    session = SessionMetadata(
        session_id=session_id, title=DEFAULT_TITLE, created_at=created_at, last_message_at=created_at
    )
    if changes is None:
        return session
    return changes.apply_to(session)


async def get_or_raise(*, sessions: SessionRepository, user_id: str, session_id: str) -> SessionMetadata:
    session = await sessions.get_session(user_id, session_id)
    if session is None:
        raise SessionNotFound(f"session {session_id} not found")
    return session


async def get_or_create(
    *,
    sessions: SessionRepository,
    user_id: str,
    session_id: str,
    first_message: Message | None = None,
    preferences: SessionPreferences | None = None,
    title: Callable[[], Awaitable[str | None]] | None = None,
) -> tuple[SessionMetadata, bool]:
    """The caller's session, created on first use; (session, created). Another user's id is SessionNotFound.

    A session created here gets `first_message` in the same write, so a failed turn never leaves an empty
    conversation behind; an existing session does not get it (the caller appends it). `title`, asked only when
    the session is created, may name it in that write (None keeps the default title).
    """
    existing = await sessions.get_session(user_id, session_id)
    if existing is not None:
        return existing, False
    try:
        created_at = first_message.created_at if first_message else None
        named = await title() if title is not None else None
        changes = SessionChanges(title=named) if named else None
        session = new_session(session_id, changes, created_at=created_at).with_preferences(preferences)
        return await sessions.create_session(user_id, session, first_message), True
    except SessionIdTaken:
        # Either a concurrent request of the same caller won the race, or the id is someone else's.
        raced = await sessions.get_session(user_id, session_id)
        if raced is None:
            raise SessionNotFound(f"session {session_id} not found") from None
        return raced, False


async def list_sessions(
    *,
    sessions: SessionRepository,
    user_id: str,
    limit: int,
    page_token: str | None = None,
    starred: bool | None = None,
    title_query: str | None = None,
) -> Page[SessionMetadata]:
    query = title_query.strip() if title_query else None
    return await sessions.list_sessions(
        user_id, limit=limit, page_token=page_token, starred=starred, title_query=query or None
    )


async def update(
    *, sessions: SessionRepository, user_id: str, session_id: str, changes: SessionChanges
) -> SessionMetadata:
    """Apply `changes`, creating the session when the caller has none with this id (PUT semantics)."""
    updated = await sessions.update_session(user_id, session_id, changes)
    if updated is not None:
        return updated
    try:
        return await sessions.create_session(user_id, new_session(session_id, changes))
    except SessionIdTaken:
        updated = await sessions.update_session(user_id, session_id, changes)
        if updated is None:
            raise SessionNotFound(f"session {session_id} not found") from None
        return updated


async def delete(
    *, sessions: SessionRepository, user_id: str, session_id: str, before_delete: BeforeDelete | None = None
) -> None:
    """Delete the caller's session and its messages; `before_delete` first removes what hangs off it.

    `before_delete` (the session's attachments) runs only once the session is known to be the caller's, and
    before the session goes: if it fails, the session stays, the error reaches the client, and a retry
    finishes the work.
    """
    if before_delete is not None:
        await get_or_raise(sessions=sessions, user_id=user_id, session_id=session_id)
        await before_delete(session_id)
    if await sessions.delete_session(user_id, session_id) is None:
        raise SessionNotFound(f"session {session_id} not found")


@dataclass(frozen=True, slots=True)
class BulkDeleteResult:
    session_id: str
    success: bool
    error: str | None = None


async def bulk_delete(
    *,
    sessions: SessionRepository,
    user_id: str,
    session_ids: list[str],
    before_delete: BeforeDelete | None = None,
) -> list[BulkDeleteResult]:
    """Delete each session on its own; one failure does not stop the others and is reported in its row.

    Only "not found" becomes a failed row. A storage failure ends the request with 503 like any other route;
    deletion is idempotent, so the client retries the same list and already deleted ids come back as not found.
    """
    results: list[BulkDeleteResult] = []
    for session_id in dict.fromkeys(session_ids):
        try:
            await delete(sessions=sessions, user_id=user_id, session_id=session_id, before_delete=before_delete)
        except SessionNotFound as exc:
            results.append(BulkDeleteResult(session_id=session_id, success=False, error=exc.detail))
        else:
            results.append(BulkDeleteResult(session_id=session_id, success=True))
    return results
