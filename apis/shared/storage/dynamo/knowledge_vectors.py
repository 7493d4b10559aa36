"""Knowledge-base vectors in Amazon S3 Vectors: one vector bucket, one index per vector dimension.

    bucket  S3_VECTORS_BUCKET_NAME, made by `colloquy storage init`
    index   {S3_VECTORS_INDEX_PREFIX}-{dimension}, float32, cosine, made on the first put of that dimension
    vector  key {assistantId}#{documentId}#{position}   metadata {assistantId, documentId} (both filterable)

A key's position is the chunk's place in the document's put, so a document's keys follow from how many
vectors it has (the index manifest keeps that count): a delete or a count asks for exactly those keys, and no
call ever lists an index, whose size is every assistant's. A query filters on assistantId, so it answers only
that assistant's vectors. Chunk texts are not metadata (S3 Vectors keeps 2 KB of filterable and 40 KB of
metadata in all per vector): the table holds them, and a search reads the hits' texts from there.

Calls go through boto3's `s3vectors` client in worker threads. Its failures are translated as the table's
are (errors.py), plus S3 Vectors' own names for the same things: TooManyRequestsException,
ServiceUnavailableException, InternalServerException and RequestTimeoutException are StorageUnavailableError,
NotFoundException a StorageError that says to run `colloquy storage init`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Final, TypeVar

import anyio.to_thread
from botocore.exceptions import ClientError

from apis.shared.errors import StorageError, StorageUnavailableError
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.errors import error_code, map_exceptions, record

if TYPE_CHECKING:
    from mypy_boto3_s3vectors.client import S3VectorsClient
    from mypy_boto3_s3vectors.type_defs import PutInputVectorTypeDef

T = TypeVar("T")
DISTANCE_METRIC: Final = "cosine"
# S3 Vectors' limits: vectors in one PutVectors and keys in one DeleteVectors, keys in one GetVectors, topK.
PUT_LIMIT = 500
GET_LIMIT = 100
TOP_K_LIMIT = 100
# A PutVectors request body is capped too (20 MiB): 500 vectors of 4096 floats as JSON would pass it.
_FLOATS_PER_PUT = 500_000
_TRANSIENT_CODES = frozenset(
    {"TooManyRequestsException", "ServiceUnavailableException", "InternalServerException", "RequestTimeoutException"}
)
_MISSING = "NotFoundException"


def vector_key(assistant_id: str, document_id: str, position: int) -> str:
    return f"{schema.escape(assistant_id)}#{schema.escape(document_id)}#{position}"


def vector_keys(assistant_id: str, document_id: str, count: int) -> list[str]:
    return [vector_key(assistant_id, document_id, position) for position in range(count)]


@dataclass(frozen=True, slots=True)
class VectorHit:
    """A vector a query found: whose chunk it is and its cosine similarity to the query."""

    document_id: str
    position: int
    score: float


def _is_missing(exc: ClientError) -> bool:
    return error_code(exc) == _MISSING


class S3VectorStore:
    """Chunk vectors of every assistant in one S3 Vectors bucket; the layout is in the module docstring."""

    def __init__(self, client: S3VectorsClient, bucket: str, index_prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.index_prefix = index_prefix
        self.resource = f"vector bucket {bucket}"
        # Indexes known to exist: they are made, never dropped, so a yes stays true (a no is asked again).
        self._indexes: set[str] = set()

    def index_name(self, dimension: int) -> str:
        return f"{self.index_prefix}-{dimension}"

    async def _run(self, call: Callable[[], T]) -> T:
        """Run one blocking boto3 call off the event loop; AWS failures become storage errors."""
        with map_exceptions(self.resource):
            try:
                return await anyio.to_thread.run_sync(call)
            except ClientError as exc:
                code = error_code(exc)
                if code in _TRANSIENT_CODES:
                    busy = StorageUnavailableError(f"{self.resource} is busy or unavailable for now: try again shortly")
                    raise record(busy, exc) from exc
                if code == _MISSING:
                    missing = StorageError(f"{self.resource} or its index does not exist: run `colloquy storage init`")
                    raise record(missing, exc) from exc
                raise

    def _ensure_index(self, name: str, dimension: int) -> None:
        """Create the index unless it exists; another instance making it at the same moment is fine."""
        try:
            self.client.get_index(vectorBucketName=self.bucket, indexName=name)
            return
        except ClientError as exc:
            if not _is_missing(exc):
                raise
        try:
            self.client.create_index(
                vectorBucketName=self.bucket,
                indexName=name,
                dataType="float32",
                dimension=dimension,
                distanceMetric=DISTANCE_METRIC,
            )
        except ClientError as exc:
            if error_code(exc) != "ConflictException":
                raise

    async def ensure_index(self, dimension: int) -> str:
        """The name of the index of `dimension`, made first if it does not exist yet."""
        name = self.index_name(dimension)
        if name not in self._indexes:
            await self._run(partial(self._ensure_index, name, dimension))
            self._indexes.add(name)
        return name

    async def put(self, assistant_id: str, document_id: str, vectors: Sequence[Sequence[float]]) -> None:
        """Store a document's vectors (all of one dimension) under keys of their positions; replaces same keys."""
        if not vectors:
            return
        dimension = len(vectors[0])
        name = await self.ensure_index(dimension)
        metadata = {"assistantId": assistant_id, "documentId": document_id}
        batch = max(1, min(PUT_LIMIT, _FLOATS_PER_PUT // dimension))
        for first in range(0, len(vectors), batch):
            entries: list[PutInputVectorTypeDef] = [
                {
                    "key": vector_key(assistant_id, document_id, position),
                    "data": {"float32": [float(x) for x in vectors[position]]},
                    "metadata": metadata,
                }
                for position in range(first, min(first + batch, len(vectors)))
            ]
            await self._run(
                partial(self.client.put_vectors, vectorBucketName=self.bucket, indexName=name, vectors=entries)
            )

    def _delete(self, name: str, keys: list[str]) -> None:
        try:
            self.client.delete_vectors(vectorBucketName=self.bucket, indexName=name, keys=keys)
        except ClientError as exc:
            if not _is_missing(exc):  # no index (or bucket): none of its vectors is left to delete
                raise

    async def delete(self, index_name: str, keys: Sequence[str]) -> None:
        """Remove vectors by key; keys that are not stored are no error."""
        for first in range(0, len(keys), PUT_LIMIT):
            await self._run(partial(self._delete, index_name, list(keys[first : first + PUT_LIMIT])))

    def _present(self, name: str, keys: list[str]) -> int:
        try:
            found = self.client.get_vectors(vectorBucketName=self.bucket, indexName=name, keys=keys)
        except ClientError as exc:
            if _is_missing(exc):
                return 0
            raise
        return len(found["vectors"])

    async def count(self, index_name: str, keys: Sequence[str]) -> int:
        """How many of `keys` are stored (GetVectors without data: keys only come back)."""
        total = 0
        for first in range(0, len(keys), GET_LIMIT):
            total += await self._run(partial(self._present, index_name, list(keys[first : first + GET_LIMIT])))
        return total

    def _query(self, assistant_id: str, vector: Sequence[float], limit: int) -> list[VectorHit]:
        name = self.index_name(len(vector))
        try:
            response = self.client.query_vectors(
                vectorBucketName=self.bucket,
                indexName=name,
                topK=limit,
                queryVector={"float32": [float(x) for x in vector]},
                filter={"assistantId": assistant_id},
                returnMetadata=True,
                returnDistance=True,
            )
        except ClientError as exc:
            if not _is_missing(exc):
                raise
            # No vector of this dimension was ever stored, unless the bucket itself is missing: that is an error.
            self.client.get_vector_bucket(vectorBucketName=self.bucket)
            return []
        hits = []
        for found in response["vectors"]:
            metadata = found.get("metadata") or {}
            if metadata.get("assistantId") != assistant_id:  # the filter's promise, kept even if it were broken
                continue
            hits.append(
                VectorHit(
                    document_id=str(metadata["documentId"]),
                    position=int(found["key"].rsplit("#", 1)[1]),
                    score=1.0 - float(found.get("distance", 1.0)),
                )
            )
        return hits

    async def query(self, assistant_id: str, vector: Sequence[float], limit: int) -> list[VectorHit]:
        """The assistant's vectors nearest to `vector`, nearest first, at most `limit` (and S3 Vectors' topK cap)."""
        if not vector or limit < 1:
            return []
        return await self._run(partial(self._query, assistant_id, vector, min(limit, TOP_K_LIMIT)))

    def _ensure_bucket(self) -> str:
        try:
            self.client.get_vector_bucket(vectorBucketName=self.bucket)
            return f"{self.resource}: exists"
        except ClientError as exc:
            if not _is_missing(exc):
                raise
        try:
            self.client.create_vector_bucket(vectorBucketName=self.bucket)
        except ClientError as exc:
            if error_code(exc) != "ConflictException":
                raise
            return f"{self.resource}: exists"
        return f"{self.resource}: created"

    async def ensure_bucket(self) -> str:
        """Create the vector bucket unless it exists (another instance may be making it now); a line for the output."""
        return await self._run(self._ensure_bucket)
