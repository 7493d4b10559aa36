"""A front for moto's Amazon S3 Vectors that adds what moto 5 lacks, for the real boto3 `s3vectors` client.

Point the client at it (S3_VECTORS_ENDPOINT_URL). moto's server routes S3 Vectors' REST-JSON requests (`POST
/<Operation>`) by the service in the signature's scope, and serves buckets, indexes and Put/Get/List/Delete
Vectors; the front passes every request to it unchanged and its answer back, but for two:

- QueryVectors (`POST /QueryVectors`), which moto does not have. The front answers it as S3 Vectors does,
  `{"vectors": [{"key", "distance", "metadata"}], "distanceMetric"}`, nearest first, `distance` and
  `metadata` only when asked for: it reads the index from moto (GetIndex, then ListVectors with data and
  metadata, page by page), keeps the vectors the `filter` matches, and measures cosine (1 - similarity) or
  euclidean distances exactly (the real index is approximate). The filter takes S3 Vectors' operators:
  a plain value (equality), `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte`, `$in`, `$nin`, `$exists`, `$and`,
  `$or`; an array value matches `$eq` and `$in` when one of its elements does. A query S3 Vectors would
  refuse (topK outside 1 to 100, a vector of another dimension, an unknown operator) is a ValidationException.
- CreateIndex of an index that exists: moto replaces it with an empty one, S3 Vectors refuses with a
  ConflictException, and so does the front.

Signatures are not checked (moto does not check them either); the front sends moto the client's own headers,
so moto sees the same account and region.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import serve

MAX_TOP_K = 100
LIST_PAGE = 500
# Headers that belong to one hop (or that the sender recomputes), never passed along.
_HOP_HEADERS = frozenset(
    {"host", "content-length", "connection", "transfer-encoding", "content-encoding", "keep-alive", "server", "date"}
)
_MISSING = object()
_FIELD_OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists"})


class FilterError(ValueError):
    """A metadata filter S3 Vectors would refuse."""


def s3vectors_error(status: int, code: str, message: str) -> Response:
    """An error as S3 Vectors sends it: the code in `x-amzn-ErrorType` and the body's `__type`."""
    return JSONResponse({"__type": code, "message": message}, status_code=status, headers={"x-amzn-ErrorType": code})


def _validation(message: str) -> Response:
    return s3vectors_error(400, "ValidationException", message)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _compare(value: Any, operator: str, operand: Any) -> bool:
    """One operator applied to one stored value (never an array: `_field_matches` splits those)."""
    match operator:
        case "$eq":
            return bool(value == operand)
        case "$ne":
            return bool(value != operand)
        case "$in":
            return value in operand
        case "$nin":
            return value not in operand
    if operator not in ("$gt", "$gte", "$lt", "$lte"):
        raise FilterError(f"unsupported filter operator {operator}")
    bound, number = _number(operand), _number(value)
    if bound is None:
        raise FilterError(f"{operator} compares numbers only")
    if number is None:  # a string or a boolean is never above or below a number
        return False
    match operator:
        case "$gt":
            return number > bound
        case "$gte":
            return number >= bound
        case "$lt":
            return number < bound
    return number <= bound


def _field_matches(value: Any, condition: Any) -> bool:
    operators = condition if isinstance(condition, dict) else {"$eq": condition}
    unknown = set(operators) - _FIELD_OPERATORS
    if unknown or not operators:
        raise FilterError(f"unsupported filter operators {sorted(unknown)}")
    for operator, operand in operators.items():
        if operator == "$exists":
            if (value is not _MISSING) != bool(operand):
                return False
            continue
        if operator in ("$in", "$nin") and not isinstance(operand, list):
            raise FilterError(f"{operator} takes an array")
        if value is _MISSING:
            if operator not in ("$ne", "$nin"):
                return False
            continue
        values = value if isinstance(value, list) else [value]
        held = [_compare(one, operator, operand) for one in values]
        if not (all(held) if operator in ("$ne", "$nin") else any(held)):
            return False
    return True


def filter_matches(metadata: dict[str, Any], condition: Any) -> bool:
    """Whether a vector's metadata passes an S3 Vectors filter; several keys at one level must all hold."""
    if not isinstance(condition, dict) or not condition:
        raise FilterError("a filter is a non-empty object")
    for key, operand in condition.items():
        if key in ("$and", "$or"):
            if not isinstance(operand, list) or not operand:
                raise FilterError(f"{key} takes a non-empty array of filters")
            results = [filter_matches(metadata, inner) for inner in operand]
            if not (all(results) if key == "$and" else any(results)):
                return False
        elif key.startswith("$"):
            raise FilterError(f"unsupported filter operator {key}")
        elif not _field_matches(metadata.get(key, _MISSING), operand):
            return False
    return True


def distance(metric: str, a: list[float], b: list[float]) -> float:
    """S3 Vectors' distances: cosine is 1 - the cosine similarity, euclidean the straight-line distance."""
    if metric == "euclidean":
        return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return 1.0 - (sum(x * y for x, y in zip(a, b, strict=True)) / norms if norms else 0.0)


