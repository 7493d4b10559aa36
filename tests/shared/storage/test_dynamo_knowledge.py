"""What the DynamoDB knowledge base owes beyond the contract suite: its BM25, the items and vectors it leaves
behind (read around it, from DynamoDB and moto), its retries and failures, set-up, and the S3 Vectors front."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.exceptions import ClientError
from botocore.retries.standard import ExponentialBackoff

from apis.shared.assistants import Chunk, Document, DocumentStatus, document_key
from apis.shared.assistants.lexical import index_terms, query_terms
from apis.shared.clock import new_id
from apis.shared.config import StorageSettings
from apis.shared.errors import StorageError, StorageUnavailableError
from apis.shared.storage import dynamo as dynamo_backend
from apis.shared.storage.dynamo import knowledge_table, schema
from apis.shared.storage.dynamo.client import MAX_ATTEMPTS, Table, dynamodb_client, s3vectors_client
from apis.shared.storage.dynamo.knowledge import DynamoDocumentRepository
from apis.shared.storage.dynamo.knowledge_index import DynamoKnowledgeIndex
from apis.shared.storage.dynamo.knowledge_vectors import S3VectorStore
from tests.helpers import with_s3vectors

if TYPE_CHECKING:
    from mypy_boto3_s3vectors.client import S3VectorsClient

pytestmark = pytest.mark.dynamodb


@pytest.fixture
def settings(dynamo_storage_settings: StorageSettings, s3vectors_server_url: str) -> StorageSettings:
    return with_s3vectors(dynamo_storage_settings, s3vectors_server_url)


class _Body:
    """The raw body botocore reads an injected response from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def injected(request: AWSPreparedRequest, status: int, body: dict[str, Any], headers: dict[str, str]) -> AWSResponse:
    """An answer botocore takes as the server's, without the request ever being sent."""
    return AWSResponse(request.url, status, HTTPHeaders.from_dict(headers), _Body(json.dumps(body).encode()))


@dataclass
class Faults:
    """Answers injected in place of the server's: per operation, how many calls meet which fault."""

    unprocessed: int = 0  # BatchWriteItem calls answered "none of it was processed"
    throttled: set[str] = field(default_factory=set)  # operations always answered with throttling
    throttled_answers: Counter[str] = field(default_factory=Counter)
    refused_writes_after: int | None = None  # BatchWriteItem calls that pass before the rest are refused
    batch_writes: int = 0

    def dynamodb(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else str(target)).rsplit(".", 1)[-1]
        json_headers = {"Content-Type": "application/x-amz-json-1.0"}
        if operation in self.throttled:
            self.throttled_answers[operation] += 1
            error = {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "Rate exceeded"}
            return injected(request, 400, error, json_headers)
        if operation != "BatchWriteItem":
            return None
        self.batch_writes += 1
        if self.refused_writes_after is not None and self.batch_writes > self.refused_writes_after:
            error = {"__type": "com.amazon.coral.validate#ValidationException", "message": "refused"}
            return injected(request, 400, error, json_headers)
        if self.unprocessed:
            self.unprocessed -= 1
            sent = request.body if isinstance(request.body, bytes | str) else b"{}"
            return injected(request, 200, {"UnprocessedItems": json.loads(sent)["RequestItems"]}, json_headers)
        return None

    def s3vectors(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        operation = request.url.rsplit("/", 1)[-1]
        if operation not in self.throttled:
            return None
        self.throttled_answers[operation] += 1
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "TooManyRequestsException"}
        return injected(request, 429, {"message": "Too many requests"}, headers)


@dataclass
class Knowledge:
    index: DynamoKnowledgeIndex
    documents: DynamoDocumentRepository
    settings: StorageSettings
    faults: Faults


@pytest.fixture
async def knowledge(settings: StorageSettings, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Knowledge]:
    """The index on its own clients, which answer from `faults` when told to; retries do not wait."""

    async def no_wait(attempt: int) -> None:
        return None

    monkeypatch.setattr(knowledge_table, "backoff", no_wait)
    await dynamo_backend.initialize(settings)
    client = dynamodb_client(settings)
    vectors = s3vectors_client(settings)
    faults = Faults()
    # botocore's stubs type handlers as returning None; a before-send handler may return the response.
    client.meta.events.register("before-send.dynamodb", faults.dynamodb)  # type: ignore[arg-type]
    vectors.meta.events.register("before-send.s3vectors", faults.s3vectors)  # type: ignore[arg-type]
    table = Table(client, settings.dynamodb_table_name)
    store = S3VectorStore(vectors, settings.s3_vectors_bucket_name, settings.s3_vectors_index_prefix)
    try:
        yield Knowledge(DynamoKnowledgeIndex(table, store), DynamoDocumentRepository(table), settings, faults)
    finally:
        client.close()
        vectors.close()


