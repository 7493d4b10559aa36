"""The DynamoDB and S3 backend: one shared table for every domain, and a bucket for bytes."""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING, cast

import anyio
from botocore.exceptions import ClientError

from apis.shared.config import StorageSettings
from apis.shared.errors import StorageError
from apis.shared.storage.base import Storage
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.assistants import DynamoAssistantRepository
from apis.shared.storage.dynamo.blobs import S3BlobStore
from apis.shared.storage.dynamo.client import Table, dynamodb_client, s3_client, s3vectors_client, watch_writes
from apis.shared.storage.dynamo.costs import DynamoCostRepository
from apis.shared.storage.dynamo.errors import error_code, map_exceptions, record
from apis.shared.storage.dynamo.files import DynamoFileRepository
from apis.shared.storage.dynamo.knowledge import DynamoDocumentRepository
from apis.shared.storage.dynamo.knowledge_index import DynamoKnowledgeIndex
from apis.shared.storage.dynamo.knowledge_vectors import S3VectorStore
from apis.shared.storage.dynamo.memories import DynamoMemoryRepository, backfill_session_copies
from apis.shared.storage.dynamo.models import DynamoModelRepository
from apis.shared.storage.dynamo.provisioning import ensure_lifecycle, ensure_ttl
from apis.shared.storage.dynamo.quota import DynamoQuotaRepository
from apis.shared.storage.dynamo.roles import DynamoRoleRepository
from apis.shared.storage.dynamo.sessions import DynamoSessionRepository
from apis.shared.storage.dynamo.tools import DynamoToolRepository
from apis.shared.storage.dynamo.users import DynamoUserRepository
from apis.shared.storage.write_health import WriteHealth

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.literals import BucketLocationConstraintType

BACKEND = "dynamodb"
# Creating a table takes seconds on AWS; moto and LocalStack answer ACTIVE at once.
_WAIT_DELAY_SECONDS = 1
_WAIT_ATTEMPTS = 120
# An index added to a table that holds data is filled first: minutes for a large table.
_INDEX_WAIT_ATTEMPTS = 3600
_MISSING_BUCKET_CODES = frozenset({"404", "NoSuchBucket", "NotFound"})


async def open_storage(settings: StorageSettings) -> Storage:
    """Repositories over the configured table, which must exist (`colloquy storage init`): checked here."""
    # Building a client reads botocore's service models from disk: keep that off the event loop too.
    client = await anyio.to_thread.run_sync(partial(dynamodb_client, settings))
    s3 = await anyio.to_thread.run_sync(partial(s3_client, settings))
    vectors = await anyio.to_thread.run_sync(partial(s3vectors_client, settings))
    table = Table(client, settings.dynamodb_table_name)
    # No probe: short of writing, nothing tells whether DynamoDB or S3 would take a write.
    writes = WriteHealth(failure_seconds=settings.storage_write_failure_seconds)
    watch_writes(client, writes)
    watch_writes(s3, writes)
    sessions = DynamoSessionRepository(table)
    try:
        # A missing table stops the start with "run `colloquy storage init`", not a 503 on every request.
        await sessions.ping()
    except StorageError:
        await anyio.to_thread.run_sync(client.close)
        await anyio.to_thread.run_sync(s3.close)
        await anyio.to_thread.run_sync(vectors.close)
        raise

    async def close() -> None:
        await anyio.to_thread.run_sync(client.close)
        await anyio.to_thread.run_sync(s3.close)
        await anyio.to_thread.run_sync(vectors.close)

    blobs = S3BlobStore(s3, settings.s3_bucket_name)

    async def ping() -> None:
        """Health reaches both halves: the records and the bytes."""
        await sessions.ping()
        await blobs.ping()

    return Storage(
        backend=BACKEND,
        sessions=sessions,
        models=DynamoModelRepository(table),
        users=DynamoUserRepository(table),
        roles=DynamoRoleRepository(table),
        costs=DynamoCostRepository(table),
        files=DynamoFileRepository(table),
        assistants=DynamoAssistantRepository(table),
        documents=DynamoDocumentRepository(table),
        knowledge=DynamoKnowledgeIndex(
            table, S3VectorStore(vectors, settings.s3_vectors_bucket_name, settings.s3_vectors_index_prefix)
        ),
        quotas=DynamoQuotaRepository(table),
        tools=DynamoToolRepository(table),
        memories=DynamoMemoryRepository(table),
        blobs=blobs,
        ping=ping,
        writes=writes,
        close=close,
    )