def _index_reference(body: dict[str, Any]) -> dict[str, Any]:
    return {name: body[name] for name in ("vectorBucketName", "indexName", "indexArn") if name in body}


class S3VectorsFront:
    """The front's handlers: moto behind, reached with the caller's own headers."""

    def __init__(self, moto_url: str) -> None:
        self.moto_url = moto_url
        self._creating = anyio.Lock()

    @staticmethod
    def _headers(request: Request) -> dict[str, str]:
        return {name: value for name, value in request.headers.items() if name.lower() not in _HOP_HEADERS}

    async def _moto(self, request: Request, path: str, body: bytes) -> httpx.Response:
        """`body` sent to moto's `path` with the caller's method, query string and headers."""
        # A client a request: moto closes every connection anyway, and nothing is left open at the end.
        async with httpx.AsyncClient(base_url=self.moto_url, timeout=30) as client:
            query = request.url.query
            target = f"{path}?{query}" if query else path
            return await client.request(request.method, target, content=body, headers=self._headers(request))

    @staticmethod
    def _answer(response: httpx.Response) -> Response:
        headers = {name: value for name, value in response.headers.items() if name.lower() not in _HOP_HEADERS}
        return Response(response.content, status_code=response.status_code, headers=headers)

    async def forward(self, request: Request) -> Response:
        """Any operation moto serves: its request and its answer, unchanged."""
        return self._answer(await self._moto(request, request.url.path, await request.body()))

    async def create_index(self, request: Request) -> Response:
        body = await request.body()
        wanted = json.loads(body or b"{}")
        async with self._creating:  # the check and the create as one step, as S3 Vectors makes them
            if "vectorBucketName" in wanted:
                probe = {"vectorBucketName": wanted["vectorBucketName"], "indexName": wanted.get("indexName")}
                existing = await self._moto(request, "/GetIndex", json.dumps(probe).encode())
                if existing.status_code == 200:
                    return s3vectors_error(409, "ConflictException", "An index with the specified name already exists")
            return self._answer(await self._moto(request, "/CreateIndex", body))

    async def _all_vectors(self, request: Request, index: dict[str, Any]) -> list[dict[str, Any]] | Response:
        vectors: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page_request = {**index, "returnData": True, "returnMetadata": True, "maxResults": LIST_PAGE}
            if token is not None:
                page_request["nextToken"] = token
            page = await self._moto(request, "/ListVectors", json.dumps(page_request).encode())
            if page.status_code != 200:
                return self._answer(page)
            answer = page.json()
            vectors.extend(answer.get("vectors", []))
            token = answer.get("nextToken")
            if not token:
                return vectors

    async def query_vectors(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError:
            return _validation("the request body is not JSON")
        index = _index_reference(body)
        described = await self._moto(request, "/GetIndex", json.dumps(index).encode())
        if described.status_code != 200:
            return self._answer(described)
        metric = str(described.json()["index"]["distanceMetric"])
        dimension = int(described.json()["index"]["dimension"])
        top_k = body.get("topK")
        query = (body.get("queryVector") or {}).get("float32")
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            return _validation(f"topK must be between 1 and {MAX_TOP_K}")
        if not isinstance(query, list) or len(query) != dimension:
            return _validation(f"queryVector must have length {dimension}")
        stored = await self._all_vectors(request, index)
        if isinstance(stored, Response):
            return stored
        try:
            if "filter" in body:
                filter_matches({}, body["filter"])  # refused whatever the index holds, even nothing
            kept = [
                v for v in stored if "filter" not in body or filter_matches(v.get("metadata") or {}, body["filter"])
            ]
        except FilterError as refused:
            return _validation(f"invalid filter: {refused}")
        measured = sorted((distance(metric, query, v["data"]["float32"]), v["key"], v) for v in kept)
        answer = []
        for measure, key, vector in measured[:top_k]:
            found: dict[str, Any] = {"key": key}
            if body.get("returnDistance"):
                found["distance"] = measure
            if body.get("returnMetadata"):
                found["metadata"] = vector.get("metadata") or {}
            answer.append(found)
        return JSONResponse({"vectors": answer, "distanceMetric": metric})


def s3vectors_app(moto_url: str) -> Starlette:
    front = S3VectorsFront(moto_url)
    return Starlette(
        routes=[
            Route("/QueryVectors", front.query_vectors, methods=["POST"]),
            Route("/CreateIndex", front.create_index, methods=["POST"]),
            Route("/{path:path}", front.forward, methods=["GET", "POST", "PUT", "DELETE"]),
        ]
    )


@contextmanager
def running_s3vectors(moto_url: str) -> Iterator[str]:
    """Serve the front for the moto server at `moto_url` on a loopback port; yields its URL."""
    with serve(s3vectors_app(moto_url)) as url:
        yield url
