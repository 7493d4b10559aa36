"""The files service: presign, receive, complete, list, download and delete the caller's attachments.

Records (FileRepository) and bytes (BlobStore) are separate systems, so every operation orders its writes
so that a failure part way leaves a state that the same call, retried, finishes:

- presign writes a pending record before any byte can arrive;
- complete checks the bytes, then moves the record to ready and charges the quota in one atomic write;
- delete removes the bytes first and the record (releasing the quota) last, so a failure to delete bytes
  is a 503 and the record stays to say what is left to remove; nothing is orphaned silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from apis.shared.clock import new_id, now_iso, to_iso, utc_now
from apis.shared.config import FilesSettings
from apis.shared.errors import ConfigurationError, ConflictError
from apis.shared.files.exceptions import (
    FileBytesMissing,
    FileContentMismatch,
    FileNotFound,
    FileNotPending,
    FileTooLarge,
    StorageQuotaExceeded,
)
from apis.shared.files.file_types import FileType, declared_type, type_of
from apis.shared.files.listing import NEWEST_FIRST, FileSort
from apis.shared.files.models import FileRecord, FileStatus, FileUsage, attachment_key
from apis.shared.files.repository import BlobStore, FileRepository
from apis.shared.files.upload_tokens import UploadGrant, UploadTokens
from apis.shared.pagination import Page
from apis.shared.sessions import SessionRepository
from apis.shared.sessions import metadata as sessions_service

LOCAL_UPLOAD_PATH = "/files/uploads/"


@dataclass(frozen=True, slots=True)
class PresignedUpload:
    """`url` takes one PUT of the bytes from anywhere: S3's presigned URL, or the app API's own absolute one."""

    upload_id: str
    url: str
    expires_at: str
    # The local URL's path alone, as earlier versions answered `uploadUrl` (the same as `url` on S3).
    path_or_url: str


@dataclass(frozen=True, slots=True)
class Download:
    """Either a URL to send the client to, or the bytes to serve (the local folder has no URLs)."""

    record: FileRecord
    url: str | None = None
    data: bytes | None = None


@dataclass(frozen=True, slots=True)
class Quota:
    used_bytes: int
    max_bytes: int
    file_count: int


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def check_size(filename: str, size_bytes: int, settings: FilesSettings) -> None:
    """The per-file limit (413), checked before the quota so that an impossible file says so."""
    if size_bytes > settings.files_max_file_bytes:
        raise FileTooLarge(
            f"{filename} is {_mib(size_bytes)}; a file may be at most {_mib(settings.files_max_file_bytes)}"
        )


async def check_room(*, files: FileRepository, user_id: str, size_bytes: int, settings: FilesSettings) -> None:
    """Refuse early a file that cannot fit; the atomic check at `complete` is the one that counts."""
    usage = await files.get_usage(user_id)
    if usage.used_bytes + size_bytes > settings.files_max_user_bytes:
        raise StorageQuotaExceeded(
            f"your files use {_mib(usage.used_bytes)} of {_mib(settings.files_max_user_bytes)}; "
            f"{_mib(size_bytes)} more does not fit: delete some files first"
        )


def new_record(*, user_id: str, session_id: str, filename: str, file_type: FileType, size_bytes: int) -> FileRecord:
    upload_id = new_id()
    now = now_iso()
    return FileRecord(
        upload_id=upload_id,
        user_id=user_id,
        session_id=session_id,
        filename=filename,
        mime_type=file_type.mime_type,
        size_bytes=size_bytes,
        storage_key=attachment_key(user_id, upload_id),
        created_at=now,
        updated_at=now,
    )


async def presign(
    *,
    sessions: SessionRepository,
    files: FileRepository,
    blobs: BlobStore,
    upload_tokens: UploadTokens | None,
    settings: FilesSettings,
    user_id: str,
    session_id: str,
    filename: str,
    mime_type: str,
    size_bytes: int,
    app_api_url: str,
) -> PresignedUpload:
    """A pending record and a URL that takes its bytes: 400 type, 413 size (before quota), 403 quota.

    The conversation is created if it is new (a file may be attached before the first message); another
    user's session id is a 404, so no file is ever filed under someone else's conversation. `app_api_url`
    is where browsers reach the app API (public_address.py): a local upload URL starts with it.
    """
    file_type = declared_type(filename, mime_type, settings.allowed_types)
    check_size(filename, size_bytes, settings)
    await check_room(files=files, user_id=user_id, size_bytes=size_bytes, settings=settings)
    await sessions_service.get_or_create(sessions=sessions, user_id=user_id, session_id=session_id)
    record = await files.create_file(
        new_record(
            user_id=user_id, session_id=session_id, filename=filename, file_type=file_type, size_bytes=size_bytes
        )
    )
    expires_at = utc_now() + timedelta(seconds=settings.files_upload_url_seconds)
    # The client PUTs with the Content-Type it declared; S3 checks it against the signature.
    url = await blobs.presign_upload(
        record.storage_key,
        content_type=mime_type,
        size_bytes=size_bytes,
        expires_in=settings.files_upload_url_seconds,
    )
    if url is not None:
        return PresignedUpload(upload_id=record.upload_id, url=url, expires_at=to_iso(expires_at), path_or_url=url)
    path = LOCAL_UPLOAD_PATH + _local_upload_token(upload_tokens, record, expires_at)
    return PresignedUpload(
        upload_id=record.upload_id, url=app_api_url + path, expires_at=to_iso(expires_at), path_or_url=path
    )


def _local_upload_token(upload_tokens: UploadTokens | None, record: FileRecord, expires_at: datetime) -> str:
    if upload_tokens is None:
        raise ConfigurationError("this blob store has no upload URLs and the service has no upload signing key")
    grant = UploadGrant(
        user_id=record.user_id, upload_id=record.upload_id, size_bytes=record.size_bytes, mime_type=record.mime_type
    )
    return upload_tokens.issue(grant, expires_at=expires_at)


async def receive_upload(*, files: FileRepository, blobs: BlobStore, grant: UploadGrant, data: bytes) -> None:
    """Store the bytes of a signed local upload; the record must still be pending (409 otherwise)."""
    record = await files.get_file(grant.user_id, grant.upload_id)
    if record is None:
        raise FileNotFound(f"upload {grant.upload_id} not found")
    if record.status is not FileStatus.PENDING:
        raise FileNotPending(f"upload {grant.upload_id} is {record.status}: it takes no more bytes")
    if len(data) > record.size_bytes:
        raise FileTooLarge(f"{record.filename}: more bytes than the {record.size_bytes} declared")
    await blobs.put(record.storage_key, data, content_type=record.mime_type)
    if await files.get_file(grant.user_id, grant.upload_id) is None:
        # Deleted while the bytes were on their way: they must not outlive their record.
        await blobs.delete(record.storage_key)
        raise FileNotFound(f"upload {grant.upload_id} not found")


async def get_or_raise(*, files: FileRepository, user_id: str, upload_id: str) -> FileRecord:
    record = await files.get_file(user_id, upload_id)
    if record is None:
        raise FileNotFound(f"file {upload_id} not found")
    return record


def record_type(record: FileRecord) -> FileType:
    """The type of a stored record (checked at presign, so a miss means the allowed list lost a type)."""
    file_type = type_of(record.mime_type)
    if file_type is None:
        raise FileContentMismatch(f"{record.filename}: type {record.mime_type} is no longer accepted")
    return file_type


async def complete(
    *, files: FileRepository, blobs: BlobStore, settings: FilesSettings, user_id: str, upload_id: str
) -> FileRecord:
    """Check that the bytes arrived whole and are what was declared, then mark ready and charge once."""
    record = await get_or_raise(files=files, user_id=user_id, upload_id=upload_id)
    if record.status is not FileStatus.PENDING:
        raise FileNotPending(f"file {upload_id} is {record.status}, not pending")
    data = await blobs.get(record.storage_key)
    if data is None:
        raise FileBytesMissing(f"{record.filename}: no bytes have arrived for upload {upload_id}")
    problem = content_problem(record.filename, record_type(record), data, declared_size=record.size_bytes)
    if problem is not None:
        await files.mark_failed(user_id, upload_id, now=now_iso())
        await blobs.delete(record.storage_key)
        raise FileContentMismatch(problem)
    ready = await files.mark_ready(user_id, upload_id, max_user_bytes=settings.files_max_user_bytes, now=now_iso())
    if ready is None:  # deleted while we were checking it
        raise FileNotFound(f"file {upload_id} not found")
    return ready


def content_problem(filename: str, file_type: FileType, data: bytes, *, declared_size: int | None) -> str | None:
    """Why `data` is not a `file_type` file of `declared_size` bytes, or None when it is."""
    if declared_size is not None and len(data) != declared_size:
        return f"{filename}: {len(data)} bytes arrived, {declared_size} were declared"
    if not file_type.matches(data):
        return f"{filename}: the content is not {file_type.name} (declared {file_type.mime_type})"
    return None


async def list_files(
    *,
    files: FileRepository,
    user_id: str,
    limit: int,
    page_token: str | None = None,
    session_id: str | None = None,
    sort: FileSort = NEWEST_FIRST,
) -> Page[FileRecord]:
    return await files.list_files(user_id, limit=limit, page_token=page_token, session_id=session_id, sort=sort)


async def download(
    *, files: FileRepository, blobs: BlobStore, settings: FilesSettings, user_id: str, upload_id: str
) -> Download:
    """A short-lived URL to the bytes when the store has one, else the bytes themselves; ready files only."""
    record = await get_or_raise(files=files, user_id=user_id, upload_id=upload_id)
    if record.status is not FileStatus.READY:
        raise ConflictError(f"file {upload_id} is {record.status}, not ready", code="file_not_ready")
    url = await blobs.presign_download(
        record.storage_key,
        filename=record.filename,
        content_type=record.mime_type,
        expires_in=settings.files_download_url_seconds,
    )
    if url is not None:
        return Download(record=record, url=url)
    data = await blobs.get(record.storage_key)
    if data is None:
        raise FileBytesMissing(f"{record.filename}: its bytes are missing from the store")
    return Download(record=record, data=data)


async def delete(*, files: FileRepository, blobs: BlobStore, user_id: str, upload_id: str) -> None:
    """Delete the caller's file; a failure between bytes and record leaves the record for a retry."""
    record = await get_or_raise(files=files, user_id=user_id, upload_id=upload_id)
    await remove(files=files, blobs=blobs, record=record)


