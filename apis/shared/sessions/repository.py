"""The storage port of the sessions domain; one implementation per backend under apis/shared/storage/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from apis.shared.pagination import Page
from apis.shared.sessions.models import Message, SessionChanges, SessionMetadata, SessionPreferences

if TYPE_CHECKING:  # costs imports this package's models: at run time the import would be circular
    from apis.shared.costs.models import CostEntry


class SessionRepository(Protocol):
    """Session metadata and the messages of each session, always addressed through their owner.

    Every method takes the caller's `user_id`, and no call can reach a session of another user: a lookup of
    someone else's session answers exactly as for a session that does not exist. Methods return `None` only
    for "no such record"; any backend failure raises `StorageUnavailableError` (transient) or `StorageError`.
    Page tokens are opaque strings that only this repository understands; a foreign or damaged token raises
    `InvalidPageToken`.
    """

    async def create_session(
        self, user_id: str, session: SessionMetadata, first_message: Message | None = None
    ) -> SessionMetadata:
        """Store a new session, with its first message in the same atomic write when one is given.

        Raises `SessionIdTaken` if any user already has a session with this id; then nothing is written.
        """
        ...

    async def get_session(self, user_id: str, session_id: str) -> SessionMetadata | None:
        """The caller's session, or None."""
        ...

    async def list_sessions(
        self,
        user_id: str,
        *,
        limit: int,
        page_token: str | None = None,
        starred: bool | None = None,
        title_query: str | None = None,
    ) -> Page[SessionMetadata]:
        """The caller's sessions, newest `lastMessageAt` first (ties: higher session id first).

        `starred` keeps only sessions with that flag; `title_query` keeps titles containing it, ignoring case.
        A page holds `limit` sessions unless it is the last one.
        """
        ...

    async def update_session(self, user_id: str, session_id: str, changes: SessionChanges) -> SessionMetadata | None:
        """Apply the fields set in `changes`; None if the caller has no such session."""
        ...

    async def delete_session(self, user_id: str, session_id: str) -> SessionMetadata | None:
        """Delete the session and all its messages and free its id; None if the caller has no such session.

        If the backend fails part way, the session record is the last thing removed, so a retry finishes the
        work and no message outlives its session.
        """
        ...

    async def append_message(
        self,
        user_id: str,
        session_id: str,
        message: Message,
        *,
        cost: CostEntry | None = None,
        replaces: Message | None = None,
        preferences: SessionPreferences | None = None,
    ) -> SessionMetadata:
        """Store a message and, in the same atomic write, count it, add its cost to the session's `totalCost`,
        move `lastMessageAt` to its time, set the `preferences` fields that were set (the others stay) and,
        when `cost` is given, add `cost` to its user's month totals (the same counters as
        `CostRepository.add`). All of it lands, or none of it.

        `replaces` is the stored checkpoint (status `streaming`) of this same message that the write
        supersedes: it is then replaced rather than counted again, and only the difference in cost is added.
        The write is refused with `MessageSuperseded` unless exactly that checkpoint is still stored.

        The write is idempotent: when what is stored under the message id is already exactly `message` (a
        retry of a write whose answer was lost), it succeeds without counting anything again.

        Raises `SessionNotFound` if the caller has no such session, and `MessageIdTaken` if another message
        with this id is stored already; in every failure nothing is written.
        """
        ...

    async def list_messages(
        self, user_id: str, session_id: str, *, limit: int, page_token: str | None = None
    ) -> Page[Message]:
        """The session's messages, oldest first. Raises `SessionNotFound` if the caller has no such session."""
        ...

    async def list_recent_messages(self, user_id: str, session_id: str, *, limit: int) -> list[Message]:
        """The newest `limit` messages, in conversation order (oldest of them first): a turn's history window.

        Raises `SessionNotFound` if the caller has no such session.
        """
        ...

    async def ping(self) -> None:
        """Reach the backend once; raise if it cannot be reached. Used by health checks."""
        ...
