"""FileRepository on SQLite: a row per attachment in `files` and a usage row per user in `file_usage`.

A status change and the usage change it causes run in one write transaction (BEGIN IMMEDIATE), which also
reads the status and the usage they depend on: no other writer, in this process or the other service, can
come between the check and the write. Usage is changed by an upsert that adds to the stored numbers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from apis.shared.errors import ConflictError
from apis.shared.files.exceptions import FileNotPending, StorageQuotaExceeded
from apis.shared.files.listing import NEWEST_FIRST, FileSort, FileSortBy, decode_cursor, encode_cursor
from apis.shared.files.models import FileRecord, FileStatus, FileUsage
from apis.shared.pagination import Page
from apis.shared.storage.sqlite.database import SqliteDatabase, write_transaction

# The column each order sorts by before the upload id (which alone is the order by upload).
_SORT_COLUMNS = {FileSortBy.SIZE: "size_bytes", FileSortBy.TYPE: "mime_type"}
# The columns of `files`, named as FileRecord's fields, so a row validates straight into a record.
_COLUMNS = (
    "upload_id",
    "user_id",
    "session_id",
    "filename",
    "mime_type",
    "size_bytes",
    "storage_key",
    "status",
    "created_at",
    "updated_at",
)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM files"
_INSERT = (
    f"INSERT INTO files ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
    " ON CONFLICT (upload_id) DO NOTHING"
)
# Unfinished uploads of every user, oldest first. The status condition is a literal, written exactly as the
# WHERE of the partial index files_unfinished_by_age (migration 0007): SQLite uses a partial index only when
# the query's own terms imply its condition, which a bound parameter never does.
STALE_UPLOADS_QUERY = (
    f"{_SELECT} WHERE status IN ('pending', 'failed') AND created_at < ? ORDER BY created_at, upload_id LIMIT ?"
)
_CHARGE = (
    "INSERT INTO file_usage (user_id, used_bytes, file_count) VALUES (?, ?, ?)"
    " ON CONFLICT (user_id) DO UPDATE SET used_bytes = used_bytes + excluded.used_bytes,"
    " file_count = file_count + excluded.file_count"
)


def list_query(sort: FileSort, *, session: bool, after: bool) -> str:
    """The list's SELECT for `sort`, with named parameters: user_id, limit, and session_id, value and upload_id
    when `session` and `after` (a cursor) apply.

    `status = 'ready'` is a literal so that the partial indexes of migration 0009 apply; the cursor is a
    row-value comparison on (sort column, upload id), which SQLite answers from those indexes.
    """
    column = _SORT_COLUMNS.get(sort.by)
    direction, past = ("DESC", "<") if sort.descending else ("ASC", ">")
    conditions = ["user_id = :user_id", "status = 'ready'"]
    if session:
        conditions.append("session_id = :session_id")
    if after:
        conditions.append(
            f"upload_id {past} :upload_id" if column is None else f"({column}, upload_id) {past} (:value, :upload_id)"
        )
    order = f"upload_id {direction}" if column is None else f"{column} {direction}, upload_id {direction}"
    return f"{_SELECT} WHERE {' AND '.join(conditions)} ORDER BY {order} LIMIT :limit"


def _record(row: Sequence[Any]) -> FileRecord:
    return FileRecord.model_validate(dict(zip(_COLUMNS, row, strict=True)))


def _read_owned(connection: sqlite3.Connection, user_id: str, upload_id: str) -> FileRecord | None:
    row = connection.execute(f"{_SELECT} WHERE upload_id = ? AND user_id = ?", (upload_id, user_id)).fetchone()
    return _record(row) if row else None


def _read_pending(connection: sqlite3.Connection, user_id: str, upload_id: str) -> FileRecord | None:
    """The caller's record inside a write transaction: None if there is none, FileNotPending unless pending."""
    current = _read_owned(connection, user_id, upload_id)
    if current is not None and current.status != FileStatus.PENDING:
        raise FileNotPending.of(current.upload_id, current.status)
    return current


def _read_usage(connection: sqlite3.Connection, user_id: str) -> FileUsage:
    row = connection.execute("SELECT used_bytes, file_count FROM file_usage WHERE user_id = ?", (user_id,)).fetchone()
    return FileUsage(used_bytes=row[0], file_count=row[1]) if row else FileUsage()