async def remove(*, files: FileRepository, blobs: BlobStore, record: FileRecord) -> None:
    """Bytes first, the record (and its quota) last: the one order every deletion uses."""
    await blobs.delete(record.storage_key)
    await files.delete_file(record.user_id, record.upload_id)


async def delete_session_files(*, files: FileRepository, blobs: BlobStore, user_id: str, session_id: str) -> int:
    """Delete every attachment of one of the caller's sessions; how many there were."""
    records = await files.list_session_files(user_id, session_id)
    for record in records:
        await remove(files=files, blobs=blobs, record=record)
    return len(records)


async def quota(*, files: FileRepository, user_id: str, settings: FilesSettings) -> Quota:
    usage: FileUsage = await files.get_usage(user_id)
    return Quota(used_bytes=usage.used_bytes, max_bytes=settings.files_max_user_bytes, file_count=usage.file_count)


async def store_ready(
    *,
    files: FileRepository,
    blobs: BlobStore,
    settings: FilesSettings,
    record: FileRecord,
    data: bytes,
) -> FileRecord:
    """Store a file whose bytes are at hand (an inline attachment): record, bytes, then ready and charged.

    If the quota refuses it, what was written is removed again before the error goes to the caller.
    """
    await files.create_file(record)
    try:
        await blobs.put(record.storage_key, data, content_type=record.mime_type)
        ready = await files.mark_ready(
            record.user_id, record.upload_id, max_user_bytes=settings.files_max_user_bytes, now=now_iso()
        )
    except StorageQuotaExceeded:
        await remove(files=files, blobs=blobs, record=record)
        raise
    if ready is None:
        raise FileNotFound(f"file {record.upload_id} not found")
    return ready