def raw_items(settings: StorageSettings, prefix: str = "") -> list[dict[str, Any]]:
    """The test table's items whose partition key starts with `prefix`, read around the backend."""
    client = dynamodb_client(settings)
    try:
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": settings.dynamodb_table_name, "ConsistentRead": True}
        while True:
            page = client.scan(**request)
            found.extend(item for item in page["Items"] if str(item["pk"]["S"]).startswith(prefix))
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    finally:
        client.close()


def knowledge_keys(settings: StorageSettings, assistant_id: str) -> set[tuple[str, str]]:
    return {(i["pk"]["S"], i["sk"]["S"]) for i in raw_items(settings, f"ASSISTANT#{assistant_id}#KNOWLEDGE")}


def moto_s3vectors(settings: StorageSettings) -> S3VectorsClient:
    """A client of moto itself, not of the front the backend uses."""
    return s3vectors_client(settings.model_copy(update={"s3_vectors_endpoint_url": settings.aws_endpoint_url}))


def stored_vectors(settings: StorageSettings, assistant_id: str) -> dict[str, dict[str, Any]]:
    """Every vector key of the assistant in every index of the test's vector bucket, with its metadata."""
    client = moto_s3vectors(settings)
    bucket = settings.s3_vectors_bucket_name
    try:
        found = {}
        for index in client.list_indexes(vectorBucketName=bucket)["indexes"]:
            pages = client.get_paginator("list_vectors").paginate(
                vectorBucketName=bucket, indexName=index["indexName"], returnMetadata=True
            )
            for page in pages:
                found.update({f"{index['indexName']}/{v['key']}": v.get("metadata", {}) for v in page["vectors"]})
        return {key: metadata for key, metadata in found.items() if metadata.get("assistantId") == assistant_id}
    finally:
        client.close()


def chunks(document_id: str, texts: list[str]) -> list[Chunk]:
    return [Chunk(document_id=document_id, index=i, text=text, filename="notes.md") for i, text in enumerate(texts)]


def moment(second: int) -> str:
    return f"2026-03-01T00:{second // 60:02d}:{second % 60:02d}.000000Z"


def make_document(assistant_id: str, *, status: DocumentStatus = DocumentStatus.UPLOADING) -> Document:
    document_id = new_id()
    return Document(
        document_id=document_id,
        assistant_id=assistant_id,
        owner_id="owner-1",
        filename="notes.md",
        content_type="text/markdown",
        size_bytes=120,
        storage_key=document_key(assistant_id, document_id),
        status=status,
        created_at=moment(1),
        updated_at=moment(1),
    )


# ---- BM25

ENERGY = [
    "Solar panels convert sunlight into electricity.",
    "Solar heating: solar collectors, solar tanks and solar pumps for hot water.",
    "Wind turbines generate electricity on windy hills.",
    "Batteries store electricity from solar panels overnight and release it slowly over many quiet hours.",
]
OFFICE = [
    "The cafeteria menu changes every week.",
    "Parking permits renew each January.",
    "Office plants need watering twice weekly.",
]


def reference_bm25(corpus: list[list[str]], query: list[str]) -> list[float]:
    """BM25 written out once more, apart from the backend: k1 1.2, b 0.75, FTS5's idf floored at 1e-6."""
    total = len(corpus)
    average = sum(len(terms) for terms in corpus) / total
    scores = []
    for terms in corpus:
        score = 0.0
        for term in query:
            frequency = terms.count(term)
            if frequency:
                having = sum(1 for other in corpus if term in other)
                idf = max(math.log((total - having + 0.5) / (having + 0.5)), 1e-6)
                score += idf * frequency * 2.2 / (frequency + 1.2 * (0.25 + 0.75 * len(terms) / average))
        scores.append(score)
    return scores


