"""A dict-backed SessionRepository: the fake that service tests use, held to the same contract suite."""

from __future__ import annotations

from dataclasses import dataclass, field

from apis.shared.costs.models import CostEntry
from apis.shared.pagination import Page, decode_token, encode_token
from apis.shared.sessions.exceptions import MessageIdTaken, MessageSuperseded, SessionIdTaken, SessionNotFound
from apis.shared.sessions.models import Message, SessionChanges, SessionMetadata, SessionPreferences
from apis.shared.storage.memory.costs import InMemoryCostRepository


@dataclass
class _StoredSession:
    owner: str
    metadata: SessionMetadata
    messages: dict[str, Message] = field(default_factory=dict)


class InMemorySessionRepository:
    """Keeps everything in one process; nothing survives a restart."""

    def __init__(self, costs: InMemoryCostRepository | None = None) -> None:
        self._sessions: dict[str, _StoredSession] = {}
        self._costs = costs or InMemoryCostRepository()

    def _owned(self, user_id: str, session_id: str) -> _StoredSession | None:
        stored = self._sessions.get(session_id)
        return stored if stored is not None and stored.owner == user_id else None

    async def create_session(
        self, user_id: str, session: SessionMetadata, first_message: Message | None = None
    ) -> SessionMetadata:
        if session.session_id in self._sessions:
            raise SessionIdTaken(f"session id {session.session_id} is taken")
        self._sessions[session.session_id] = _StoredSession(owner=user_id, metadata=session)
        if first_message is None:
            return session
        return await self.append_message(user_id, session.session_id, first_message)

    async def get_session(self, user_id: str, session_id: str) -> SessionMetadata | None:
        stored = self._owned(user_id, session_id)
        return stored.metadata if stored else None

    async def list_sessions(
        self,
        user_id: str,
        *,
        limit: int,
        page_token: str | None = None,
        starred: bool | None = None,
        title_query: str | None = None,
    ) -> Page[SessionMetadata]:
        after = decode_token(page_token, fields=("lastMessageAt", "sessionId")) if page_token is not None else None
        candidates = sorted(
            (s.metadata for s in self._sessions.values() if s.owner == user_id),
            key=lambda m: (m.last_message_at, m.session_id),
            reverse=True,
        )
        matching = [
            m
            for m in candidates
            if (starred is None or m.starred == starred)
            and (title_query is None or title_query.lower() in m.title.lower())
            and (after is None or (m.last_message_at, m.session_id) < (after["lastMessageAt"], after["sessionId"]))
        ]
        items = matching[:limit]
        if len(matching) <= limit:
            return Page(items=items, next_token=None)
        last = items[-1]
        return Page(
            items=items,
            next_token=encode_token({"lastMessageAt": last.last_message_at, "sessionId": last.session_id}),
        )

    async def update_session(self, user_id: str, session_id: str, changes: SessionChanges) -> SessionMetadata | None:
        stored = self._owned(user_id, session_id)
        if stored is None:
            return None
        stored.metadata = changes.apply_to(stored.metadata)
        return stored.metadata

    async def delete_session(self, user_id: str, session_id: str) -> SessionMetadata | None:
        stored = self._owned(user_id, session_id)
        if stored is None:
            return None
        del self._sessions[session_id]
        return stored.metadata

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
        # Nothing here awaits, so the whole write is atomic within the event loop.
        stored = self._owned(user_id, session_id)
        if stored is None:
            raise SessionNotFound(f"session {session_id} not found")
        current = stored.messages.get(message.message_id)
        if current == message:
            return stored.metadata  # a retry of a write that landed
        if replaces is None and current is not None:
            raise MessageIdTaken(f"message {message.message_id} is stored already")
        if replaces is not None and current != replaces:
            raise MessageSuperseded(f"message {message.message_id} changed since its checkpoint")
        stored.messages[message.message_id] = message
        stored.metadata = stored.metadata.with_message_counted(message, replaces).with_preferences(preferences)
        if cost is not None:
            self._costs.add_now(cost)
        return stored.metadata

    async def list_messages(
        self, user_id: str, session_id: str, *, limit: int, page_token: str | None = None
    ) -> Page[Message]:
        after = decode_token(page_token, fields=("messageId",))["messageId"] if page_token is not None else None
        stored = self._owned(user_id, session_id)
        if stored is None:
            raise SessionNotFound(f"session {session_id} not found")
        ordered = [stored.messages[key] for key in sorted(stored.messages) if after is None or key > after]
        items = ordered[:limit]
        more = len(ordered) > limit
        return Page(items=items, next_token=encode_token({"messageId": items[-1].message_id}) if more else None)

    async def list_recent_messages(self, user_id: str, session_id: str, *, limit: int) -> list[Message]:
        stored = self._owned(user_id, session_id)
        if stored is None:
            raise SessionNotFound(f"session {session_id} not found")
        return [stored.messages[key] for key in sorted(stored.messages)[-limit:]] if limit > 0 else []

    async def ping(self) -> None:
        return None
