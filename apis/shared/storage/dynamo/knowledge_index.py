"""KnowledgeIndex on DynamoDB and Amazon S3 Vectors: an inverted index in the shared table, vectors beside it.

DynamoDB has no full-text search, so the table holds one (keys in knowledge_items.py): each chunk's item (its
text, filename, heading and length in terms); per (assistant, term) a partition of postings, one item per
document listing the chunks that hold the term with the term's frequency and the chunk's length; per assistant
a statistics item (chunks, total length) changed only by atomic ADDs; per document a manifest of what its put
wrote, and the list of its terms. Vectors live in S3 Vectors (knowledge_vectors.py); their texts stay here.

Putting a document, safe to repeat and to retry after a failure at any point:
1. remove whatever an earlier put of the document left (below);
2. in one transaction, put its manifest (chunk count, total length, number of terms items, vector index and
   count, a fresh version) and ADD its chunks and length to the assistant's statistics, so that the statistics
   are always the sum of the manifests;
3. BatchWriteItem the terms items (in calls of their own), then the chunks and the postings (25 to a call; what
   DynamoDB leaves unprocessed is retried with backoff, and StorageUnavailableError is raised if it never lands);
4. PutVectors in the index of their dimension (made on its first put).
The manifest is written first and removed last, and the terms items that name the postings are written before
them and removed after them: whatever a failed put or removal left, its manifest still names, so the same call
again removes all of it and no item or vector is ever orphaned.

Removing a document: GetItem its manifest (none: nothing is stored); DeleteVectors of its keys (they follow
from the count); Query its terms items and delete the postings they name, then its chunks and terms items; then,
in one transaction, delete the manifest (only the version read) and subtract it from the statistics. Removing
an assistant removes each document its manifests name, then its statistics item once it counts nothing.

Lexical search is BM25 (k1 1.2, b 0.75, FTS5's idf floored at 1e-6, over the same `lexical.index_terms` of
heading and text as the other backends). Its statistics are the assistant's own: N and avgdl from the statistics
item, df the number of the assistant's postings of the term. FTS5 (and so SQLite, and the memory fake that copies
it) counts every assistant's chunks instead; here another assistant's documents never move a ranking, and no
term needs a counter that the whole fleet would write. Concurrently: GetItem the statistics and, per query
term, Query its postings to the end; then BatchGetItem the best `limit` chunks. Vector search is one
QueryVectors filtered on the assistant, then BatchGetItem of the hits' chunks. Searches read eventually
consistently, at half the price: a document indexed a moment ago may be missing for a moment.

Costs, for a document of C chunks with V distinct terms (about 2,000 for 100 chunks of 200 words):
- items: C chunk items + about V posting items (a term in more than 2,000 of its chunks takes one more per
  2,000) + V/4,000 terms items + 1 manifest, and C vectors: about 1 + V/C table items per chunk (21 above), far
  fewer than an item per (term, chunk) would take (one per distinct term of each chunk: about 120);
- a put: 1 GetItem + 1 transaction (2 items) + (C + V + V/4,000) / 25 BatchWriteItem calls (one write unit
  an item, two for a chunk of 1,200 characters) + C/500 PutVectors, after the removal of an earlier put;
- a removal: 1 GetItem + 1 Query + C/500 DeleteVectors + (C + V) / 25 BatchWriteItem + 1 transaction;
- a search of T terms: 1 GetItem + T Queries (one more for each MB of a term's postings) + 1 BatchGetItem, in
  two round trips; read units are about the postings' bytes / 8 KB (one entry is about 12 bytes);
- count_entries: a Query with Select=COUNT over each document's chunks and GetVectors of its keys: it reads
  what is stored, not what the manifests claim, so tests and audits can trust it.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from botocore.exceptions import ClientError

from apis.shared.assistants.documents import Chunk, ChunkHit
from apis.shared.errors import ConflictError
from apis.shared.storage.dynamo import knowledge_items as items
from apis.shared.storage.dynamo import knowledge_table as calls
from apis.shared.storage.dynamo.client import Table
from apis.shared.storage.dynamo.errors import error_code
from apis.shared.storage.dynamo.knowledge_vectors import S3VectorStore, vector_keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_K1 = 1.2
_B = 0.75
_MIN_IDF = 1e-6  # FTS5's floor for a term in more than half the chunks


async def _concurrently(reads: Sequence[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Await `reads` at the same time; their results in order. A failure is raised as itself, not in a group."""
    results: dict[int, Any] = {}

    async def run(position: int, call: Callable[[], Awaitable[Any]]) -> None:
        results[position] = await call()

    try:
        async with anyio.create_task_group() as group:
            for position, read in enumerate(reads):
                group.start_soon(run, position, read)
    except ExceptionGroup as failed:
        first: BaseException = failed
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first  # noqa: B904 -- the storage error as the callers expect it, with its own cause
    return [results[position] for position in range(len(reads))]


