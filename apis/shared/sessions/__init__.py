"""Conversations: session metadata and message history, owned by one user each."""

from apis.shared.sessions import messages, metadata
from apis.shared.sessions.exceptions import SessionIdTaken, SessionNotFound
from apis.shared.sessions.models import (
    Latency,
    Message,
    MessageMetadata,
    MessageRole,
    MessageStatus,
    ModelInfo,
    SessionChanges,
    SessionMetadata,
    SessionPreferences,
    SessionStatus,
    TokenUsage,
)
from apis.shared.sessions.repository import SessionRepository

__all__ = [
    "Latency",
    "Message",
    "MessageMetadata",
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
