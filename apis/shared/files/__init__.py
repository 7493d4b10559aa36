"""Chat attachments: records and their storage quota, the accepted types, and their bytes' ports."""

from apis.shared.files.exceptions import (
    AttachmentUnusable,
    FileBytesMissing,
    FileContentMismatch,
    FileNotFound,
    FileNotPending,
    FileTooLarge,
    FileTypeNotAllowed,
    StorageQuotaExceeded,
)
from apis.shared.files.file_types import FILE_TYPES, AttachmentKind, FileType, declared_type, type_of
from apis.shared.files.listing import FileSort, FileSortBy, SortOrder
from apis.shared.files.models import ATTACHMENT_KEY_PATTERN, FileRecord, FileStatus, FileUsage, attachment_key
from apis.shared.files.repository import BlobStore, FileRepository

__all__ = [
    "ATTACHMENT_KEY_PATTERN",
    "FILE_TYPES",
    "AttachmentKind",
    "AttachmentUnusable",
    "BlobStore",
    "FileBytesMissing",
    "FileContentMismatch",
    "FileNotFound",
    "FileNotPending",
    "FileRecord",
    "FileRepository",
    "FileSort",
    "FileSortBy",
    "FileStatus",
    "FileTooLarge",
    "FileType",
    "FileTypeNotAllowed",
    "FileUsage",
    "SortOrder",
    "StorageQuotaExceeded",
    "attachment_key",
    "declared_type",
    "type_of",
]