def _checked_dimension(document_id: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]] | None) -> int:
    """The one dimension of the document's vectors (0: none); a caller's mistake raises ValueError."""
    if any(chunk.document_id != document_id for chunk in chunks):
        raise ValueError(f"every chunk put for document {document_id} must belong to it")
    if vectors is None or not chunks:
        if vectors:
            raise ValueError("vectors were given for a document without chunks")
        return 0
    if len(vectors) != len(chunks):
        raise ValueError(f"{len(vectors)} vectors for {len(chunks)} chunks: one per chunk is needed")
    dimensions = {len(vector) for vector in vectors}
    if len(dimensions) != 1 or 0 in dimensions:
        raise ValueError(f"a document's vectors must share one dimension of at least 1: {sorted(dimensions)}")
    return dimensions.pop()


def _bm25(statistics: tuple[int, int], postings: list[list[items.Posting]]) -> dict[tuple[str, int], float]:
    """Each chunk's score for the query whose terms' postings are given, under the assistant's statistics."""
    chunks, length = statistics
    average = length / chunks or 1.0
    scores: dict[tuple[str, int], float] = {}
    for term_postings in postings:
        having = len(term_postings)
        # max(): the statistics may be read a moment staler than the postings.
        idf = max(math.log((max(chunks, having) - having + 0.5) / (having + 0.5)), _MIN_IDF)
        for posting in term_postings:
            norm = _K1 * (1 - _B + _B * posting.length / average)
            key = (posting.document_id, posting.position)
            gain = idf * posting.frequency * (_K1 + 1) / (posting.frequency + norm)
            scores[key] = scores.get(key, 0.0) + gain
    return scores


def _best_first(entry: tuple[tuple[str, int], float]) -> tuple[float, tuple[str, int]]:
    """Higher scores first; ties in document order, as the other backends break them."""
    return (-entry[1], entry[0])


