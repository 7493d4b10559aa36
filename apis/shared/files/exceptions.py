"""What can go wrong with an attachment; each names the file it is about."""

from __future__ import annotations

from apis.shared.errors import ConflictError, ForbiddenError, NotFoundError, PayloadTooLarge, RuleViolation


class FileNotFound(NotFoundError):
    """No such upload, or it belongs to someone else."""

    code = "file_not_found"


class FileNotPending(ConflictError):
    """The upload was completed already, or failed its checks."""

    code = "file_not_pending"

    @classmethod
    def of(cls, upload_id: str, status: str) -> FileNotPending:
        """The one wording every backend uses."""
        return cls(f"upload {upload_id} is {status}, not pending")


class FileTypeNotAllowed(RuleViolation):
    """The declared type is not one this server accepts, or the name and the type disagree."""

    code = "file_type_not_allowed"


class FileTooLarge(PayloadTooLarge):
    """A file, or the attachments of one message, over a size limit."""

    code = "file_too_large"


class FileBytesMissing(RuleViolation):
    """Complete was called before the bytes arrived."""

    code = "file_bytes_missing"


class FileContentMismatch(RuleViolation):
    """The bytes are not what was declared: another size, or content of another type."""

    code = "file_content_mismatch"


class AttachmentUnusable(RuleViolation):
    """An attachment of a turn that is not the caller's, not ready, or of another conversation."""

    code = "attachment_unusable"


class StorageQuotaExceeded(ForbiddenError):
    """The caller's files would pass their storage quota (API.md: 403 QUOTA_EXCEEDED, unlike the 429 of costs)."""

    code = "QUOTA_EXCEEDED"

    @classmethod
    def of(cls, *, used_bytes: int, max_user_bytes: int, size_bytes: int) -> StorageQuotaExceeded:
        """The one wording every backend uses."""
        return cls(
            f"storage quota exceeded: {used_bytes} of {max_user_bytes} bytes are used, and this file needs {size_bytes}"
        )
