"""Request and response bodies of an assistant's documents routes: the reference's wire shapes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from apis.shared.assistants import Document, DocumentStatus
from apis.shared.schemas import ApiModel


class UploadUrlIn(ApiModel):
    filename: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(max_length=255)] = "application/octet-stream"
    size_bytes: int = Field(ge=1)


class UploadUrlOut(ApiModel):
    """`uploadUrl` takes one PUT of the bytes with no other credential (S3's presigned URL, or ours)."""

    document_id: str
    upload_url: str
    expires_in: int


class DocumentRead(ApiModel):
    """A document as its owner sees it: never the storage key or the owner's id."""

    document_id: str
    assistant_id: str
    filename: str
    content_type: str
    size_bytes: int
    status: DocumentStatus
    error_message: str | None = None
    error_details: str | None = None
    chunk_count: int | None = None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, document: Document) -> DocumentRead:
        return cls.model_validate(document.model_dump(exclude={"owner_id", "storage_key", "attempts"}))


class DocumentPage(ApiModel):
    documents: list[DocumentRead]
    next_token: str | None = None


class DownloadUrlOut(ApiModel):
    """A short-lived URL that serves the document's bytes to whoever opens it (the citation's source)."""

    download_url: str
    filename: str
    expires_in: int