async def initialize(settings: StorageSettings, *, vector_dimensions: int | None = None) -> list[str]:
    """Create what is missing, idempotently: the table (waited for until ACTIVE) with its indexes and time to
    live, the bucket with its lifecycle rule and CORS, the vector bucket, and (`vector_dimensions`, the embedding
    model's size when one is configured) its index. Without it, an index is made by the first put of its size.
    """
    dynamodb = await anyio.to_thread.run_sync(partial(dynamodb_client, settings))
    s3 = await anyio.to_thread.run_sync(partial(s3_client, settings))
    vectors = await anyio.to_thread.run_sync(partial(s3vectors_client, settings))
    try:
        table = Table(dynamodb, settings.dynamodb_table_name)
        table_line = await table.run(partial(_ensure_table, dynamodb, settings.dynamodb_table_name))
        ttl_line = await table.run(partial(ensure_ttl, dynamodb, settings.dynamodb_table_name))
        with map_exceptions(f"bucket {settings.s3_bucket_name}"):
            bucket_line = await anyio.to_thread.run_sync(
                partial(_ensure_bucket, s3, settings.s3_bucket_name, settings.aws_region)
            )
            lifecycle_line = await anyio.to_thread.run_sync(partial(ensure_lifecycle, s3, settings.s3_bucket_name))
        store = S3VectorStore(vectors, settings.s3_vectors_bucket_name, settings.s3_vectors_index_prefix)
        vector_line = await store.ensure_bucket()
        backfill_line = await backfill_session_copies(table)
        lines = [table_line, ttl_line, backfill_line, bucket_line, lifecycle_line, vector_line]
        if vector_dimensions is not None:
            index = await store.ensure_index(vector_dimensions)
            lines.append(f"vector index {index} ({vector_dimensions} dimensions): ready")
        with map_exceptions(f"bucket {settings.s3_bucket_name}"):
            if settings.cors_origins:
                await anyio.to_thread.run_sync(partial(_put_cors, s3, settings.s3_bucket_name, settings.cors_origins))
                lines.append(f"bucket {settings.s3_bucket_name}: CORS for {', '.join(settings.cors_origins)}")
    finally:
        await anyio.to_thread.run_sync(dynamodb.close)
        await anyio.to_thread.run_sync(s3.close)
        await anyio.to_thread.run_sync(vectors.close)
    return lines


def _ensure_table(client: DynamoDBClient, name: str) -> str:
    """Create the table unless it exists (another instance may be creating it right now); wait for ACTIVE."""
    try:
        client.describe_table(TableName=name)
        created = False
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        try:
            client.create_table(**schema.create_table_request(name))
            created = True
        except ClientError as race:
            if error_code(race) != "ResourceInUseException":
                raise
            created = False
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": _WAIT_DELAY_SECONDS, "MaxAttempts": _WAIT_ATTEMPTS}
    )
    table = client.describe_table(TableName=name)["Table"]
    present = {index["IndexName"] for index in table.get("LocalSecondaryIndexes", [])}
    missing = [index.name for index in schema.INDEXES if index.kind == "local" and index.name not in present]
    if missing:
        # A local index can only be made with its table: this one was made by something else.
        raise record(StorageError(f"table {name} exists without the index {', '.join(missing)}: recreate it"))
    added = [_ensure_global_index(client, name, index) for index in schema.INDEXES if index.kind == "global"]
    lines = [f"table {name}: {'created' if created else 'exists'}", *(line for line in added if line)]
    return "; ".join(lines)


def _global_index_status(client: DynamoDBClient, name: str, index_name: str) -> str | None:
    indexes = client.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])
    return next((index.get("IndexStatus", "ACTIVE") for index in indexes if index["IndexName"] == index_name), None)


def _ensure_global_index(client: DynamoDBClient, name: str, index: schema.Index) -> str | None:
    """Add a global index a table made by an earlier version lacks, and wait until DynamoDB has filled it.

    One at a time, as DynamoDB creates them. An index another instance is adding is waited for; two instances
    that ask for the same index at the same moment see one refused (ResourceInUseException), and running the
    command again waits for it. A line for the output when one was added, else None.
    """
    added = _global_index_status(client, name, index.name) is None
    if added:
        client.update_table(
            TableName=name,
            AttributeDefinitions=schema.attribute_definitions((index,)),
            GlobalSecondaryIndexUpdates=[{"Create": schema.index_request(index)}],
        )
    for _ in range(_INDEX_WAIT_ATTEMPTS):
        status = _global_index_status(client, name, index.name)
        if status == "ACTIVE":
            return f"index {index.name}: created" if added else None
        time.sleep(_WAIT_DELAY_SECONDS)
    raise record(StorageError(f"table {name}: the index {index.name} is not ready yet; run this again later"))


def _ensure_bucket(client: S3Client, name: str, region: str) -> str:
    """Create the bucket unless it exists; HeadBucket first, as us-east-1 answers 200 to a repeated create."""
    try:
        client.head_bucket(Bucket=name)
        return f"bucket {name}: exists"
    except ClientError as exc:
        if error_code(exc) not in _MISSING_BUCKET_CODES:
            raise
    try:
        if region == "us-east-1":  # the one region that refuses a LocationConstraint
            client.create_bucket(Bucket=name)
        else:
            location = cast("BucketLocationConstraintType", region)
            client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": location})
    except ClientError as exc:
        if error_code(exc) != "BucketAlreadyOwnedByYou":
            raise
        return f"bucket {name}: exists"
    client.get_waiter("bucket_exists").wait(
        Bucket=name, WaiterConfig={"Delay": _WAIT_DELAY_SECONDS, "MaxAttempts": _WAIT_ATTEMPTS}
    )
    return f"bucket {name}: created"


def _put_cors(client: S3Client, name: str, origins: list[str]) -> None:
    """Let browsers of `origins` PUT to presigned upload URLs and GET presigned downloads; replaces any rules."""
    client.put_bucket_cors(
        Bucket=name,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": origins,
                    "AllowedMethods": ["PUT", "GET", "HEAD"],
                    "AllowedHeaders": ["Content-Type", "Content-Length"],
                    "ExposeHeaders": ["ETag", "Content-Disposition"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )


__all__ = ["initialize", "open_storage"]