class DynamoKnowledgeIndex:
    """Chunks and postings in the shared table, vectors in S3 Vectors; the design is in the module docstring."""

    def __init__(self, table: Table, vectors: S3VectorStore) -> None:
        self._table = table
        self._vectors = vectors

    async def _manifests(self, assistant_id: str, document_id: str | None) -> list[items.Manifest]:
        if document_id is not None:
            found = await calls.get_item(self._table, items.manifest_key(assistant_id, document_id))
            return [items.Manifest.from_item(found)] if found is not None else []
        listed = await calls.query_partition(self._table, items.knowledge_pk(assistant_id), items.MANIFEST_SK_PREFIX)
        return [items.Manifest.from_item(item) for item in listed]

    def _statistics_action(self, assistant_id: str, manifest: items.Manifest, sign: int) -> TransactWriteItemTypeDef:
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": items.stats_key(assistant_id),
                "UpdateExpression": "ADD #chunks :chunks, #terms :terms",
                "ExpressionAttributeNames": {"#chunks": items.CHUNKS, "#terms": items.TERMS},
                "ExpressionAttributeValues": {
                    ":chunks": {"N": str(sign * manifest.chunks)},
                    ":terms": {"N": str(sign * manifest.length)},
                },
            }
        }

    async def put_document(
        self,
        assistant_id: str,
        document_id: str,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]] | None,
    ) -> None:
        dimension = _checked_dimension(document_id, chunks, vectors)
        await self.delete_document(assistant_id, document_id)
        if not chunks:
            return
        if dimension:  # before anything is written: a missing bucket stops the put with nothing to undo
            await self._vectors.ensure_index(dimension)
        # Stemming thousands of chunks takes a while: off the event loop.
        built = await anyio.to_thread.run_sync(partial(items.document_items, assistant_id, document_id, chunks))
        manifest = items.Manifest(
            document_id=document_id,
            chunks=len(chunks),
            length=built.length,
            term_items=len(built.term_items),
            vector_index=self._vectors.index_name(dimension) if dimension else None,
            vectors=len(chunks) if dimension else 0,
            version=uuid.uuid4().hex,
        )
        put: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._table.name,
                "Item": manifest.item(assistant_id),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        if await self._table.transact([put, self._statistics_action(assistant_id, manifest, +1)]) is not None:
            raise ConflictError(f"document {document_id} is being indexed by another call at the same time")
        # The terms items in calls of their own: no posting lands before every terms item that names it has.
        await calls.put_items(self._table, built.term_items)
        await calls.put_items(self._table, [*built.chunk_items, *built.posting_items])
        if vectors and dimension:
            await self._vectors.put(assistant_id, document_id, vectors)

    async def _remove(self, assistant_id: str, manifest: items.Manifest) -> None:
        document_id = manifest.document_id
        if manifest.vector_index is not None and manifest.vectors:
            await self._vectors.delete(manifest.vector_index, vector_keys(assistant_id, document_id, manifest.vectors))
        pk = items.document_pk(assistant_id, document_id)
        term_items = await calls.query_partition(self._table, pk, items.TERMS_SK_PREFIX)
        postings = [key for item in term_items for key in items.posting_keys_of(assistant_id, document_id, item)]
        await calls.delete_keys(self._table, postings)
        chunk_keys = [items.chunk_key(assistant_id, document_id, position) for position in range(manifest.chunks)]
        terms_keys = [items.terms_key(assistant_id, document_id, n) for n in range(len(term_items))]
        await calls.delete_keys(self._table, [*chunk_keys, *terms_keys])
        delete: TransactWriteItemTypeDef = {
            "Delete": {
                "TableName": self._table.name,
                "Key": items.manifest_key(assistant_id, document_id),
                "ConditionExpression": "#version = :version",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":version": {"S": manifest.version}},
            }
        }
        # A failed condition: another removal of the same put finished first, and subtracted it already.
        await self._table.transact([delete, self._statistics_action(assistant_id, manifest, -1)])

    async def delete_document(self, assistant_id: str, document_id: str) -> None:
        for manifest in await self._manifests(assistant_id, document_id):
            await self._remove(assistant_id, manifest)

    async def delete_assistant(self, assistant_id: str) -> None:
        for manifest in await self._manifests(assistant_id, None):
            await self._remove(assistant_id, manifest)
        await self._table.run(partial(self._delete_statistics, assistant_id))

    def _delete_statistics(self, assistant_id: str) -> None:
        """Only when they count nothing: a put that started meanwhile has added to them already."""
        try:
            self._table.client.delete_item(
                TableName=self._table.name,
                Key=items.stats_key(assistant_id),
                ConditionExpression="#chunks = :zero",
                ExpressionAttributeNames={"#chunks": items.CHUNKS},
                ExpressionAttributeValues={":zero": {"N": "0"}},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":  # none, or they count a put: both are kept
                raise

    async def _statistics(self, assistant_id: str) -> tuple[int, int]:
        found = await calls.get_item(self._table, items.stats_key(assistant_id), consistent=False)
        if found is None:
            return (0, 0)
        return (int(found[items.CHUNKS]["N"]), int(found[items.TERMS]["N"]))

    async def _postings(self, assistant_id: str, term: str) -> list[items.Posting]:
        found = await calls.query_partition(self._table, items.term_pk(assistant_id, term), consistent=False)
        return [posting for item in found for posting in items.postings_of(item)]

    async def _hits(self, assistant_id: str, scored: list[tuple[tuple[str, int], float]]) -> list[ChunkHit]:
        """The hits of (document id, position) pairs with their scores, in order; a chunk removed meanwhile is
        left out. Eventually consistent reads, as the postings were."""
        keys = [items.chunk_key(assistant_id, *pair) for pair in dict.fromkeys(pair for pair, _ in scored)]
        found = {items.chunk_place(item): item for item in await calls.batch_get(self._table, keys, consistent=False)}
        return [items.chunk_hit(assistant_id, found[pair], score) for pair, score in scored if pair in found]

    async def search_lexical(self, assistant_id: str, terms: Sequence[str], *, limit: int) -> list[ChunkHit]:
        query = [term for term in dict.fromkeys(terms) if term]
        if not query or limit < 1:
            return []
        reads: list[Callable[[], Awaitable[Any]]] = [
            partial(self._statistics, assistant_id),
            *(partial(self._postings, assistant_id, t) for t in query),
        ]
        statistics, *postings = await _concurrently(reads)
        if statistics[0] <= 0:
            return []
        scores = _bm25(statistics, postings)
        best = sorted(scores.items(), key=_best_first)[:limit]
        return await self._hits(assistant_id, best)

    async def search_vectors(self, assistant_id: str, vector: Sequence[float], *, limit: int) -> list[ChunkHit]:
        found = await self._vectors.query(assistant_id, vector, limit)
        scored = sorted((((hit.document_id, hit.position), hit.score) for hit in found), key=_best_first)
        return await self._hits(assistant_id, scored)

    async def count_entries(self, assistant_id: str, document_id: str | None = None) -> int:
        total = 0
        for manifest in await self._manifests(assistant_id, document_id):
            pk = items.document_pk(assistant_id, manifest.document_id)
            total += await calls.count_partition(self._table, pk, items.CHUNK_SK_PREFIX)
            if manifest.vector_index is not None and manifest.vectors:
                keys = vector_keys(assistant_id, manifest.document_id, manifest.vectors)
                total += await self._vectors.count(manifest.vector_index, keys)
        return total
