"""The caller's conversations: list, read, update, delete, and read the messages of one (API.md "Sessions")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from apis.app_api.deps import AppSettings, CurrentUser, SessionsRepo, StorageDep
from apis.app_api.sessions.dependencies import OwnedSession, SessionIdPath
from apis.app_api.sessions.message_wire import message_read
from apis.app_api.sessions.schemas import BulkDeleteIn, BulkDeleteOut, BulkDeleteRow, MessagePage, SessionPage
from apis.app_api.updates import merged_record_validated
from apis.shared.files import service as files_service
from apis.shared.memory import service as memory_service
from apis.shared.sessions import SessionChanges, SessionMetadata
from apis.shared.sessions import messages as messages_service
from apis.shared.sessions import metadata as sessions_service
from apis.shared.sessions.metadata import BeforeDelete
from apis.shared.storage import Storage

router = APIRouter(prefix="/sessions", tags=["sessions"])


def _leftovers_remover(storage: Storage, user_id: str) -> BeforeDelete:
    """Deletes a session's attachments and its memory summaries; a failure is a 503 and the session stays for a
    retry (each step is safe to repeat)."""

    async def remove(session_id: str) -> None:
        await files_service.delete_session_files(
            files=storage.files, blobs=storage.blobs, user_id=user_id, session_id=session_id
        )
        await memory_service.forget_session(storage.memories, user_id=user_id, session_id=session_id)

    return remove


NextToken = Annotated[str | None, Query(max_length=2048, description="the nextToken of the previous page")]


@router.get("", response_model=SessionPage)
async def list_sessions(
    user: CurrentUser,
    sessions: SessionsRepo,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: NextToken = None,
    starred: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="part of the title, any case")] = None,
) -> SessionPage:
    """The caller's sessions, most recently active first."""
    page = await sessions_service.list_sessions(
        sessions=sessions,
        user_id=user.user_id,
        limit=limit,
        page_token=next_token,
        starred=starred,
        title_query=q,
    )
    return SessionPage(sessions=page.items, next_token=page.next_token)


@router.post("/bulk-delete", response_model=BulkDeleteOut)
async def bulk_delete_sessions(
    body: BulkDeleteIn, user: CurrentUser, sessions: SessionsRepo, storage: StorageDep
) -> BulkDeleteOut:
    """Delete up to 20 sessions with their attachments and summaries; each row says whether its session was
    deleted."""
    results = await sessions_service.bulk_delete(
        sessions=sessions,
        user_id=user.user_id,
        session_ids=body.session_ids,
        before_delete=_leftovers_remover(storage, user.user_id),
    )
    rows = [BulkDeleteRow(session_id=r.session_id, success=r.success, error=r.error) for r in results]
    deleted = sum(row.success for row in rows)
    return BulkDeleteOut(deleted_count=deleted, failed_count=len(rows) - deleted, results=rows)


@router.get("/{session_id}/metadata", response_model=SessionMetadata)
async def get_session_metadata(session: OwnedSession) -> SessionMetadata:
    return session


@router.put("/{session_id}/metadata", response_model=SessionMetadata)
async def put_session_metadata(
    session_id: SessionIdPath, changes: SessionChanges, user: CurrentUser, sessions: SessionsRepo
) -> SessionMetadata:
    """Change the sent fields (a null clears tags or preferences); creates the session when the caller has none."""
    with merged_record_validated():
        return await sessions_service.update(
            sessions=sessions, user_id=user.user_id, session_id=session_id, changes=changes
        )


@router.delete("/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_session(
    session_id: SessionIdPath, user: CurrentUser, sessions: SessionsRepo, storage: StorageDep
) -> Response:
    """Delete the session, its messages, its attachments (bytes and records; their quota is released) and its
    memory summaries."""
    await sessions_service.delete(
        sessions=sessions,
        user_id=user.user_id,
        session_id=session_id,
        before_delete=_leftovers_remover(storage, user.user_id),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# As the reference answers it: fields without a value are left out (a text block has no `toolUse: null`).
@router.get("/{session_id}/messages", response_model=MessagePage, response_model_exclude_none=True)
async def list_session_messages(
    session_id: SessionIdPath,
    user: CurrentUser,
    sessions: SessionsRepo,
    settings: AppSettings,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
    next_token: NextToken = None,
) -> MessagePage:
    """The session's messages, oldest first, as the reference client reads them (404 when not the caller's).

    Without `limit`, the whole conversation from `next_token` on, as the reference answers: its client asks
    without one and never follows a token, so a page would silently hide the rest of a long conversation.
    """
    page = await messages_service.list_messages(
        sessions=sessions,
        user_id=user.user_id,
        session_id=session_id,
        limit=limit,
        page_token=next_token,
        abandoned_after_seconds=settings.inference.turn_abandoned_after_seconds,
    )
    return MessagePage(messages=[message_read(message) for message in page.items], next_token=page.next_token)
