"""Ingestion of one document: claim it, read its bytes, extract the text, chunk, embed, index, complete.

Each step is a conditional write on the record (`replace_if` on updated_at), so two workers (two app API
instances, or a sweep and a poll) never ingest the same document at once: the one whose claim lands goes on,
the other stops. What may pass (storage or the embedding model unreachable) releases the document back to
`uploading` for the sweep to retry, up to KNOWLEDGE_MAX_INGESTION_ATTEMPTS; what will not pass (a damaged file,
no text) fails it with a message for the owner. A worker that dies mid-way leaves the document in chunking or
embedding, which the sweep takes over once KNOWLEDGE_INGESTION_LEASE_SECONDS have passed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread

from apis.shared.assistants import Document, DocumentRepository, DocumentStatus, Embedder, KnowledgeIndex
from apis.shared.clock import now_iso, to_iso, utc_now
from apis.shared.config import KnowledgeSettings
from apis.shared.costs import CostRepository
from apis.shared.errors import ProviderError, ProviderUnavailableError, StorageUnavailableError
from apis.shared.files import AttachmentUnusable, BlobStore
from apis.shared.files.exceptions import FileTypeNotAllowed
from apis.shared.files.service import content_problem
from apis.shared.knowledge.chunking import chunk_text
from apis.shared.knowledge.document_types import document_type
from apis.shared.knowledge.metering import meter_embedding
from apis.shared.knowledge.text_extraction import extract_document_text
from apis.shared.observability import DOCUMENT_INGESTIONS

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Ingestion:
    """What ingesting a document needs: the ports, the embedding model if one is configured, the settings."""

    documents: DocumentRepository
    knowledge: KnowledgeIndex
    blobs: BlobStore
    embedder: Embedder | None
    settings: KnowledgeSettings
    # Where the embedding calls are metered, for the assistant's owner.
    costs: CostRepository


class _Unusable(Exception):
    """The document cannot be ingested, ever: `message` is for its owner, `details` for whoever debugs it."""

    def __init__(self, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


def may_take(document: Document, *, lease_seconds: float, now: datetime | None = None) -> bool:
    """Whether a worker may claim `document`: uploading, or in progress for longer than the lease."""
    if document.status is DocumentStatus.UPLOADING:
        return True
    if document.status.is_final:
        return False
    updated = datetime.fromisoformat(document.updated_at)
    return (now or utc_now()) - updated > timedelta(seconds=lease_seconds)


async def ingest(ingestion: Ingestion, document: Document) -> Document | None:
    """Ingest `document` if this worker's claim lands; the final record, or None when another worker has it."""
    settings = ingestion.settings
    if document.attempts >= settings.knowledge_max_ingestion_attempts:
        return await _fail(
            ingestion,
            document,
            _Unusable(
                "the document could not be processed: please delete it and upload it again",
                f"ingestion was tried {document.attempts} times without finishing",
            ),
        )
    claimed = await _advance(
        ingestion, document, status=DocumentStatus.CHUNKING, attempts=document.attempts + 1, error_message=None
    )
    if claimed is None:
        return None
    try:
        done = await _run(ingestion, claimed)
    except _Unusable as problem:
        return await _fail(ingestion, claimed, problem)
    except (StorageUnavailableError, ProviderUnavailableError) as exc:
        logger.warning("ingestion of document %s will be retried: %s", claimed.document_id, exc)
        DOCUMENT_INGESTIONS.labels("retry").inc()
        await _release(ingestion, claimed)
        raise
    if done is not None:
        DOCUMENT_INGESTIONS.labels("complete").inc()
    return done


async def _run(ingestion: Ingestion, document: Document) -> Document | None:
    settings = ingestion.settings
    data = await ingestion.blobs.get(document.storage_key)
    if data is None:
        raise _Unusable("the file never arrived: please upload it again")
    try:
        file_type = document_type(document.filename, document.content_type, settings.allowed_types)
    except FileTypeNotAllowed as exc:
        raise _Unusable(str(exc)) from exc
    problem = content_problem(document.filename, file_type, data, declared_size=document.size_bytes)
    if problem is not None:
        raise _Unusable(problem)
    try:
        extracted = await anyio.to_thread.run_sync(
            lambda: extract_document_text(file_type, data, max_chars=settings.knowledge_max_document_chars)
        )
    except AttachmentUnusable as exc:
        raise _Unusable(f"{document.filename}: {exc}") from exc
    chunks = chunk_text(
        extracted.text,
        document_id=document.document_id,
        filename=document.filename,
        max_chars=settings.knowledge_chunk_chars,
        overlap_chars=settings.knowledge_chunk_overlap_chars,
    )
    if not chunks:
        raise _Unusable(f"{document.filename} has no text to search (a scanned document needs text recognition first)")
    embedding = await _advance(ingestion, document, status=DocumentStatus.EMBEDDING)
    if embedding is None:
        return None
    texts = [f"{c.heading}\n{c.text}" if c.heading else c.text for c in chunks]
    vectors = await _embed(ingestion.embedder, texts)
    if ingestion.embedder is not None:
        await meter_embedding(
            costs=ingestion.costs,
            user_id=document.owner_id,
            embedder=ingestion.embedder,
            settings=settings,
            texts=texts,
        )
    await ingestion.knowledge.put_document(document.assistant_id, document.document_id, chunks, vectors)
    details = None
    if extracted.truncated:
        details = f"only the first {settings.knowledge_max_document_chars} characters were indexed"
    done = await _advance(
        ingestion, embedding, status=DocumentStatus.COMPLETE, chunk_count=len(chunks), error_details=details
    )
    # Deleted (or taken over) while indexing: entries of a deleted document must not stay searchable.
    if done is None and await ingestion.documents.get(document.assistant_id, document.document_id) is None:
        await ingestion.knowledge.delete_document(document.assistant_id, document.document_id)
    return done


async def _embed(embedder: Embedder | None, texts: list[str]) -> list[list[float]] | None:
    if embedder is None:
        return None
    try:
        return await embedder.embed_documents(texts)
    except ProviderUnavailableError:
        raise
    except ProviderError as exc:
        raise _Unusable("the embedding model refused this document", str(exc)) from exc


async def _advance(ingestion: Ingestion, document: Document, **changes: Any) -> Document | None:
    """The document moved on (a new updated_at), or None if it changed or went meanwhile."""
    moved = document.model_copy(update={**changes, "updated_at": _later_than(document.updated_at)})
    return await ingestion.documents.replace_if(moved, expected_updated_at=document.updated_at)


async def _fail(ingestion: Ingestion, document: Document, problem: _Unusable) -> Document | None:
    logger.info("document %s failed ingestion: %s", document.document_id, problem.message)
    DOCUMENT_INGESTIONS.labels("failed").inc()
    return await _advance(
        ingestion,
        document,
        status=DocumentStatus.FAILED,
        error_message=problem.message,
        error_details=problem.details,
        chunk_count=None,
    )


async def _release(ingestion: Ingestion, document: Document) -> None:
    """Hand the document back to the sweep. If storage is what failed this may fail too: the lease covers that."""
    current = await ingestion.documents.get(document.assistant_id, document.document_id)
    if current is not None and not current.status.is_final:
        await _advance(ingestion, current, status=DocumentStatus.UPLOADING)


def _later_than(previous: str) -> str:
    """Now, or a microsecond after `previous` if the clock has not moved past it: every write changes updated_at."""
    now = now_iso()
    if now > previous:
        return now
    return to_iso(datetime.fromisoformat(previous) + timedelta(microseconds=1))