async def test_bm25_ranks_and_scores_as_written_out_over_the_assistants_own_chunks(knowledge: Knowledge) -> None:
    assistant, energy, office, neighbour = new_id(), new_id(), new_id(), new_id()
    await knowledge.index.put_document(assistant, energy, chunks(energy, ENERGY), None)
    await knowledge.index.put_document(assistant, office, chunks(office, OFFICE), None)
    # Another assistant full of the query's terms moves neither the statistics nor the ranking here.
    crowded = new_id()
    await knowledge.index.put_document(neighbour, crowded, chunks(crowded, ["solar electricity"] * 20), None)
    query = query_terms("solar electricity")

    hits = await knowledge.index.search_lexical(assistant, query, limit=10)

    places = [(energy, i) for i in range(len(ENERGY))] + [(office, i) for i in range(len(OFFICE))]
    expected = reference_bm25([index_terms(text) for text in ENERGY + OFFICE], query)
    ranked = sorted((pair for pair in zip(places, expected, strict=True) if pair[1] > 0), key=lambda p: -p[1])
    assert [hit.key for hit in hits] == [place for place, _ in ranked]
    assert [hit.score for hit in hits] == pytest.approx([score for _, score in ranked], rel=1e-9)
    assert [hit.key for hit in await knowledge.index.search_lexical(assistant, query, limit=2)] == [
        place for place, _ in ranked[:2]
    ]


async def test_ids_with_key_separators_keep_to_their_own_entries(knowledge: Knowledge) -> None:
    plain, tricky, document = "team", "team#KNOWLEDGE", "doc#1"
    await knowledge.index.put_document(plain, document, chunks(document, ["Solar panels on the roof."]), [[1.0, 0.0]])
    await knowledge.index.put_document(tricky, document, chunks(document, ["Solar farms in the desert."]), [[1.0, 0.0]])

    plain_hits = await knowledge.index.search_lexical(plain, ["solar"], limit=5)
    vector_hits = await knowledge.index.search_vectors(tricky, [1.0, 0.0], limit=5)

    assert [(hit.assistant_id, hit.document_id, hit.text) for hit in plain_hits] == [
        (plain, document, "Solar panels on the roof.")
    ]
    assert [(hit.assistant_id, hit.text) for hit in vector_hits] == [(tricky, "Solar farms in the desert.")]
    await knowledge.index.delete_assistant(tricky)
    assert await knowledge.index.count_entries(plain) == 2


# ---- what is left behind


async def test_putting_a_document_again_leaves_the_same_items_and_vectors_and_no_orphans(knowledge: Knowledge) -> None:
    assistant, document = new_id(), new_id()
    vectors = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    await knowledge.index.put_document(assistant, document, chunks(document, ENERGY), vectors)
    first = knowledge_keys(knowledge.settings, assistant)
    first_vectors = stored_vectors(knowledge.settings, assistant)

    await knowledge.index.put_document(assistant, document, chunks(document, ENERGY), vectors)

    assert knowledge_keys(knowledge.settings, assistant) == first
    assert stored_vectors(knowledge.settings, assistant) == first_vectors
    assert len(first_vectors) == 4
    assert all(metadata == {"assistantId": assistant, "documentId": document} for metadata in first_vectors.values())
    # A shorter document leaves none of the longer one's chunks, postings or vectors.
    await knowledge.index.put_document(assistant, document, chunks(document, OFFICE[:1]), [[0.0, 1.0, 0.0]])
    shorter = knowledge_keys(knowledge.settings, assistant)
    postings = {pk.rsplit("#TERM#", 1)[1] for pk, _ in shorter if "#TERM#" in pk}
    assert postings == set(index_terms(OFFICE[0]))
    assert sum(1 for _, sk in shorter if sk.startswith("CHUNK#")) == 1
    assert len(stored_vectors(knowledge.settings, assistant)) == 1


