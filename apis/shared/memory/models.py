"""Long-term memory records as the domain sees them: what the assistant remembers of one user.

A record is a preference ("prefers answers in French"), a fact ("the team deploys on Fridays") or the summary of
one of the user's sessions. Records belong to exactly one user, named by the caller's token and never by a
request. `subject` is a short normalised key of what a record is about (e.g. "deploy day"): a newer record on
the same subject replaces the older one, which is how a contradiction ("we moved deploys to Tuesdays") wins.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_CONTENT_CHARS = 2000
MAX_SUBJECT_CHARS = 200


class MemoryKind(StrEnum):
    PREFERENCE = "preference"
    FACT = "fact"
    SUMMARY = "summary"


class MemoryRecord(BaseModel):
    """One stored memory. `record_id` is a UUIDv7 (ordered by creation); times are the shared ISO format."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_id: str = Field(min_length=1, max_length=64)
    user_id: str = Field(min_length=1, max_length=256)
    kind: MemoryKind
    content: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)
    subject: str | None = Field(default=None, max_length=MAX_SUBJECT_CHARS)
    # The session the record was learnt from (for a summary: the session it summarises).
    source_session_id: str | None = None
    created_at: str
    updated_at: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class ScoredMemory(BaseModel):
    """A record with its relevance to a query, from 0 (unrelated) to 1."""

    model_config = ConfigDict(frozen=True)

    record: MemoryRecord
    score: float = Field(ge=0.0, le=1.0)
