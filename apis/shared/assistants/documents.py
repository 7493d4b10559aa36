"""An assistant's knowledge base as the domain sees it: documents, their chunks, hits and citations.

A document's bytes live in the blob store under `storage_key`; its text is cut into chunks that the knowledge
index (repository.py: `KnowledgeIndex`) holds for lexical search and, when an embedding model is configured,
as vectors. Statuses are the reference's: uploading (record made, bytes not yet seen), chunking (text being
extracted and cut), embedding (chunks being embedded and indexed), complete, failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import Field

from apis.shared.schemas import ApiModel


class DocumentStatus(StrEnum):
    """Where a document stands in ingestion; complete and failed are final."""

    UPLOADING = "uploading"
    CHUNKING = "chunking"
    EMBEDDING = "embedding"
    COMPLETE = "complete"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (DocumentStatus.COMPLETE, DocumentStatus.FAILED)


# Blob keys of documents' bytes: knowledge/<assistant id>/<document id>, both ids made here (uuid7).
DOCUMENT_KEY_PATTERN = r"^knowledge/[0-9a-f][0-9a-f-]{35}/[0-9a-f][0-9a-f-]{35}$"


def document_key(assistant_id: str, document_id: str) -> str:
    """Where a document's bytes are kept; every key of an assistant shares its prefix."""
    return f"knowledge/{assistant_id}/{document_id}"


UNFINISHED_STATUSES = (DocumentStatus.UPLOADING, DocumentStatus.CHUNKING, DocumentStatus.EMBEDDING)


class Document(ApiModel):
    """One document of an assistant's knowledge base.

    `owner_id`, `storage_key` and `attempts` are never sent to a client. `attempts` counts ingestion runs
    that started, so a document that keeps failing a worker (a crash mid-way) stops being retried.
    """

    document_id: str
    assistant_id: str
    owner_id: str
    filename: str = Field(min_length=1, max_length=255)
    content_type: str
    size_bytes: int = Field(ge=0)
    storage_key: str
    status: DocumentStatus = DocumentStatus.UPLOADING
    error_message: str | None = None
    error_details: str | None = None
    chunk_count: int | None = None
    attempts: int = 0
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a document as indexed: `index` is its place in the document, from 0.

    `heading` is the section it falls under ("" when the document has none); it is searched with the text
    and shown to the model before it.
    """

    document_id: str
    index: int
    text: str
    filename: str
    heading: str = ""


@dataclass(frozen=True, slots=True)
class ChunkHit:
    """A chunk that a search found, with its score in that search (higher is better; scales differ by search)."""

    assistant_id: str
    document_id: str
    index: int
    text: str
    filename: str
    heading: str
    score: float

    @property
    def key(self) -> tuple[str, int]:
        return (self.document_id, self.index)


class Citation(ApiModel):
    """A retrieved passage as the client shows it under an answer (the reference's `citation` event)."""

    assistant_id: str
    document_id: str
    file_name: str
    text: str
