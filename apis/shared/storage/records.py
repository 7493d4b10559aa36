"""Reading stored records back when one of them no longer validates (written by a bug, or by another version).

Such a record must not take down more than itself: a list skips it, and a start that reads it goes on. Only a
request that needs that very record fails, with `CorruptRecord` (500 `corrupt_record`), and the record stays
as stored so that it can be repaired or deleted. Either way the problem is logged as an error, without the
record's values, and counted in `colloquy_invalid_records_total{kind}`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

from apis.shared.errors import CorruptRecord
from apis.shared.observability import INVALID_RECORDS, SUPPRESSED_ERRORS

T = TypeVar("T")
logger = logging.getLogger(__name__)


def _problems(exc: ValueError) -> str:
    """What is wrong, without the stored values (they may be personal data)."""
    if not isinstance(exc, ValidationError):
        return type(exc).__name__  # not even JSON; its message would quote the bytes
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
        for error in exc.errors(include_url=False, include_input=False)
    )


def _report(kind: str, key: str, exc: ValueError, *, action: str) -> None:
    problems = _problems(exc)
    INVALID_RECORDS.labels(kind=kind).inc()
    logger.error(
        "stored %s %s cannot be read (%s): %s",
        kind,
        key,
        action,
        problems,
        extra={"recordKind": kind, "recordKey": key},
    )


def corrupt(kind: str, key: str) -> CorruptRecord:
    """The error of a request that needs the unreadable record `key` (already reported when it was read)."""
    return CorruptRecord(f"the stored {kind} {key} cannot be read (see the service log); it is left as stored")


def read_or_raise(kind: str, key: str, parse: Callable[[], T]) -> T:
    """`parse()`, the record named `key`; CorruptRecord if it does not validate. `parse` only parses: a
    ValueError from it means the stored data, never a failure of the backend."""
    try:
        return parse()
    except ValueError as exc:  # a pydantic ValidationError, or a body that is not JSON at all
        _report(kind, key, exc, action="refused")
        raise corrupt(kind, key) from exc


def read_or_skip(kind: str, key: str, parse: Callable[[], T]) -> T | None:
    """`parse()`, the record named `key`; None, logged and counted, if it does not validate: for lists."""
    try:
        return parse()
    except ValueError as exc:  # suppressed: one unreadable record must not hide all the others of a list
        _report(kind, key, exc, action="skipped")
        SUPPRESSED_ERRORS.labels(where="storage.unreadable_record").inc()
        return None