async def test_a_put_that_failed_part_way_is_finished_by_the_same_call_with_nothing_orphaned(
    knowledge: Knowledge,
) -> None:
    assistant, document, clean = new_id(), new_id(), new_id()
    vectors = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 1.0]]
    await knowledge.index.put_document(clean, document, chunks(document, ENERGY), vectors)
    knowledge.faults.batch_writes, knowledge.faults.refused_writes_after = 0, 1  # terms and some chunks land

    with pytest.raises(StorageError):
        await knowledge.index.put_document(assistant, document, chunks(document, ENERGY), vectors)
    part_way = knowledge_keys(knowledge.settings, assistant)
    knowledge.faults.refused_writes_after = None
    await knowledge.index.put_document(assistant, document, chunks(document, ENERGY), vectors)

    def shape(assistant_id: str) -> set[tuple[str, str]]:
        return {(pk.replace(assistant_id, "A"), sk) for pk, sk in knowledge_keys(knowledge.settings, assistant_id)}

    assert 0 < len(part_way) < len(shape(clean))
    assert shape(assistant) == shape(clean)
    assert await knowledge.index.count_entries(assistant) == 8
    stats = [i for i in raw_items(knowledge.settings, f"ASSISTANT#{assistant}#KNOWLEDGE") if i["sk"]["S"] == "STATS"]
    assert [stats[0]["chunkCount"]["N"]] == ["4"]

    knowledge.faults.batch_writes, knowledge.faults.refused_writes_after = 0, 0
    with pytest.raises(StorageError):
        await knowledge.index.put_document(assistant, document, chunks(document, ENERGY), vectors)
    knowledge.faults.refused_writes_after = None
    await knowledge.index.delete_document(assistant, document)
    assert knowledge_keys(knowledge.settings, assistant) == {(f"ASSISTANT#{assistant}#KNOWLEDGE", "STATS")}
    assert stored_vectors(knowledge.settings, assistant) == {}


async def test_deleting_documents_and_the_assistant_leaves_no_item_and_no_vector(knowledge: Knowledge) -> None:
    assistant, kept_assistant = new_id(), new_id()
    documents = [new_id() for _ in range(3)]
    for document in documents:
        await knowledge.index.put_document(assistant, document, chunks(document, ENERGY[:2]), [[1.0, 0.0]] * 2)
    kept = new_id()
    await knowledge.index.put_document(kept_assistant, kept, chunks(kept, ENERGY[:1]), [[1.0, 0.0]])

    await knowledge.index.delete_document(assistant, documents[0])
    remaining = knowledge_keys(knowledge.settings, assistant)
    assert not any(f"DOC#{documents[0]}" in pk + sk for pk, sk in remaining)
    assert not any(documents[0] in key for key in stored_vectors(knowledge.settings, assistant))

    await knowledge.index.delete_assistant(assistant)

    assert knowledge_keys(knowledge.settings, assistant) == set()
    assert stored_vectors(knowledge.settings, assistant) == {}
    assert await knowledge.index.count_entries(kept_assistant) == 2
    assert len(stored_vectors(knowledge.settings, kept_assistant)) == 1


# ---- retries and failures


async def test_unprocessed_items_are_written_again_until_they_land(knowledge: Knowledge) -> None:
    assistant, document = new_id(), new_id()
    knowledge.faults.unprocessed = 3

    await knowledge.index.put_document(assistant, document, chunks(document, ENERGY), None)

    assert knowledge.faults.unprocessed == 0
    assert await knowledge.index.count_entries(assistant, document) == len(ENERGY)
    hits = await knowledge.index.search_lexical(assistant, ["wind"], limit=5)
    assert [hit.key for hit in hits] == [(document, 2)]


async def test_items_that_never_land_are_unavailable(knowledge: Knowledge) -> None:
    knowledge.faults.unprocessed = 1_000
    document = new_id()

    with pytest.raises(StorageUnavailableError):
        await knowledge.index.put_document(new_id(), document, chunks(document, ENERGY), None)


async def test_throttled_reads_are_unavailable_on_both_stores(
    knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    assistant, document = new_id(), new_id()
    await knowledge.index.put_document(assistant, document, chunks(document, ENERGY), [[1.0, 0.0]] * len(ENERGY))
    knowledge.faults.throttled = {"Query", "QueryVectors"}
    # botocore retries throttling itself, after up to a second or two: not in a test.
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)

    with pytest.raises(StorageUnavailableError):
        await knowledge.index.search_lexical(assistant, ["solar"], limit=5)
    with pytest.raises(StorageUnavailableError):
        await knowledge.index.search_vectors(assistant, [1.0, 0.0], limit=5)
    # Each was retried by botocore before it was given up (its `max_attempts` counts retries, not attempts).
    assert knowledge.faults.throttled_answers == {"Query": MAX_ATTEMPTS + 1, "QueryVectors": MAX_ATTEMPTS + 1}


