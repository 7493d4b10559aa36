"""WriteHealth: a failed write counts until a write succeeds or it grows old; the probe speaks when no write did.

The services' own reproductions, on each backend, are in tests/test_storage_failures_local.py and
tests/test_storage_failures_dynamo.py; these pin the rules themselves.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from apis.shared.clock import new_id
from apis.shared.errors import StorageError
from apis.shared.files.models import attachment_key
from apis.shared.storage.local_blobs import LocalBlobStore
from apis.shared.storage.write_health import WriteHealth, folder_problem
from tests.helpers import random_user_id


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_failure_counts_until_a_write_succeeds() -> None:
    writes = WriteHealth(failure_seconds=60, clock=Clock())

    assert await writes.problem() is None
    writes.failed("SQLITE_FULL")
    assert await writes.problem() == "SQLITE_FULL (0 s ago)"
    writes.succeeded()
    assert await writes.problem() is None


async def test_a_failure_older_than_the_window_no_longer_counts() -> None:
    clock = Clock()
    writes = WriteHealth(failure_seconds=60, clock=clock)
    writes.failed("PutItem: ThrottlingException")

    clock.now += 45
    assert await writes.problem() == "PutItem: ThrottlingException (45 s ago)"
    clock.now += 16
    assert await writes.problem() is None


async def test_the_probe_speaks_when_no_recent_write_failed() -> None:
    writes = WriteHealth(clock=Clock(), probe=lambda: "DATA_DIR is missing or not writable")

    assert await writes.problem() == "DATA_DIR is missing or not writable"
    writes.failed("SQLITE_READONLY")
    assert await writes.problem() == "SQLITE_READONLY (0 s ago)"


def test_the_folder_probe_checks_the_folder_its_files_and_the_free_space(tmp_path: Path) -> None:
    database = tmp_path / "colloquy.sqlite3"
    database.write_bytes(b"")

    assert folder_problem(tmp_path, [database, tmp_path / "absent"], min_free_bytes=0) is None
    assert folder_problem(tmp_path / "absent", [], min_free_bytes=0) == "DATA_DIR is missing or not writable"
    short = folder_problem(tmp_path, [database], min_free_bytes=2**62)
    assert short is not None
    assert "STORAGE_MIN_FREE_BYTES" in short
    assert str(tmp_path) not in short


async def test_a_local_blob_write_reports_how_it_fared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writes = WriteHealth(clock=Clock())
    store = LocalBlobStore(tmp_path / "blobs", writes=writes)
    key = attachment_key(random_user_id(), new_id())

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", no_space)
        with pytest.raises(StorageError):
            await store.put(key, b"bytes", content_type="text/plain")
    assert await writes.problem() == "local blob store: ENOSPC (0 s ago)"

    await store.put(key, b"bytes", content_type="text/plain")
    assert await writes.problem() is None
