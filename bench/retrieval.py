"""Knowledge-base retrieval at 100,000 chunks, and ingestion throughput, on the embedded default.

Retrieval is measured as a turn runs it (`rag_service.search`: lexical ranking, vector ranking when an embedding
model is configured, fusion, the check that each hit's document is complete) against the SQLite index, with one
assistant holding 100,000 chunks among other assistants' 20,000. Vectors are 256-dimensional (Titan Text
Embeddings v2's smallest size; the query's own embedding call is left out, as it is the provider's time).
Budget (ARCHITECTURE.md): retrieval over 100,000 chunks at most 50 ms p50.

Ingestion is measured through `knowledge.ingest` (read the bytes, extract, chunk, index) on a 200-page PDF and
on the same text as Markdown, lexical only: pages per second, no budget.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from apis.shared.assistants import Chunk, Document, DocumentStatus, document_key
from apis.shared.clock import new_id, now_iso
from apis.shared.config import KnowledgeSettings, StorageBackend, StorageSettings
from apis.shared.knowledge import Ingestion, ingest
from apis.shared.knowledge.rag_service import search
from apis.shared.storage import Storage, open_storage
from bench.common import Row, median, percentile, print_table
from tests.attachments import pdf_document

CHUNKS = 100_000
OTHER_CHUNKS = 20_000
CHUNKS_PER_DOCUMENT = 500
DIMENSIONS = 256
QUERIES = 200
PAGES = 200
# Text with the shape of real text: a vocabulary of 30,000 words drawn with Zipf's law (s = 1.07, as English),
# less the 100 most frequent, which a search drops as stop words. Every word is a made-up one ("w123"), so no
# stemming merges two of them.
VOCABULARY = 30_000
_STOP_WORDS_LEFT_OUT = 100
_ZIPF_S = 1.07


class Words:
    """Words drawn from the Zipf distribution, for passages, and queries drawn the same way."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        ranks = range(_STOP_WORDS_LEFT_OUT + 1, VOCABULARY + 1)
        self.words = [f"w{rank}" for rank in ranks]
        self.weights = list(itertools.accumulate(1.0 / rank**_ZIPF_S for rank in ranks))

    def draw(self, count: int) -> list[str]:
        return self.random.choices(self.words, cum_weights=self.weights, k=count)

    def sentence(self) -> str:
        return " ".join(self.draw(self.random.randint(8, 16))).capitalize() + "."

    def passage(self) -> str:
        return " ".join(self.sentence() for _ in range(self.random.randint(6, 10)))


