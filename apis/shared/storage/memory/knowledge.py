"""Dict-backed fakes of the knowledge base's ports, held to the same contract suite as SQLite and DynamoDB.

The index ranks lexically by BM25 (k1 1.2, b 0.75, the idf of FTS5's bm25) over `lexical.index_terms`, with
statistics over every stored chunk as FTS5's are, and by cosine similarity for vectors.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from apis.shared.assistants.documents import UNFINISHED_STATUSES, Chunk, ChunkHit, Document
from apis.shared.assistants.knowledge_repository import DocumentPosition
from apis.shared.assistants.lexical import index_terms
from apis.shared.errors import ConflictError

_K1 = 1.2
_B = 0.75
# FTS5's floor for the idf of a term in more than half the chunks, which would otherwise be zero or negative.
_MIN_IDF = 1e-6


def _position(document: Document) -> DocumentPosition:
    return (document.created_at, document.document_id)


class MemoryDocumentRepository:
    """Document records in one process."""

    def __init__(self) -> None:
        self._documents: dict[str, Document] = {}

    def _stored(self, assistant_id: str, document_id: str) -> Document | None:
        stored = self._documents.get(document_id)
        return stored if stored is not None and stored.assistant_id == assistant_id else None

    async def create(self, document: Document) -> Document:
        if document.document_id in self._documents:
            raise ConflictError(f"document id {document.document_id} is taken")
        self._documents[document.document_id] = document.model_copy(deep=True)
        return document

    async def get(self, assistant_id: str, document_id: str) -> Document | None:
        stored = self._stored(assistant_id, document_id)
        return stored.model_copy(deep=True) if stored is not None else None

    async def replace_if(self, document: Document, *, expected_updated_at: str) -> Document | None:
        stored = self._stored(document.assistant_id, document.document_id)
        if stored is None or stored.updated_at != expected_updated_at:
            return None
        self._documents[document.document_id] = document.model_copy(deep=True)
        return document

    async def delete(self, assistant_id: str, document_id: str) -> bool:
        if self._stored(assistant_id, document_id) is None:
            return False
        del self._documents[document_id]
        return True

    async def list_documents(self, assistant_id: str, *, after: DocumentPosition | None, limit: int) -> list[Document]:
        owned = sorted((d for d in self._documents.values() if d.assistant_id == assistant_id), key=_position)
        return [d.model_copy(deep=True) for d in owned if after is None or _position(d) > after][:limit]

    async def count(self, assistant_id: str) -> int:
        return sum(1 for document in self._documents.values() if document.assistant_id == assistant_id)

    async def list_unfinished(self, *, limit: int) -> list[Document]:
        unfinished = [d for d in self._documents.values() if d.status in UNFINISHED_STATUSES]
        unfinished.sort(key=lambda document: (document.updated_at, document.document_id))
        return [document.model_copy(deep=True) for document in unfinished[:limit]]


@dataclass(frozen=True, slots=True)
class _Entry:
    assistant_id: str
    chunk: Chunk
    terms: Counter[str]
    length: int
    vector: tuple[float, ...] | None


def _hit(entry: _Entry, score: float) -> ChunkHit:
    chunk = entry.chunk
    return ChunkHit(
        assistant_id=entry.assistant_id,
        document_id=chunk.document_id,
        index=chunk.index,
        text=chunk.text,
        filename=chunk.filename,
        heading=chunk.heading,
        score=score,
    )


def _best(scored: list[tuple[float, _Entry]], limit: int) -> list[ChunkHit]:
    scored.sort(key=lambda pair: (-pair[0], pair[1].chunk.document_id, pair[1].chunk.index))
    return [_hit(entry, score) for score, entry in scored[: max(limit, 0)]]


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norms if norms else 0.0


class MemoryKnowledgeIndex:
    """Every assistant's chunks in one process, keyed by (assistant id, document id)."""

    def __init__(self) -> None:
        self._documents: dict[tuple[str, str], list[_Entry]] = {}

    async def put_document(
        self,
        assistant_id: str,
        document_id: str,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]] | None,
    ) -> None:
        if vectors is not None and len(vectors) != len(chunks):
            raise ValueError(f"{len(vectors)} vectors for {len(chunks)} chunks: one per chunk is needed")
        if vectors and len({len(vector) for vector in vectors}) != 1:
            raise ValueError("a document's vectors must share one dimension")
        if any(chunk.document_id != document_id for chunk in chunks):
            raise ValueError(f"every chunk put for document {document_id} must belong to it")
        entries = []
        for position, chunk in enumerate(chunks):
            terms = index_terms(f"{chunk.heading} {chunk.text}")
            vector = tuple(vectors[position]) if vectors is not None else None
            entries.append(_Entry(assistant_id, chunk, Counter(terms), len(terms), vector))
        self._documents.pop((assistant_id, document_id), None)
        if entries:
            self._documents[(assistant_id, document_id)] = entries

    async def delete_document(self, assistant_id: str, document_id: str) -> None:
        self._documents.pop((assistant_id, document_id), None)

    async def delete_assistant(self, assistant_id: str) -> None:
        for key in [key for key in self._documents if key[0] == assistant_id]:
            del self._documents[key]

    def _entries(self, assistant_id: str | None = None) -> list[_Entry]:
        return [
            entry
            for (owner, _), entries in self._documents.items()
            if assistant_id is None or owner == assistant_id
            for entry in entries
        ]

    async def search_lexical(self, assistant_id: str, terms: Sequence[str], *, limit: int) -> list[ChunkHit]:
        query = [term for term in dict.fromkeys(terms) if term]
        every = self._entries()
        if not query or not every:
            return []
        total = len(every)
        average = sum(entry.length for entry in every) / total or 1.0
        idf = {}
        for term in query:
            having = sum(1 for entry in every if term in entry.terms)
            idf[term] = max(math.log((total - having + 0.5) / (having + 0.5)), _MIN_IDF)
        scored = []
        for entry in self._entries(assistant_id):
            norm = _K1 * (1 - _B + _B * entry.length / average)
            matched = [(idf[t], entry.terms[t]) for t in query if t in entry.terms]
            if matched:
                scored.append((sum(w * f * (_K1 + 1) / (f + norm) for w, f in matched), entry))
        return _best(scored, limit)

    async def search_vectors(self, assistant_id: str, vector: Sequence[float], *, limit: int) -> list[ChunkHit]:
        scored = [
            (_cosine(entry.vector, vector), entry)
            for entry in self._entries(assistant_id)
            if entry.vector is not None and len(entry.vector) == len(vector)
        ]
        return _best(scored, limit)

    async def count_entries(self, assistant_id: str, document_id: str | None = None) -> int:
        entries = (
            self._entries(assistant_id) if document_id is None else self._documents.get((assistant_id, document_id), [])
        )
        return sum(2 if entry.vector is not None else 1 for entry in entries)
