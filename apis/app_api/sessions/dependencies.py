"""Validation dependencies: load the caller's session once, or answer 404 for every route alike."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from apis.app_api.deps import CurrentUser, SessionsRepo
from apis.shared.sessions import SESSION_ID_PATTERN, SessionMetadata
from apis.shared.sessions import metadata as sessions_service

SessionIdPath = Annotated[str, Path(pattern=SESSION_ID_PATTERN, description="the session's id")]


async def valid_owned_session(session_id: SessionIdPath, user: CurrentUser, sessions: SessionsRepo) -> SessionMetadata:
    return await sessions_service.get_or_raise(sessions=sessions, user_id=user.user_id, session_id=session_id)


OwnedSession = Annotated[SessionMetadata, Depends(valid_owned_session)]
