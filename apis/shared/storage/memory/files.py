"""A dict-backed FileRepository: the fake that service tests use, held to the same contract suite.

No method awaits between reading and writing, so on one event loop each call is atomic, as a transaction is.
Records are copied in and out: a caller that changes a record it holds does not change what is stored.
"""

from __future__ import annotations

from apis.shared.errors import ConflictError
from apis.shared.files.exceptions import FileNotPending, StorageQuotaExceeded
from apis.shared.files.listing import NEWEST_FIRST, FileSort, decode_cursor, encode_cursor
from apis.shared.files.models import FileRecord, FileStatus, FileUsage
from apis.shared.pagination import Page


class MemoryFileRepository:
    """Keeps everything in one process; nothing survives a restart."""

    def __init__(self) -> None:
        self._files: dict[str, FileRecord] = {}
        self._usage: dict[str, FileUsage] = {}

    def _owned(self, user_id: str, upload_id: str) -> FileRecord | None:
        record = self._files.get(upload_id)
        return record if record is not None and record.user_id == user_id else None

    def _charge(self, user_id: str, size_bytes: int, files: int) -> None:
        usage = self._usage.get(user_id, FileUsage())
        self._usage[user_id] = FileUsage(used_bytes=usage.used_bytes + size_bytes, file_count=usage.file_count + files)

    async def create_file(self, record: FileRecord) -> FileRecord:
        if record.upload_id in self._files:
            raise ConflictError(f"upload id {record.upload_id} is taken")
        self._files[record.upload_id] = record.model_copy()
        return record.model_copy()

    async def get_file(self, user_id: str, upload_id: str) -> FileRecord | None:
        record = self._owned(user_id, upload_id)
        return record.model_copy() if record is not None else None

    async def mark_ready(self, user_id: str, upload_id: str, *, max_user_bytes: int, now: str) -> FileRecord | None:
        record = self._owned(user_id, upload_id)
        if record is None:
            return None
        if record.status != FileStatus.PENDING:
            raise FileNotPending.of(record.upload_id, record.status)
        used = self._usage.get(user_id, FileUsage()).used_bytes
        if used + record.size_bytes > max_user_bytes:
            raise StorageQuotaExceeded.of(used_bytes=used, max_user_bytes=max_user_bytes, size_bytes=record.size_bytes)
        ready = record.model_copy(update={"status": FileStatus.READY, "updated_at": now})
        self._files[upload_id] = ready
        self._charge(user_id, record.size_bytes, 1)
        return ready.model_copy()

    async def mark_failed(self, user_id: str, upload_id: str, *, now: str) -> FileRecord | None:
        record = self._owned(user_id, upload_id)
        if record is None:
            return None
        if record.status != FileStatus.PENDING:
            raise FileNotPending.of(record.upload_id, record.status)
        failed = record.model_copy(update={"status": FileStatus.FAILED, "updated_at": now})
        self._files[upload_id] = failed
        return failed.model_copy()

    async def delete_file(self, user_id: str, upload_id: str) -> FileRecord | None:
        record = self._owned(user_id, upload_id)
        if record is None:
            return None
        del self._files[upload_id]
        if record.status == FileStatus.READY:
            self._charge(user_id, -record.size_bytes, -1)
        return record

    async def list_files(
        self,
        user_id: str,
        *,
        limit: int,
        page_token: str | None = None,
        session_id: str | None = None,
        sort: FileSort = NEWEST_FIRST,
    ) -> Page[FileRecord]:
        after = decode_cursor(page_token, sort=sort, session_id=session_id) if page_token is not None else None
        matching = sorted(
            (
                record
                for record in self._files.values()
                if record.user_id == user_id
                and record.status == FileStatus.READY
                and (session_id is None or record.session_id == session_id)
            ),
            key=sort.key,
            reverse=sort.descending,
        )
        if after is not None:
            matching = [
                r for r in matching if (sort.key(r) < after.key if sort.descending else sort.key(r) > after.key)
            ]
        items = [record.model_copy() for record in matching[:limit]]
        more = len(matching) > limit
        token = encode_cursor(items[-1], sort=sort, session_id=session_id) if more else None
        return Page(items=items, next_token=token)

    async def list_session_files(self, user_id: str, session_id: str) -> list[FileRecord]:
        return [
            record.model_copy()
            for record in sorted(self._files.values(), key=lambda record: record.upload_id)
            if record.user_id == user_id and record.session_id == session_id
        ]

    async def get_usage(self, user_id: str) -> FileUsage:
        return self._usage.get(user_id, FileUsage()).model_copy()

    async def list_stale_uploads(self, *, created_before: str, limit: int) -> list[FileRecord]:
        unfinished = sorted(
            (
                record
                for record in self._files.values()
                if record.status != FileStatus.READY and record.created_at < created_before
            ),
            key=lambda record: (record.created_at, record.upload_id),
        )
        return [record.model_copy() for record in unfinished[:limit]]
