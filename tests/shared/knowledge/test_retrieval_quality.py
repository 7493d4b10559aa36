"""Recall@5 on the labelled retrieval set (retrieval_set.py): lexical only, and hybrid with an embedding model.

Each question counts as found when a chunk of its document holding its answer phrase is among the five chunks
retrieval returns. The figures are printed (run with -s) and held to the issue's bar for lexical search.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.assistants import Document, DocumentRepository, DocumentStatus, Embedder, KnowledgeIndex
from apis.shared.clock import new_id, now_iso
from apis.shared.config import EmbeddingProvider, KnowledgeSettings, ProviderSettings
from apis.shared.knowledge.chunking import chunk_text
from apis.shared.knowledge.rag_service import search
from apis.shared.providers.embeddings import build_embedder
from apis.shared.storage.memory.knowledge import MemoryDocumentRepository, MemoryKnowledgeIndex
from tests.fakes.openai_server import FakeOpenAIState
from tests.fakes.server import RunningFake
from tests.helpers import BACKENDS, repository_on
from tests.shared.knowledge.retrieval_set import DOCUMENTS, QUESTIONS, distractor_documents

LEXICAL_RECALL_BAR = 0.8
Store = tuple[DocumentRepository, KnowledgeIndex]


@pytest.fixture(params=["memory", *BACKENDS])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Document records and the index of one backend (the in-memory fakes, SQLite, DynamoDB with S3 Vectors)."""
    async with repository_on(
        request,
        tmp_path,
        memory=lambda: (MemoryDocumentRepository(), MemoryKnowledgeIndex()),
        pick=lambda storage: (storage.documents, storage.knowledge),
    ) as opened:
        yield opened


async def index_set(
    documents: DocumentRepository, index: KnowledgeIndex, embedder: Embedder | None, assistant_id: str
) -> dict[str, str]:
    """Chunk and index every document of the set as ingestion does; {document id: filename}."""
    settings = KnowledgeSettings.model_construct()
    names = {}
    for filename, text in {**DOCUMENTS, **distractor_documents()}.items():
        document_id = new_id()
        chunks = chunk_text(
            text,
            document_id=document_id,
            filename=filename,
            max_chars=settings.knowledge_chunk_chars,
            overlap_chars=settings.knowledge_chunk_overlap_chars,
        )
        vectors = None
        if embedder is not None:
            vectors = await embedder.embed_documents([f"{c.heading}\n{c.text}" for c in chunks])
        await index.put_document(assistant_id, document_id, chunks, vectors)
        now = now_iso()
        await documents.create(
            Document(
                document_id=document_id,
                assistant_id=assistant_id,
                owner_id="owner",
                filename=filename,
                content_type="text/markdown",
                size_bytes=len(text),
                storage_key=f"knowledge/{assistant_id}/{document_id}",
                status=DocumentStatus.COMPLETE,
                chunk_count=len(chunks),
                created_at=now,
                updated_at=now,
            )
        )
        names[document_id] = filename
    return names


async def recall(
    documents: DocumentRepository, index: KnowledgeIndex, embedder: Embedder | None
) -> tuple[float, float]:
    """(recall@5, recall@1) over the set's questions."""
    assistant_id = new_id()
    names = await index_set(documents, index, embedder, assistant_id)
    found = first = 0
    for question in QUESTIONS:
        hits = await search(
            knowledge=index,
            documents=documents,
            embedder=embedder,
            assistant_id=assistant_id,
            query=question.text,
            top_k=5,
        )
        answers = [names[h.document_id] == question.filename and question.answer_phrase in h.text for h in hits]
        found += any(answers)
        first += bool(answers) and answers[0]
    return found / len(QUESTIONS), first / len(QUESTIONS)


async def test_lexical_recall_at_5_meets_the_bar(store: Store) -> None:
    at_5, at_1 = await recall(*store, None)
    print(f"\nlexical: recall@5 {at_5:.2f} (bar {LEXICAL_RECALL_BAR}), recall@1 {at_1:.2f}")  # noqa: T201
    assert at_5 >= LEXICAL_RECALL_BAR


async def test_hybrid_recall_at_5_with_an_embedding_model_on_its_fake(
    store: Store, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    embedder = build_embedder(
        KnowledgeSettings.model_construct(
            embedding_provider=EmbeddingProvider.OPENAI,
            embedding_model_id="text-embedding-3-small",
            embedding_dimensions=256,
        ),
        ProviderSettings.model_construct(openai_api_key="sk-fake", openai_base_url=openai_fake.url),
        region="us-east-1",
    )
    assert embedder is not None
    try:
        at_5, at_1 = await recall(*store, embedder)
    finally:
        await embedder.aclose()
    print(f"\nhybrid (256-d vectors from the embedding fake): recall@5 {at_5:.2f}, recall@1 {at_1:.2f}")  # noqa: T201
    assert at_5 >= LEXICAL_RECALL_BAR