async def test_a_missing_vector_bucket_is_an_error_that_says_to_run_init(knowledge: Knowledge) -> None:
    settings = knowledge.settings.model_copy(update={"s3_vectors_bucket_name": f"missing-{new_id()[-12:]}"})
    client = s3vectors_client(settings)
    try:
        store = S3VectorStore(client, settings.s3_vectors_bucket_name, settings.s3_vectors_index_prefix)
        with pytest.raises(StorageError, match="colloquy storage init") as raised:
            await store.query(new_id(), [1.0, 0.0], 5)
        assert not isinstance(raised.value, StorageUnavailableError)
    finally:
        client.close()


# ---- set-up and documents


async def test_initialize_twice_makes_everything_once(settings: StorageSettings) -> None:
    first = await dynamo_backend.initialize(settings)
    second = await dynamo_backend.initialize(settings)

    vector_bucket = settings.s3_vectors_bucket_name
    assert f"vector bucket {vector_bucket}: created" in first
    assert f"vector bucket {vector_bucket}: exists" in second
    assert all(line.endswith("exists") for line in second)
    client = moto_s3vectors(settings)
    try:
        names = [bucket["vectorBucketName"] for bucket in client.list_vector_buckets()["vectorBuckets"]]
    finally:
        client.close()
    assert names.count(vector_bucket) == 1


async def test_initialize_adds_the_unfinished_documents_index_to_an_earlier_table(settings: StorageSettings) -> None:
    client = dynamodb_client(settings)
    try:
        earlier = schema.create_table_request(settings.dynamodb_table_name)
        new = schema.UNFINISHED_DOCUMENTS.name
        earlier["GlobalSecondaryIndexes"] = [i for i in earlier["GlobalSecondaryIndexes"] if i["IndexName"] != new]
        earlier["AttributeDefinitions"] = schema.attribute_definitions(
            tuple(index for index in schema.INDEXES if index.name != new)
        )
        client.create_table(**earlier)
        repository = DynamoDocumentRepository(Table(client, settings.dynamodb_table_name))
        stored = await repository.create(make_document(new_id(), status=DocumentStatus.CHUNKING))

        lines = await dynamo_backend.initialize(settings)

        assert f"index {new}: created" in lines[0]
        assert await repository.list_unfinished(limit=5) == [stored]
    finally:
        client.close()


async def test_a_document_leaves_the_unfinished_index_when_final_and_never_joins_the_files_indexes(
    knowledge: Knowledge,
) -> None:
    assistant = new_id()
    stored = await knowledge.documents.create(make_document(assistant))
    done = stored.model_copy(update={"status": DocumentStatus.COMPLETE, "updated_at": moment(9)})
    await knowledge.documents.replace_if(done, expected_updated_at=stored.updated_at)

    [item] = raw_items(knowledge.settings, f"ASSISTANT#{assistant}#DOCUMENTS")

    assert not {"gsi5pk", "gsi5sk", "sizeBytes", "mimeType"} & set(item)
    assert item["documentBytes"] == {"N": "120"}
    assert await knowledge.documents.list_unfinished(limit=100) == []
    assert await knowledge.documents.get(assistant, stored.document_id) == done


# ---- the S3 Vectors front


@pytest.fixture
def front(settings: StorageSettings) -> Iterator[tuple[S3VectorsClient, str]]:
    """A client of the front with a bucket and an index of 2 dimensions holding five vectors."""
    client = s3vectors_client(settings)
    bucket = settings.s3_vectors_bucket_name
    client.create_vector_bucket(vectorBucketName=bucket)
    client.create_index(
        vectorBucketName=bucket, indexName="front-2", dataType="float32", dimension=2, distanceMetric="cosine"
    )
    entries: list[tuple[str, list[float], dict[str, Any]]] = [
        ("a1", [1.0, 0.0], {"assistantId": "a", "documentId": "d1", "page": 1}),
        ("a2", [0.8, 0.6], {"assistantId": "a", "documentId": "d2", "page": 5}),
        ("a3", [0.0, 1.0], {"assistantId": "a", "documentId": "d1", "page": 9, "tags": ["x", "y"]}),
        ("b1", [1.0, 0.0], {"assistantId": "b", "documentId": "d1", "page": 1}),
        ("b2", [0.99, 0.01], {"assistantId": "b", "documentId": "d3", "page": 2}),
    ]
    client.put_vectors(
        vectorBucketName=bucket,
        indexName="front-2",
        vectors=[{"key": key, "data": {"float32": data}, "metadata": metadata} for key, data, metadata in entries],
    )
    try:
        yield client, bucket
    finally:
        client.close()