class RandomEmbedder:
    """Deterministic unit vectors: the cost measured is the index's, not a model's."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    @property
    def model_id(self) -> str:
        return "bench-random"

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    def vector(self) -> list[float]:
        values = [self.random.gauss(0.0, 1.0) for _ in range(DIMENSIONS)]
        norm = sum(v * v for v in values) ** 0.5
        return [v / norm for v in values]

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vector() for _ in texts]

    async def embed_query(self, text: str) -> list[float]:
        return self.vector()


async def seed_assistant(storage: Storage, assistant_id: str, chunks: int, words: Words, vectors: bool) -> None:
    embedder = RandomEmbedder(words.random.randint(0, 1 << 30))
    for start in range(0, chunks, CHUNKS_PER_DOCUMENT):
        document_id = new_id()
        batch = [
            Chunk(document_id=document_id, index=i, text=words.passage(), filename=f"doc-{start}.md", heading="Section")
            for i in range(min(CHUNKS_PER_DOCUMENT, chunks - start))
        ]
        embedded = await embedder.embed_documents([c.text for c in batch]) if vectors else None
        await storage.knowledge.put_document(assistant_id, document_id, batch, embedded)
        now = now_iso()
        await storage.documents.create(
            Document(
                document_id=document_id,
                assistant_id=assistant_id,
                owner_id="bench",
                filename=f"doc-{start}.md",
                content_type="text/markdown",
                size_bytes=1,
                storage_key=document_key(assistant_id, document_id),
                status=DocumentStatus.COMPLETE,
                chunk_count=len(batch),
                created_at=now,
                updated_at=now,
            )
        )


async def timed_searches(storage: Storage, assistant_id: str, embedder: RandomEmbedder | None) -> list[float]:
    words = Words(7)
    samples = []
    for round_number in range(QUERIES + 20):
        query = " ".join(words.draw(words.random.randint(3, 8)))
        started = time.perf_counter()
        hits = await search(
            knowledge=storage.knowledge,
            documents=storage.documents,
            embedder=embedder,
            assistant_id=assistant_id,
            query=query,
            top_k=5,
        )
        elapsed = (time.perf_counter() - started) * 1000
        assert len(hits) == 5
        if round_number >= 20:  # the first ones warm the page cache
            samples.append(elapsed)
    return samples


async def ingestion_rate(storage: Storage, text_pages: list[str]) -> tuple[float, float]:
    """(PDF pages per second, Markdown pages per second) through `ingest`, lexical only."""
    settings = KnowledgeSettings.model_construct()
    pipeline = Ingestion(
        documents=storage.documents,
        knowledge=storage.knowledge,
        blobs=storage.blobs,
        embedder=None,
        settings=settings,
        costs=storage.costs,
    )
    rates = []
    pdf = pdf_document(*[page.split(". ") for page in text_pages])
    markdown = "\n\n".join(f"## Page {n}\n{page}" for n, page in enumerate(text_pages)).encode()
    for filename, content_type, data in (("big.pdf", "application/pdf", pdf), ("big.md", "text/markdown", markdown)):
        assistant_id, document_id = new_id(), new_id()
        key = document_key(assistant_id, document_id)
        await storage.blobs.put(key, data, content_type=content_type)
        now = now_iso()
        document = await storage.documents.create(
            Document(
                document_id=document_id,
                assistant_id=assistant_id,
                owner_id="bench",
                filename=filename,
                content_type=content_type,
                size_bytes=len(data),
                storage_key=key,
                created_at=now,
                updated_at=now,
            )
        )
        started = time.perf_counter()
        done = await ingest(pipeline, document)
        elapsed = time.perf_counter() - started
        assert done is not None
        assert done.status is DocumentStatus.COMPLETE, done
        rates.append(len(text_pages) / elapsed)
    return rates[0], rates[1]


async def run(data_dir: Path) -> list[Row]:
    storage = await open_storage(StorageSettings(storage_backend=StorageBackend.LOCAL, data_dir=data_dir))
    try:
        words = Words(42)
        seeding = time.perf_counter()
        assistant_id = new_id()
        await seed_assistant(storage, assistant_id, CHUNKS, words, vectors=True)
        for _ in range(4):
            await seed_assistant(storage, new_id(), OTHER_CHUNKS // 4, words, vectors=True)
        seconds = time.perf_counter() - seeding
        print(f"seeded {CHUNKS} + {OTHER_CHUNKS} chunks with {DIMENSIONS}-d vectors in {seconds:.0f} s")
        lexical = await timed_searches(storage, assistant_id, None)
        hybrid = await timed_searches(storage, assistant_id, RandomEmbedder(3))
        pdf_rate, markdown_rate = await ingestion_rate(storage, [words.passage() for _ in range(PAGES)])
    finally:
        await storage.close()
    return [
        Row(f"retrieval, lexical, {CHUNKS:,} chunks, p50", median(lexical), 50, "ms"),
        Row(f"retrieval, lexical, {CHUNKS:,} chunks, p99", percentile(lexical, 0.99), None, "ms"),
        Row(f"retrieval, hybrid ({DIMENSIONS}-d vectors), p50", median(hybrid), 50, "ms"),
        Row(f"retrieval, hybrid ({DIMENSIONS}-d vectors), p99", percentile(hybrid, 0.99), None, "ms"),
        Row(f"ingestion, {PAGES}-page PDF", pdf_rate, None, "pages/s", higher_is_better=True),
        Row(f"ingestion, {PAGES}-page Markdown", markdown_rate, None, "pages/s", higher_is_better=True),
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        rows = asyncio.run(run(Path(folder)))
    print_table(f"Knowledge bases, local backend ({QUERIES} queries each, top 5)", rows)


if __name__ == "__main__":
    main()
