"""Conversations: session metadata and message history, owned by one user each."""

from apis.shared.schemas import ApiModel
from apis.shared.sessions import messages, metadata
from apis.shared.sessions.exceptions import MessageIdTaken, MessageSuperseded, SessionIdTaken, SessionNotFound
from apis.shared.sessions.models import (
    SESSION_ID_PATTERN,
    Latency,
    Message,
    MessageMetadata,
    MessageRole,
    MessageStatus,
    ModelInfo,
    SessionChanges,
    SessionId,
    SessionMetadata,
    SessionPreferences,
    SessionStatus,
    TokenUsage,
)
from apis.shared.sessions.repository import SessionRepository

__all__ = [
    "SESSION_ID_PATTERN",
    "ApiModel",
    "SessionId",
    "Latency",
    "Message",
    "MessageIdTaken",
    "MessageMetadata",
    "MessageSuperseded",
    "MessageRole",
    "MessageStatus",
    "ModelInfo",
    "SessionChanges",
    "SessionIdTaken",
    "SessionMetadata",
    "SessionNotFound",
    "SessionPreferences",
    "SessionRepository",
    "SessionStatus",
    "TokenUsage",
    "messages",
    "metadata",
]