def query_keys(front: tuple[S3VectorsClient, str], vector_filter: dict[str, Any] | None, top_k: int = 10) -> list[str]:
    client, bucket = front
    request: dict[str, Any] = {"vectorBucketName": bucket, "indexName": "front-2", "topK": top_k}
    if vector_filter is not None:
        request["filter"] = vector_filter
    answer = client.query_vectors(queryVector={"float32": [1.0, 0.0]}, **request)
    return [found["key"] for found in answer["vectors"]]


def test_the_fronts_query_vectors_answers_nearest_first_with_distances_and_metadata(
    front: tuple[S3VectorsClient, str],
) -> None:
    client, bucket = front
    answer = client.query_vectors(
        vectorBucketName=bucket,
        indexName="front-2",
        topK=3,
        queryVector={"float32": [1.0, 0.0]},
        filter={"assistantId": "a"},
        returnDistance=True,
        returnMetadata=True,
    )
    bare = client.query_vectors(
        vectorBucketName=bucket, indexName="front-2", topK=1, queryVector={"float32": [0.0, 1.0]}
    )

    assert answer["distanceMetric"] == "cosine"
    assert [v["key"] for v in answer["vectors"]] == ["a1", "a2", "a3"]
    assert [v["distance"] for v in answer["vectors"]] == pytest.approx([0.0, 0.2, 1.0], abs=1e-9)
    assert answer["vectors"][1]["metadata"] == {"assistantId": "a", "documentId": "d2", "page": 5}
    assert bare["vectors"] == [{"key": "a3"}]


@pytest.mark.parametrize(
    ("vector_filter", "expected"),
    [
        (None, ["a1", "b1", "b2", "a2", "a3"]),
        ({"assistantId": "b"}, ["b1", "b2"]),
        ({"assistantId": {"$eq": "a"}}, ["a1", "a2", "a3"]),
        ({"$and": [{"assistantId": "a"}, {"documentId": "d1"}]}, ["a1", "a3"]),
        ({"assistantId": "a", "documentId": {"$ne": "d1"}}, ["a2"]),
        ({"$or": [{"documentId": "d3"}, {"page": {"$gte": 9}}]}, ["b2", "a3"]),
        ({"documentId": {"$in": ["d2", "d3"]}}, ["b2", "a2"]),
        ({"tags": "y"}, ["a3"]),
        ({"tags": {"$exists": False}, "page": {"$lt": 2}}, ["a1", "b1"]),
        ({"assistantId": "nobody"}, []),
    ],
)
def test_the_fronts_query_vectors_keeps_only_what_the_filter_matches(
    front: tuple[S3VectorsClient, str], vector_filter: dict[str, Any] | None, expected: list[str]
) -> None:
    assert query_keys(front, vector_filter) == expected


@pytest.mark.parametrize(
    "request_fields",
    [{"filter": {"assistantId": {"$near": "a"}}}, {"topK": 101}, {"queryVector": {"float32": [1.0, 0.0, 0.0]}}],
    ids=["unknown operator", "topK too large", "wrong dimension"],
)
def test_the_front_refuses_what_s3_vectors_refuses(
    front: tuple[S3VectorsClient, str], request_fields: dict[str, Any]
) -> None:
    client, bucket = front
    request: dict[str, Any] = {"topK": 3, "queryVector": {"float32": [1.0, 0.0]}, **request_fields}
    with pytest.raises(ClientError) as raised:
        client.query_vectors(vectorBucketName=bucket, indexName="front-2", **request)
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_the_front_refuses_to_create_an_index_twice_and_keeps_its_vectors(front: tuple[S3VectorsClient, str]) -> None:
    client, bucket = front
    with pytest.raises(ClientError) as raised:
        client.create_index(
            vectorBucketName=bucket, indexName="front-2", dataType="float32", dimension=2, distanceMetric="cosine"
        )

    assert raised.value.response["Error"]["Code"] == "ConflictException"
    assert len(query_keys(front, None)) == 5
