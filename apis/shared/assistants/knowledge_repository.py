"""The storage ports of an assistant's knowledge base: document records, and the index of their chunks.

Implementations live under apis/shared/storage/{memory,sqlite,dynamo}/knowledge.py. Methods return None only
for "no such record"; a backend failure raises `StorageUnavailableError` (transient) or `StorageError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from apis.shared.assistants.documents import Chunk, ChunkHit, Document, DocumentStatus

# Where a document list stands: (createdAt, documentId) of the last document answered.
DocumentPosition = tuple[str, str]


class DocumentRepository(Protocol):
    """Document records by assistant, oldest first, and the unfinished ones of every assistant for the sweep."""

    async def create(self, document: Document) -> Document:
        """Store a new record. Raises `ConflictError` if its id is taken."""
        ...

    async def get(self, assistant_id: str, document_id: str) -> Document | None:
        """The document of that assistant, or None (also when the id belongs to another assistant)."""
        ...

    async def replace_if(self, document: Document, *, expected_updated_at: str) -> Document | None:
        """Write `document` over the stored one only if that one's `updated_at` is `expected_updated_at`.

        None when the record is gone or was changed meanwhile (nothing written): this is how one ingestion
        worker claims a document, and how a late status never overwrites a newer one.
        """
        ...

    async def delete(self, assistant_id: str, document_id: str) -> bool:
        """Remove the record; False if there was none."""
        ...

    async def list_documents(self, assistant_id: str, *, after: DocumentPosition | None, limit: int) -> list[Document]:
        """The assistant's documents strictly after `after` in (createdAt, documentId) order, at most `limit`
        (fewer only when nothing more is stored)."""
        ...

    async def count(self, assistant_id: str) -> int:
        """How many documents the assistant has, in any status (the per-assistant limit counts them all)."""
        ...

    async def list_unfinished(self, *, limit: int) -> list[Document]:
        """Documents of any assistant whose status is uploading, chunking or embedding, least recently updated
        first, at most `limit`: what the ingestion sweep looks at. Read from an index of those statuses only."""
        ...


class KnowledgeIndex(Protocol):
    """The chunks of every assistant's documents, searchable lexically and (when stored) by vector.

    Every call names the assistant, and a search answers only that assistant's chunks. Vectors are optional:
    an index whose chunks were stored without them answers `search_vectors` with [].
    """

    async def put_document(
        self,
        assistant_id: str,
        document_id: str,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]] | None,
    ) -> None:
        """Index the document's chunks (with one vector per chunk when given), replacing any stored before.

        Idempotent: a retried ingestion leaves the same entries as one run.
        """
        ...

    async def delete_document(self, assistant_id: str, document_id: str) -> None:
        """Remove every entry of the document (chunks and vectors); nothing stored is not an error."""
        ...

    async def delete_assistant(self, assistant_id: str) -> None:
        """Remove every entry of every document of the assistant."""
        ...

    async def search_lexical(self, assistant_id: str, terms: Sequence[str], *, limit: int) -> list[ChunkHit]:
        """The best chunks for the query `terms` (lexical.py: already normalised) by BM25, best first."""
        ...

    async def search_vectors(self, assistant_id: str, vector: Sequence[float], *, limit: int) -> list[ChunkHit]:
        """The chunks nearest to `vector` by cosine similarity, best first (score: the similarity)."""
        ...

    async def count_entries(self, assistant_id: str, document_id: str | None = None) -> int:
        """How many entries (chunks, and vectors counted apart) the assistant, or one of its documents, has."""
        ...


class Embedder(Protocol):
    """An embedding model: texts in, one vector of `dimensions` floats out per text, in order.

    Implementations (providers/embeddings.py) batch and retry; a failure raises `ProviderUnavailableError`
    (transient) or `ProviderError`.
    """

    @property
    def model_id(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for passages to be indexed."""
        ...

    async def embed_query(self, text: str) -> list[float]:
        """The vector of a search query (some models embed queries differently from passages)."""
        ...


__all__ = ["DocumentPosition", "DocumentRepository", "DocumentStatus", "Embedder", "KnowledgeIndex"]
