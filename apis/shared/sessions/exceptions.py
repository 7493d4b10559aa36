"""What can go wrong with sessions."""

from __future__ import annotations

from apis.shared.errors import ConflictError, NotFoundError


class SessionNotFound(NotFoundError):
    """No session with this id belongs to the caller."""

    code = "session_not_found"


class SessionIdTaken(ConflictError):
    """The session id is in use (perhaps by another user); callers answer 404, never revealing the owner."""

    code = "session_id_taken"


class MessageIdTaken(ConflictError):
    """A message with this id is stored already; a retried write must not store it twice."""

    code = "message_id_taken"


class MessageSuperseded(ConflictError):
    """The stored version of a message is not the checkpoint a write meant to replace: another writer came first."""

    code = "message_superseded"
