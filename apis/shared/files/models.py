"""Attachment records and the per-user storage usage, as the domain and the API see them (camelCase)."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from apis.shared.schemas import ApiModel


class FileStatus(StrEnum):
    """pending: presigned, bytes may be on their way; ready: checked and charged; failed: the bytes were wrong."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class FileRecord(ApiModel):
    """One attachment. Its bytes live in the blob store under `storage_key`, never in this record."""

    upload_id: str
    user_id: str
    session_id: str
    filename: str
    mime_type: str
    size_bytes: int
    storage_key: str
    status: FileStatus = FileStatus.PENDING
    created_at: str
    updated_at: str


class FileUsage(ApiModel):
    """What a user's ready files hold: kept as counters that change in the same write as the file's status."""

    used_bytes: int = 0
    file_count: int = 0


# Every key starts with its owner (a digest: user ids may hold any character) and ends with the upload id.
ATTACHMENT_KEY_PATTERN = r"^attachments/[0-9a-f]{32}/[0-9a-f][0-9a-f-]{35}$"


def attachment_key(user_id: str, upload_id: str) -> str:
    """Where the bytes of an upload live in the blob store."""
    owner = hashlib.sha256(user_id.encode()).hexdigest()[:32]
    return f"attachments/{owner}/{upload_id}"
