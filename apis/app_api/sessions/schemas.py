"""Request and response bodies of the sessions routes."""

from __future__ import annotations

from pydantic import Field

from apis.shared.sessions import ApiModel, Message, SessionId, SessionMetadata
from apis.shared.sessions.metadata import MAX_BULK_DELETE


class SessionPage(ApiModel):
    sessions: list[SessionMetadata]
    next_token: str | None


class MessagePage(ApiModel):
    messages: list[Message]
    next_token: str | None


class BulkDeleteIn(ApiModel):
    session_ids: list[SessionId] = Field(min_length=1, max_length=MAX_BULK_DELETE)


class BulkDeleteRow(ApiModel):
    session_id: str
    success: bool
    error: str | None = None


class BulkDeleteOut(ApiModel):
    deleted_count: int
    failed_count: int
    results: list[BulkDeleteRow]
