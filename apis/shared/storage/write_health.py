"""Whether a store can take writes, as its own writes and a probe that writes nothing tell: what GET /health
reports as `storageWrites`.

A store can answer every read while refusing every write: a full disk, a read-only file or mount, a lock that
another process holds, DynamoDB throttling or a policy that denies writes. A ping reads, so it cannot see that,
and writing a probe record on every health call would add a write per load balancer check. Instead:

- Each backend reports the outcome of its real writes where it meets them: SQLite where its failures are
  translated (`translate_errors`) and through its change count; DynamoDB and S3 through botocore's events for
  their write operations; the local blob store where it translates an OSError. Failures that say the store is
  unwell count (full, read-only, busy, unreachable, throttled, denied); a refusal of one request (a condition
  that did not hold, a value out of range) does not.
- Writes are failing while the latest counted failure came after the latest success, for at most
  `STORAGE_WRITE_FAILURE_SECONDS`: past that, health stops reporting it until a write fails again. An instance
  a load balancer took out of service gets no writes that could clear it, so it is tried again rather than
  left out for ever.
- The backend's probe runs on each health call and writes nothing: for the local backend, free space under
  DATA_DIR (at least `STORAGE_MIN_FREE_BYTES`) and write permission on DATA_DIR and the database file.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from apis.shared.errors import StorageError

DEFAULT_FAILURE_SECONDS = 60.0
_MIB = 1024 * 1024

# Why the store cannot take writes now, or None; it may raise StorageError when it cannot even look.
Probe = Callable[[], str | None]


@dataclass(frozen=True, slots=True)
class _Failure:
    at: float  # time.monotonic()
    reason: str


class WriteHealth:
    """The latest word on one store's writes, shared by its repositories and read by GET /health.

    `succeeded` is on every write's path, so it is one attribute store: no clock, no lock. Worker threads call
    both methods; a success that finishes just after a failure clears it, which is the right answer too.
    """

    def __init__(
        self,
        *,
        failure_seconds: float = DEFAULT_FAILURE_SECONDS,
        probe: Probe | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._failure_seconds = failure_seconds
        self._probe = probe
        self._clock = clock
        self._failure: _Failure | None = None

    def succeeded(self) -> None:
        """A write reached the store and was applied."""
        self._failure = None

    def failed(self, reason: str) -> None:
        """A write failed in a way that says the store is unwell; `reason` is short and names no path."""
        self._failure = _Failure(self._clock(), reason)

    def recorded_failure(self) -> str | None:
        """The latest failure with its age, if no write has succeeded since and it is recent enough to count."""
        failure = self._failure
        if failure is None:
            return None
        age = self._clock() - failure.at
        return f"{failure.reason} ({age:.0f} s ago)" if age <= self._failure_seconds else None

    async def problem(self) -> str | None:
        """Why writes fail now, or None: a recent failure of a real write, else what the probe finds."""
        recorded = self.recorded_failure()
        if recorded is not None:
            return recorded
        if self._probe is None:
            return None
        return await anyio.to_thread.run_sync(self._probe)


def folder_problem(folder: Path, files: Sequence[Path], *, min_free_bytes: int) -> str | None:
    """A probe for stores in a folder: it must be writable, and so must each of `files` that exists, and it
    must have `min_free_bytes` free. Reasons name DATA_DIR, never a path: health answers without a token."""
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return "DATA_DIR is missing or not writable"
    for path in files:
        if path.exists() and not os.access(path, os.W_OK):
            return f"{path.name} in DATA_DIR is not writable"
    try:
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        raise StorageError("the free space under DATA_DIR cannot be read") from exc
    if free < min_free_bytes:
        return (
            f"{free // _MIB} MiB free under DATA_DIR, less than STORAGE_MIN_FREE_BYTES ({min_free_bytes // _MIB} MiB)"
        )
    return None
