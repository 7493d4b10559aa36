"""Session metadata and messages as the domain and the API see them (camelCase on the wire)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field, StringConstraints, field_validator

from apis.shared.partial_updates import PartialUpdate, merged
from apis.shared.schemas import ApiModel

# Ids a client may choose (AgentCore sends its own session ids): letters, digits and . _ : - only.
SESSION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
SessionId = Annotated[str, StringConstraints(pattern=SESSION_ID_PATTERN)]


class SessionStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(StrEnum):
    COMPLETE = "complete"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    # An answer still being written: the checkpoint a live turn keeps durable while it streams. A later write
    # of the same message replaces it; if none comes in time, readers mark it `interrupted` (messages.py).
    STREAMING = "streaming"


class SessionPreferences(ApiModel):
    last_model: str | None = None
    last_temperature: float | None = None
    enabled_tools: list[str] | None = None
    assistant_id: str | None = None
    system_prompt_hash: str | None = None


class SessionMetadata(ApiModel):
    session_id: str
    title: str
    status: SessionStatus = SessionStatus.ACTIVE
    created_at: str
    last_message_at: str
    message_count: int = 0
    starred: bool = False
    tags: list[str] = Field(default_factory=list)
    preferences: SessionPreferences = Field(default_factory=SessionPreferences)
    total_cost: float = 0.0

    def with_preferences(self, preferences: SessionPreferences | None) -> SessionMetadata:
        """The session with the preferences that were set in `preferences` replaced, the others kept."""
        if preferences is None:
            return self
        sent = {name: getattr(preferences, name) for name in preferences.model_fields_set}
        return self.model_copy(update={"preferences": self.preferences.model_copy(update=sent)})

    def with_message_counted(self, message: Message, replaces: Message | None = None) -> SessionMetadata:
        """The session once `message` is stored: counted, its cost added, lastMessageAt at the newest message.

        A message that replaces its own checkpoint (`replaces`) was counted when the checkpoint was stored:
        only the difference in cost is added.
        """
        if replaces is not None:
            return self.model_copy(update={"total_cost": self.total_cost + message.cost - replaces.cost})
        return self.model_copy(
            update={
                "message_count": self.message_count + 1,
                "last_message_at": max(self.last_message_at, message.created_at),
                "total_cost": self.total_cost + message.cost,
            }
        )


class SessionChanges(PartialUpdate):
    """A partial update (see partial_updates.py): only the fields sent change; `tags: null` empties the tags,
    a null title, status or starred is a 422. Preferences merge field by field (a null inside one clears that
    preference), and `preferences: null` clears them all."""

    record: ClassVar[type[BaseModel]] = SessionMetadata

    title: str | None = Field(default=None, min_length=1, max_length=200)
    status: SessionStatus | None = None
    starred: bool | None = None
    tags: list[str] | None = Field(default=None, max_length=50)
    preferences: SessionPreferences | None = None

    @field_validator("preferences", mode="before")
    @classmethod
    def _null_clears_every_preference(cls, value: Any) -> Any:
        return dict.fromkeys(SessionPreferences.model_fields) if value is None else value

    def apply_to(self, session: SessionMetadata) -> SessionMetadata:
        """`session` with the sent fields replaced, validated as a whole (InvalidInput, 422, otherwise)."""
        changes = self.sent_fields()
        if self.preferences is not None:
            sent = {name: getattr(self.preferences, name) for name in self.preferences.model_fields_set}
            changes["preferences"] = merged(session.preferences, sent)
        return merged(session, changes)


class TokenUsage(ApiModel):
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0


class Latency(ApiModel):
    time_to_first_byte_ms: float | None = None
    latency_ms: float | None = None


class ModelInfo(ApiModel):
    model_id: str
    model_name: str
    provider: str
    pricing_snapshot: dict[str, float] | None = None


class MessageMetadata(ApiModel):
    token_usage: TokenUsage | None = None
    latency: Latency | None = None
    model_info: ModelInfo | None = None
    cost: float | None = None
    citations: list[dict[str, Any]] | None = None


class Message(ApiModel):
    """One stored message. Content blocks keep the Converse shape: {"text": ...}, {"toolUse": ...}, ..."""

    message_id: str
    role: MessageRole
    content: list[dict[str, Any]]
    status: MessageStatus = MessageStatus.COMPLETE
    created_at: str
    # When this version of the message was written; a checkpoint's time tells readers whether its turn lives.
    updated_at: str | None = None
    metadata: MessageMetadata = Field(default_factory=MessageMetadata)

    @property
    def cost(self) -> float:
        return self.metadata.cost or 0.0
