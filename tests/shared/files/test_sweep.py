"""The sweep of uploads that were never completed: bytes and records go, ready files and recent uploads stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from apis.shared.clock import to_iso, utc_now
from apis.shared.config import FilesSettings
from apis.shared.files import FILE_TYPES, FileRecord, FileRepository, FileStatus
from apis.shared.files import service as files_service
from apis.shared.storage import Storage
from tests.helpers import random_session_id, random_user_id

SETTINGS = FilesSettings(files_stale_upload_seconds=3600, files_upload_url_seconds=900, files_max_user_bytes=10**6)


async def stored(storage: Storage, *, age_seconds: int, status: FileStatus, with_bytes: bool = True) -> FileRecord:
    """A record made `age_seconds` ago, with its bytes in the store, brought to `status`."""
    record = files_service.new_record(
        user_id=random_user_id(),
        session_id=random_session_id(),
        filename="notes.txt",
        file_type=FILE_TYPES["txt"],
        size_bytes=5,
    )
    made = to_iso(utc_now() - timedelta(seconds=age_seconds))
    record = record.model_copy(update={"created_at": made, "updated_at": made})
    await storage.files.create_file(record)
    if with_bytes:
        await storage.blobs.put(record.storage_key, b"notes", content_type=record.mime_type)
    if status is FileStatus.READY:
        await storage.files.mark_ready(record.user_id, record.upload_id, max_user_bytes=10**6, now=made)
    elif status is FileStatus.FAILED:
        await storage.files.mark_failed(record.user_id, record.upload_id, now=made)
    return record


async def test_old_unfinished_uploads_are_swept_and_the_rest_stay(storage: Storage) -> None:
    old_pending = await stored(storage, age_seconds=7200, status=FileStatus.PENDING)
    old_without_bytes = await stored(storage, age_seconds=7200, status=FileStatus.PENDING, with_bytes=False)
    old_failed = await stored(storage, age_seconds=7200, status=FileStatus.FAILED, with_bytes=False)
    old_ready = await stored(storage, age_seconds=7200, status=FileStatus.READY)
    recent_pending = await stored(storage, age_seconds=60, status=FileStatus.PENDING)

    swept = await files_service.sweep_stale_uploads(files=storage.files, blobs=storage.blobs, settings=SETTINGS)

    assert swept >= 3  # a shared moto table may hold stale uploads of other tests too
    for gone in (old_pending, old_without_bytes, old_failed):
        assert await storage.files.get_file(gone.user_id, gone.upload_id) is None
        assert await storage.blobs.get(gone.storage_key) is None
    for kept in (old_ready, recent_pending):
        assert await storage.files.get_file(kept.user_id, kept.upload_id) is not None
        assert await storage.blobs.get(kept.storage_key) == b"notes"
    usage = await storage.files.get_usage(old_ready.user_id)
    assert (usage.used_bytes, usage.file_count) == (5, 1)


async def test_a_sweep_with_nothing_to_do_deletes_nothing(storage: Storage) -> None:
    recent = await stored(storage, age_seconds=10, status=FileStatus.PENDING)

    await files_service.sweep_stale_uploads(files=storage.files, blobs=storage.blobs, settings=SETTINGS)

    assert await storage.files.get_file(recent.user_id, recent.upload_id) is not None


class LaggingListing:
    """A repository whose stale-upload listing is a snapshot taken earlier, as a lagging index would give."""

    def __init__(self, inner: FileRepository, snapshot: list[FileRecord]) -> None:
        self.inner = inner
        self.snapshot = snapshot

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def list_stale_uploads(self, *, created_before: str, limit: int) -> list[FileRecord]:
        return self.snapshot[:limit]


async def test_an_upload_completed_after_it_was_listed_is_left_alone(storage: Storage) -> None:
    record = await stored(storage, age_seconds=7200, status=FileStatus.PENDING)
    snapshot = [record]
    await storage.files.mark_ready(record.user_id, record.upload_id, max_user_bytes=10**6, now=record.created_at)
    lagging = cast("FileRepository", LaggingListing(storage.files, snapshot))

    swept = await files_service.sweep_stale_uploads(files=lagging, blobs=storage.blobs, settings=SETTINGS)

    assert swept == 0
    kept = await storage.files.get_file(record.user_id, record.upload_id)
    assert kept is not None
    assert kept.status is FileStatus.READY
    assert await storage.blobs.get(record.storage_key) == b"notes"


async def test_a_complete_that_comes_after_the_sweep_marked_the_upload_is_refused(storage: Storage) -> None:
    record = await stored(storage, age_seconds=7200, status=FileStatus.PENDING)
    lagging = cast("FileRepository", LaggingListing(storage.files, [record]))
    await files_service.sweep_stale_uploads(files=lagging, blobs=storage.blobs, settings=SETTINGS)

    completed = await storage.files.mark_ready(
        record.user_id, record.upload_id, max_user_bytes=10**6, now=record.created_at
    )

    assert completed is None, "the swept upload is gone: its late complete finds nothing to make ready"
    assert (await storage.files.get_usage(record.user_id)).used_bytes == 0
