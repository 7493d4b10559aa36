"""Request and response bodies of the files routes (API.md "Files")."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from apis.shared.files import FileStatus
from apis.shared.sessions import ApiModel, SessionId


class PresignIn(ApiModel):
    session_id: SessionId
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^/\\\x00-\x1f]+$")]
    mime_type: Annotated[str, StringConstraints(min_length=3, max_length=127)]
    size_bytes: int = Field(ge=1, description="the exact size of the file in bytes")


class PresignOut(ApiModel):
    upload_id: str
    presigned_url: str = Field(
        description="an absolute URL: PUT the bytes there, with the declared mimeType as Content-Type and no token"
    )
    expires_at: str
    upload_url: str = Field(
        deprecated=True,
        description="earlier versions' field: on the local backend the path of presignedUrl alone, else the same",
    )


class CompleteOut(ApiModel):
    upload_id: str
    status: FileStatus
    filename: str
    size_bytes: int


class FileRead(ApiModel):
    upload_id: str
    session_id: str
    filename: str
    mime_type: str
    size_bytes: int
    status: FileStatus
    created_at: str
    updated_at: str


class FilePage(ApiModel):
    """A page of the reference's file list; `nextToken` is `nextCursor` under our lists' usual name."""

    files: list[FileRead]
    next_cursor: str | None
    next_token: str | None
    total_count: int | None = Field(description="the caller's ready files in all; null for one session's list")


class QuotaOut(ApiModel):
    used_bytes: int
    max_bytes: int
    file_count: int
