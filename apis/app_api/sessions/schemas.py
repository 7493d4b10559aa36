"""Request and response bodies of the sessions routes."""

from __future__ import annotations

from pydantic import Field

from apis.app_api.sessions.message_wire import MessageRead
from apis.shared.sessions import ApiModel, SessionId, SessionMetadata
from apis.shared.sessions.metadata import MAX_BULK_DELETE


class SessionPage(ApiModel):
    sessions: list[SessionMetadata]
    next_token: str | None


class MessagePage(ApiModel):
    """A page of a conversation in the reference client's shape; `nextToken` is absent on the last page."""

    messages: list[MessageRead]
    next_token: str | None = None


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
