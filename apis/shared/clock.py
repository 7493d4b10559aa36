"""Time and identifiers, in one place so that every record formats them alike."""

from __future__ import annotations

from datetime import UTC, datetime

import uuid6


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a `Z`: fixed width, so strings sort as times do. (isoformat, not
    strftime: half the time, and a turn formats a dozen.)"""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def now_iso() -> str:
    return to_iso(utc_now())


def new_id() -> str:
    """A UUIDv7: time-ordered (monotonic within a process), so ids of one session sort as they were made."""
    return str(uuid6.uuid7())