SWEEP_PAGE = 100
SWEEP_MAX_PAGES = 50


async def sweep_stale_uploads(*, files: FileRepository, blobs: BlobStore, settings: FilesSettings) -> int:
    """Delete uploads never completed (or failed) once FILES_STALE_UPLOAD_SECONDS old; how many went.

    A pending upload is first marked failed, atomically, so that a `complete` racing the sweep either wins
    (and the file is left alone) or is refused: bytes are never removed under a file that became ready.
    Bytes go first and the record last, as everywhere: a failure leaves the record for the next sweep.
    """
    before = to_iso(utc_now() - timedelta(seconds=settings.files_stale_upload_seconds))
    swept = 0
    for _ in range(SWEEP_MAX_PAGES):
        stale = await files.list_stale_uploads(created_before=before, limit=SWEEP_PAGE)
        for listed in stale:
            if await _retire(files=files, record=listed):
                await remove(files=files, blobs=blobs, record=listed)
                swept += 1
        if len(stale) < SWEEP_PAGE:
            break
    return swept


async def _retire(*, files: FileRepository, record: FileRecord) -> bool:
    """Whether `record` is failed now (made so here if it was pending); False if it became ready or is gone."""
    try:
        failed = await files.mark_failed(record.user_id, record.upload_id, now=now_iso())
    except FileNotPending:
        current = await files.get_file(record.user_id, record.upload_id)
        return current is not None and current.status is FileStatus.FAILED
    return failed is not None
