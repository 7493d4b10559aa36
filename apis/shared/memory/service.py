"""Long-term memory's service: list, search, remember, forget, and each user's switch.

Every function takes the owner's id from the caller (the token), never from a request body. A user holds at most
MEMORY_MAX_RECORDS_PER_USER records of each kind (the repository enforces it), so listing "all of a user's
records of a kind" and scoring them here is a bounded read of their own partition, whichever backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apis.shared.clock import new_id, now_iso
from apis.shared.config import MemorySettings
from apis.shared.errors import RuleViolation
from apis.shared.memory import relevance
from apis.shared.memory.exceptions import MemoryNotFound
from apis.shared.memory.models import MAX_CONTENT_CHARS, MAX_SUBJECT_CHARS, MemoryKind, MemoryRecord, ScoredMemory
from apis.shared.memory.repository import MemoryRepository

# More than a user can hold of all three kinds (MEMORY_MAX_RECORDS_PER_USER is at most 100,000 a kind): a read
# with this limit is "every record", bounded by the repository's cap rather than by the limit.
EVERY_RECORD = 300_000
# How often `remember` reads again when the record it meant to replace was replaced by another writer first.
_REPLACE_ATTEMPTS = 3


def enabled(settings: MemorySettings) -> bool:
    """Whether this deployment has long-term memory at all (MEMORY_ENABLED)."""
    return settings.memory_enabled


async def enabled_for(memories: MemoryRepository, *, user_id: str, settings: MemorySettings) -> bool:
    """Whether a turn of `user_id` may recall and extract: the deployment has memory and the user did not opt out."""
    return settings.memory_enabled and not await memories.opted_out(user_id)


async def set_enabled_for(memories: MemoryRepository, *, user_id: str, enabled: bool) -> bool:
    """Turn memory on or off for `user_id` (their records stay until they delete them); returns `enabled`."""
    await memories.set_opted_out(user_id, not enabled)
    return enabled


async def list_memories(
    memories: MemoryRepository,
    *,
    user_id: str,
    kinds: Sequence[MemoryKind],
    limit: int,
    session_id: str | None = None,
) -> list[MemoryRecord]:
    """The user's records of `kinds` (of one source session, if given), newest first, at most `limit`."""
    return await memories.list_records(user_id, kinds, limit=limit, session_id=session_id)


async def search(
    memories: MemoryRepository,
    *,
    user_id: str,
    kinds: Sequence[MemoryKind],
    query: str,
    top_k: int,
    min_score: float = 0.0,
    session_id: str | None = None,
) -> list[ScoredMemory]:
    """The user's records of `kinds` most relevant to `query`, best first, at most `top_k`, each scoring at least
    `min_score` (0..1, relevance.py); a record that shares no word with the query never matches."""
    if top_k <= 0:
        return []
    records = await memories.list_records(user_id, kinds, limit=EVERY_RECORD, session_id=session_id)
    return relevance.rank(query, records, min_score=min_score)[:top_k]


async def get_or_raise(memories: MemoryRepository, *, user_id: str, record_id: str) -> MemoryRecord:
    """The user's record; MemoryNotFound (404) if they have none with this id, whoever else might."""
    record = await memories.get(user_id, record_id)
    if record is None:
        raise MemoryNotFound(record_id)
    return record


async def delete_own(memories: MemoryRepository, *, user_id: str, record_id: str) -> None:
    """Forget one of the user's records; MemoryNotFound (404) if they have none with this id."""
    if not await memories.delete(user_id, record_id):
        raise MemoryNotFound(record_id)


def _subject_key(subject: str | None) -> str | None:
    key = relevance.normalized(subject) if subject else ""
    return key or None


def _same_content(record: MemoryRecord, wanted: str, kind: MemoryKind, session_id: str | None) -> bool:
    """Whether `record` says `wanted` already (a summary only of its own session)."""
    if kind is MemoryKind.SUMMARY and record.source_session_id != session_id:
        return False
    return relevance.normalized(record.content) == wanted


def _same_subject(record: MemoryRecord, kind: MemoryKind, subject: str | None, session_id: str | None) -> bool:
    """Whether a new record on (`subject`, `session_id`) supersedes `record`: the same subject, or, for a summary
    without one, the same session (a session has one summary, rewritten as the conversation goes on)."""
    if subject is not None:
        return _subject_key(record.subject) == subject
    return kind is MemoryKind.SUMMARY and session_id is not None and record.source_session_id == session_id


async def remember(
    memories: MemoryRepository,
    *,
    user_id: str,
    kind: MemoryKind,
    content: str,
    subject: str | None,
    source_session_id: str | None,
    settings: MemorySettings,
    metadata: Mapping[str, Any] | None = None,
) -> MemoryRecord:
    """Store what was learnt of the user, merged with what is known already, and return the record that holds it:

    - the same content (normalised: case, spaces, end punctuation) as a record of this kind: that record, unchanged;
    - the same `subject` as a record of this kind (a contradiction or an update), or for a summary with no subject
      the same session: a new record replaces it, in one atomic write;
    - otherwise a new record; past MEMORY_MAX_RECORDS_PER_USER of the kind, the oldest goes.

    It does not look at the switches: the caller checks `enabled_for` first. Content and subject longer than a
    record holds are cut to fit; content with nothing but spaces is a RuleViolation.
    """
    text = content.strip()[:MAX_CONTENT_CHARS].strip()
    if not text:
        raise RuleViolation("a memory needs some content", code="memory_empty")
    stored_subject = (subject or "").strip()[:MAX_SUBJECT_CHARS].strip() or None
    key = _subject_key(stored_subject)
    moment = now_iso()
    record = MemoryRecord(
        record_id=new_id(),
        user_id=user_id,
        kind=kind,
        content=text,
        subject=stored_subject,
        source_session_id=source_session_id,
        created_at=moment,
        updated_at=moment,
        metadata=dict(metadata or {}),
    )
    wanted = relevance.normalized(text)
    for _ in range(_REPLACE_ATTEMPTS):
        known = await memories.list_records(user_id, [kind], limit=EVERY_RECORD)
        duplicate = next((old for old in known if _same_content(old, wanted, kind, source_session_id)), None)
        if duplicate is not None:
            return duplicate
        superseded = next((old for old in known if _same_subject(old, kind, key, source_session_id)), None)
        if superseded is None:
            break
        stored = await memories.replace(user_id, superseded.record_id, record)
        if stored is not None:
            return stored
        # Another writer replaced or deleted it meanwhile: read again, and merge with what it left.
    return await memories.add(record, max_per_kind=settings.memory_max_records_per_user)


async def forget_session(memories: MemoryRepository, *, user_id: str, session_id: str) -> int:
    """Remove the summaries of a session that is being deleted: they describe a conversation that no longer
    exists. Preferences and facts learnt in it are about the user, not the conversation, and stay."""
    summaries = await memories.list_records(user_id, [MemoryKind.SUMMARY], limit=EVERY_RECORD, session_id=session_id)
    for record in summaries:
        await memories.delete(user_id, record.record_id)
    return len(summaries)