def _change_status(connection: sqlite3.Connection, record: FileRecord, status: FileStatus, now: str) -> FileRecord:
    """Write the new status of a record read in this transaction, which the caller holds."""
    connection.execute(
        "UPDATE files SET status = ?, updated_at = ? WHERE upload_id = ?", (status.value, now, record.upload_id)
    )
    return record.model_copy(update={"status": status, "updated_at": now})


class SqliteFileRepository:
    """Attachment records and usage counters in the shared SQLite file."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def create_file(self, record: FileRecord) -> FileRecord:
        dumped = record.model_dump(mode="json")
        row = tuple(dumped[column] for column in _COLUMNS)

        def insert(connection: sqlite3.Connection) -> bool:
            with write_transaction(connection):
                return connection.execute(_INSERT, row).rowcount == 1

        if not await self._db.run(insert):
            raise ConflictError(f"upload id {record.upload_id} is taken")
        return record

    async def get_file(self, user_id: str, upload_id: str) -> FileRecord | None:
        return await self._db.run(lambda connection: _read_owned(connection, user_id, upload_id))

    async def mark_ready(self, user_id: str, upload_id: str, *, max_user_bytes: int, now: str) -> FileRecord | None:
        def ready(connection: sqlite3.Connection) -> FileRecord | None:
            # An exception raised inside the transaction rolls it back: a refusal writes nothing.
            with write_transaction(connection):
                current = _read_pending(connection, user_id, upload_id)
                if current is None:
                    return None
                used = _read_usage(connection, user_id).used_bytes
                if used + current.size_bytes > max_user_bytes:
                    raise StorageQuotaExceeded.of(
                        used_bytes=used, max_user_bytes=max_user_bytes, size_bytes=current.size_bytes
                    )
                connection.execute(_CHARGE, (user_id, current.size_bytes, 1))
                return _change_status(connection, current, FileStatus.READY, now)

        return await self._db.run(ready)

    async def mark_failed(self, user_id: str, upload_id: str, *, now: str) -> FileRecord | None:
        def failed(connection: sqlite3.Connection) -> FileRecord | None:
            with write_transaction(connection):
                current = _read_pending(connection, user_id, upload_id)
                if current is None:
                    return None
                return _change_status(connection, current, FileStatus.FAILED, now)

        return await self._db.run(failed)

    async def delete_file(self, user_id: str, upload_id: str) -> FileRecord | None:
        def delete(connection: sqlite3.Connection) -> FileRecord | None:
            with write_transaction(connection):
                current = _read_owned(connection, user_id, upload_id)
                if current is None:
                    return None
                connection.execute("DELETE FROM files WHERE upload_id = ?", (upload_id,))
                if current.status == FileStatus.READY:
                    connection.execute(_CHARGE, (user_id, -current.size_bytes, -1))
                return current

        return await self._db.run(delete)

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
        query = list_query(sort, session=session_id is not None, after=after is not None)
        parameters: dict[str, Any] = {"user_id": user_id, "session_id": session_id, "limit": limit + 1}
        if after is not None:
            parameters |= {"value": after.value, "upload_id": after.upload_id}

        def select(connection: sqlite3.Connection) -> list[FileRecord]:
            return [_record(row) for row in connection.execute(query, parameters)]

        found = await self._db.run(select)
        items = found[:limit]
        more = len(found) > limit
        token = encode_cursor(items[-1], sort=sort, session_id=session_id) if more else None
        return Page(items=items, next_token=token)

    async def list_session_files(self, user_id: str, session_id: str) -> list[FileRecord]:
        query = f"{_SELECT} WHERE user_id = ? AND session_id = ? ORDER BY upload_id"

        def select(connection: sqlite3.Connection) -> list[FileRecord]:
            return [_record(row) for row in connection.execute(query, (user_id, session_id))]

        return await self._db.run(select)

    async def get_usage(self, user_id: str) -> FileUsage:
        return await self._db.run(lambda connection: _read_usage(connection, user_id))

    async def list_stale_uploads(self, *, created_before: str, limit: int) -> list[FileRecord]:
        def select(connection: sqlite3.Connection) -> list[FileRecord]:
            return [_record(row) for row in connection.execute(STALE_UPLOADS_QUERY, (created_before, limit))]

        return await self._db.run(select)
