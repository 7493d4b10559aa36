"""Retrieval from an assistant's knowledge base, and the context and citations a turn gets from it.

Hybrid: the lexical ranking (BM25 over word stems) always, which works offline and with no model; the vector
ranking too when an embedding model is configured; the two fused by reciprocal rank fusion, which needs no
common scale between BM25 scores and cosine similarities. Each ranking reads a few times more candidates than
are kept, so a chunk that one ranking places low but the other high can still win. Hits of a document that is
not complete (deleted, or being re-indexed) are dropped: only what the owner sees as complete is ever cited.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

from apis.shared.assistants import ChunkHit, Citation, DocumentRepository, DocumentStatus, Embedder, KnowledgeIndex
from apis.shared.assistants.lexical import query_terms
from apis.shared.observability import RETRIEVAL_SECONDS

# The usual constant of reciprocal rank fusion (Cormack et al., 2009): damps the weight of the very top ranks.
RRF_K = 60
_CANDIDATES_PER_HIT = 4
CITATION_EXCERPT_CHARS = 500


@dataclass(frozen=True, slots=True)
class Retrieval:
    """What a turn takes from the knowledge base: the chunks the model sees (best first) and their citations."""

    hits: list[ChunkHit]
    context: str
    citations: list[Citation]


async def search(
    *,
    knowledge: KnowledgeIndex,
    documents: DocumentRepository,
    embedder: Embedder | None,
    assistant_id: str,
    query: str,
    top_k: int,
) -> list[ChunkHit]:
    """The `top_k` best chunks of the assistant's complete documents for `query`, best first."""
    started = time.perf_counter()
    candidates = top_k * _CANDIDATES_PER_HIT
    searches: list[Awaitable[list[ChunkHit]]] = []
    terms = query_terms(query)
    if terms:
        searches.append(knowledge.search_lexical(assistant_id, terms, limit=candidates))
    if embedder is not None and query.strip():
        searches.append(_vector_search(knowledge, embedder, assistant_id, query, candidates))
    rankings = await _all_of(searches)
    hits = await _complete_only(fuse(rankings), documents=documents, assistant_id=assistant_id, top_k=top_k)
    RETRIEVAL_SECONDS.labels("hybrid" if len(searches) > 1 else "lexical").observe(time.perf_counter() - started)
    return hits


async def _all_of(searches: list[Awaitable[list[ChunkHit]]]) -> list[list[ChunkHit]]:
    """Both searches at once (the lexical one runs while the query is embedded and the vectors are scanned); if
    one fails, the other is cancelled and awaited before the failure goes on, so nothing is left running."""
    tasks = [asyncio.ensure_future(search) for search in searches]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _vector_search(
    knowledge: KnowledgeIndex, embedder: Embedder, assistant_id: str, query: str, limit: int
) -> list[ChunkHit]:
    vector = await embedder.embed_query(query)
    return await knowledge.search_vectors(assistant_id, vector, limit=limit)


def fuse(rankings: Sequence[Sequence[ChunkHit]], *, k: int = RRF_K) -> list[ChunkHit]:
    """Reciprocal rank fusion: each chunk scores the sum of 1/(k + rank) over the rankings that hold it."""
    scores: dict[tuple[str, int], float] = {}
    first_seen: dict[tuple[str, int], ChunkHit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.key] = scores.get(hit.key, 0.0) + 1.0 / (k + rank)
            first_seen.setdefault(hit.key, hit)
    ordered = sorted(scores, key=lambda key: (-scores[key], key))
    return [_rescored(first_seen[key], scores[key]) for key in ordered]


def _rescored(hit: ChunkHit, score: float) -> ChunkHit:
    return ChunkHit(
        assistant_id=hit.assistant_id,
        document_id=hit.document_id,
        index=hit.index,
        text=hit.text,
        filename=hit.filename,
        heading=hit.heading,
        score=score,
    )


async def _complete_only(
    hits: list[ChunkHit], *, documents: DocumentRepository, assistant_id: str, top_k: int
) -> list[ChunkHit]:
    """The first `top_k` hits whose document is complete; each document's record is read once."""
    complete: dict[str, bool] = {}
    kept: list[ChunkHit] = []
    for hit in hits:
        if hit.assistant_id != assistant_id:
            continue  # never another assistant's, whatever an index answers
        if hit.document_id not in complete:
            record = await documents.get(assistant_id, hit.document_id)
            complete[hit.document_id] = record is not None and record.status is DocumentStatus.COMPLETE
        if complete[hit.document_id]:
            kept.append(hit)
            if len(kept) == top_k:
                break
    return kept


def build_retrieval(assistant_id: str, hits: list[ChunkHit], *, max_chars: int) -> Retrieval:
    """The context the model is given (within `max_chars`) and one citation per chunk it holds, in order."""
    parts: list[str] = []
    used = 0
    kept: list[ChunkHit] = []
    for number, hit in enumerate(hits, start=1):
        source = f"{hit.filename} › {hit.heading}" if hit.heading else hit.filename
        part = f"[{number}] (source: {source})\n{hit.text.strip()}"
        if used + len(part) > max_chars:
            room = max_chars - used
            if room < 200:  # too little to be worth a passage
                break
            part = part[: room - 1] + "…"
        parts.append(part)
        kept.append(hit)
        used += len(part) + 2
        if used >= max_chars:
            break
    context = ""
    if parts:
        context = (
            "Passages from this assistant's knowledge base that may answer the question. Use them where they are"
            " relevant, and name the source of what you take from them.\n\n" + "\n\n".join(parts)
        )
    citations = [
        Citation(
            assistant_id=assistant_id,
            document_id=hit.document_id,
            file_name=hit.filename,
            text=hit.text[:CITATION_EXCERPT_CHARS],
        )
        for hit in kept
    ]
    return Retrieval(hits=kept, context=context, citations=citations)


async def retrieve(
    *,
    knowledge: KnowledgeIndex,
    documents: DocumentRepository,
    embedder: Embedder | None,
    assistant_id: str,
    query: str,
    top_k: int,
    max_chars: int,
) -> Retrieval:
    """Search, then shape the result for a turn."""
    hits = await search(
        knowledge=knowledge,
        documents=documents,
        embedder=embedder,
        assistant_id=assistant_id,
        query=query,
        top_k=top_k,
    )
    return build_retrieval(assistant_id, hits, max_chars=max_chars)
