"""The storage ports of the files domain: attachment records with their usage counters, and the bytes.

Implementations live under apis/shared/storage/ (memory, sqlite, dynamo for records; a local folder and S3 for
bytes). Records and bytes are separate ports because they are separate systems in the cloud (DynamoDB, S3):
no write spans both, so the service orders its writes so that a failure leaves something a retry can finish.
"""

from __future__ import annotations

from typing import Protocol

from apis.shared.files.listing import NEWEST_FIRST, FileSort
from apis.shared.files.models import FileRecord, FileUsage
from apis.shared.pagination import Page


class FileRepository(Protocol):
    """Attachment records and each user's usage counters, always addressed through their owner.

    Every method takes the caller's `user_id`; a record of another user answers exactly as a missing one.
    Methods return `None` only for "no such record"; a backend failure raises `StorageUnavailableError`
    (transient) or `StorageError`. Page tokens are opaque; a foreign or damaged one raises `InvalidPageToken`.
    """

    async def create_file(self, record: FileRecord) -> FileRecord:
        """Store a new record (normally pending). Raises `ConflictError` if its upload id is taken."""
        ...

    async def get_file(self, user_id: str, upload_id: str) -> FileRecord | None:
        """The caller's record, or None."""
        ...

    async def mark_ready(self, user_id: str, upload_id: str, *, max_user_bytes: int, now: str) -> FileRecord | None:
        """Move a pending record to ready and charge its size to the owner's usage, in one atomic write.

        None if there is no such record. Raises `FileNotPending` if it is not pending (so two concurrent calls
        charge once: exactly one of them wins), and `StorageQuotaExceeded` if the charge would take the usage
        over `max_user_bytes`; either way nothing is written.
        """
        ...

    async def mark_failed(self, user_id: str, upload_id: str, *, now: str) -> FileRecord | None:
        """Move a pending record to failed (its bytes were wrong). None if there is no such record.

        Raises `FileNotPending` if it is not pending. Nothing is charged or released.
        """
        ...

    async def delete_file(self, user_id: str, upload_id: str) -> FileRecord | None:
        """Remove the record and, if it was ready, release its size and count in the same atomic write.

        Returns the removed record, or None if there was none (deleting twice releases once).
        """
        ...

    async def list_files(
        self,
        user_id: str,
        *,
        limit: int,
        page_token: str | None = None,
        session_id: str | None = None,
        sort: FileSort = NEWEST_FIRST,
    ) -> Page[FileRecord]:
        """The caller's ready files in the order of `sort` (then by upload id), optionally of one session.

        Every ready file is on exactly one page; the token (listing.py) resumes after the last file shown and
        is refused with `InvalidPageToken` when given with another sort or session. On DynamoDB the size and
        type orders are read from global indexes, which are eventually consistent (a file completed or
        deleted a moment ago may be missing from them, or still listed, for a moment) and put files of equal
        size or type in their own order.
        """
        ...

    async def list_session_files(self, user_id: str, session_id: str) -> list[FileRecord]:
        """Every record of one of the caller's sessions, whatever its status (for deleting the session)."""
        ...

    async def get_usage(self, user_id: str) -> FileUsage:
        """The caller's counters: bytes and number of ready files (zeros for a user with none)."""
        ...

    async def list_stale_uploads(self, *, created_before: str, limit: int) -> list[FileRecord]:
        """Records of any user that are still pending or failed and were created before `created_before` (an ISO
        timestamp as made by apis.shared.clock), oldest first, at most `limit`. Ready records never appear.

        The one method that crosses owners: it serves the sweeper that removes uploads never completed, not a
        user's request. A record leaves the list when it becomes ready or is deleted; marking it failed keeps
        it listed. Ties of `created_at` are broken by upload id. On DynamoDB the list is read from a global
        index, which is eventually consistent: a record that was just completed or deleted may still be listed
        for a moment, and one just created may not be listed yet (the sweeper's own writes settle it).
        """
        ...


class BlobStore(Protocol):
    """Bytes by key. Writes are whole or absent: a reader never sees a torn object.

    Keys are made by the files service (`attachments/<owner digest>/<upload id>`) and the knowledge service
    (`knowledge/<assistant id>/<document id>`); a key of another shape raises `ValueError`. Failures raise
    `StorageUnavailableError` or `StorageError`.
    """

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store `data` under `key`, replacing what was there."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The bytes under `key`, or None if there are none."""
        ...

    async def size(self, key: str) -> int | None:
        """The size of the object under `key`, or None if there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object under `key`; removing a missing object is not an error."""
        ...

    async def presign_upload(self, key: str, *, content_type: str, size_bytes: int, expires_in: int) -> str | None:
        """A URL that accepts one PUT of the bytes with no other credential, or None if this store has none

        (the local folder: the app API then hands out its own signed upload route)."""
        ...

    async def presign_download(self, key: str, *, filename: str, content_type: str, expires_in: int) -> str | None:
        """A URL that serves the bytes for a short time, or None if the caller must stream them itself."""
        ...

    async def ping(self) -> None:
        """Reach the store once; raise if it cannot be reached."""
        ...
