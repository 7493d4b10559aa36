"""AWS clients built from settings; `Table`, async access to one DynamoDB table with its failures translated;
and the conversion between plain values and attribute values that every domain's items share.

The clients are tuned so that an unreachable endpoint fails in seconds, not minutes: botocore's defaults
(60 s connect and read timeouts, several attempts) would hold a request for minutes when DynamoDB cannot be
reached, and a chat service would rather answer 503 quickly and let its client retry.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache, partial
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import boto3
import botocore.loaders
import botocore.session
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import OperationModel

from apis.shared.config import StorageSettings
from apis.shared.errors import StorageError, StorageUnavailableError
from apis.shared.storage.dynamo.errors import (
    TRANSIENT_CANCELLATION_CODES,
    CancellationReason,
    cancellation_reasons,
    error_code,
    map_exceptions,
    record,
    says_store_unwell,
)
from apis.shared.storage.write_health import WriteHealth

if TYPE_CHECKING:  # the stubs are a development dependency
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3vectors.client import S3VectorsClient

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 3
# anyio runs at most 40 worker threads by default; one pooled connection each avoids waiting for a socket.
MAX_POOL_CONNECTIONS = 50


def client_config() -> Config:
    """Short timeouts and standard-mode retries: throttling and dropped connections retry a little, then fail."""
    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        max_pool_connections=MAX_POOL_CONNECTIONS,
    )


@cache
def _shared_loader() -> botocore.loaders.Loader:
    """botocore's service models, parsed once per process rather than once per client (a tenth of a second)."""
    return botocore.loaders.create_loader()


def _session(settings: StorageSettings) -> boto3.session.Session:
    """A session of its own: boto3's default session is shared module state and not safe across threads."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader())
    return boto3.session.Session(botocore_session=core, region_name=settings.aws_region)


# The calls that change a table or a bucket; their outcomes tell GET /health whether the store takes writes.
WRITE_OPERATIONS = frozenset(
    {
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "PutObject",
        "CopyObject",
        "DeleteObject",
        "DeleteObjects",
    }
)


def watch_writes(client: BaseClient, writes: WriteHealth) -> None:
    """Tell `writes` how each write call of `client` fared, from botocore's events after its last attempt.

    Hooked on the client rather than in `map_exceptions`: there every call looks alike, here the operation is
    known, and a write that succeeded is seen too.
    """

    def after_call(http_response: AWSResponse, parsed: dict[str, Any], model: OperationModel, **_: Any) -> None:
        if model.name not in WRITE_OPERATIONS:
            return
        if http_response.status_code < 300:
            writes.succeeded()
            return
        code = str(parsed.get("Error", {}).get("Code", ""))
        if says_store_unwell(code):
            writes.failed(f"{model.name}: {code}")

    def after_call_error(exception: Exception, event_name: str, **_: Any) -> None:
        """No answer at all (refused, timed out, dropped), after botocore's own retries."""
        operation = event_name.rsplit(".", 1)[-1]
        if operation in WRITE_OPERATIONS:
            writes.failed(f"{operation}: {type(exception).__name__}")

    client.meta.events.register("after-call", after_call)
    client.meta.events.register("after-call-error", after_call_error)


def dynamodb_client(settings: StorageSettings) -> DynamoDBClient:
    return _session(settings).client("dynamodb", endpoint_url=settings.aws_endpoint_url, config=client_config())


def s3_client(settings: StorageSettings) -> S3Client:
    # Presigned URLs with Signature Version 4: the old version 2 that botocore may still pick is refused
    # by every region opened since 2014.
    config = client_config().merge(Config(signature_version="s3v4"))
    return _session(settings).client("s3", endpoint_url=settings.aws_endpoint_url, config=config)


def s3vectors_client(settings: StorageSettings) -> S3VectorsClient:
    """S3 Vectors at S3_VECTORS_ENDPOINT_URL, else AWS_ENDPOINT_URL, else AWS's; the table's timeouts and retries."""
    endpoint = settings.s3_vectors_endpoint_url or settings.aws_endpoint_url
    return _session(settings).client("s3vectors", endpoint_url=endpoint, config=client_config())


TRANSACTION_ATTEMPTS = 10
BATCH_ATTEMPTS = 8
BATCH_WRITE_LIMIT = 25  # DynamoDB's limit of requests in one BatchWriteItem
_BACKOFF_BASE_SECONDS = 0.01
_BACKOFF_CAP_SECONDS = 0.5

T = TypeVar("T")
# An item as the low-level client sends and returns it: attribute name -> {"S": ...}, {"N": ...}, ...
Item = dict[str, Any]
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def _numbers_as_decimal(value: Any) -> Any:
    """Floats become Decimal, DynamoDB's number type, through `repr`: the shortest string that round-trips."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {key: _numbers_as_decimal(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_numbers_as_decimal(inner) for inner in value]
    return value


def serialize(values: dict[str, Any]) -> Item:
    """Plain Python values (str, int, float, bool, None, lists, dicts) as DynamoDB attribute values."""
    return {name: _SERIALIZER.serialize(_numbers_as_decimal(value)) for name, value in values.items()}


def deserialize(item: Item) -> dict[str, Any]:
    """The plain values of an item; numbers come back as Decimal, which pydantic turns into int or float."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


def set_expression(paths: dict[str, Any]) -> tuple[str, dict[str, str], Item]:
    """An UpdateExpression setting each `a.b` path, with placeholders, as attribute names may be reserved words."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    assignments: list[str] = []
    for position, (path, value) in enumerate(sorted(paths.items())):
        parts = path.split(".")
        names.update({f"#a{position}_{depth}": part for depth, part in enumerate(parts)})
        assignments.append(".".join(f"#a{position}_{depth}" for depth in range(len(parts))) + f" = :v{position}")
        values[f":v{position}"] = value
    return "SET " + ", ".join(assignments), names, serialize(values)


async def backoff(attempt: int) -> None:
    """Sleep a random time up to an exponential bound ("full jitter"), so that contenders spread out."""
    await anyio.sleep(random.uniform(0, min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2**attempt)))


class Table:
    """One DynamoDB table behind async calls: each boto3 call runs in a worker thread, its failures translated."""

    def __init__(self, client: DynamoDBClient, name: str) -> None:
        self.client = client
        self.name = name
        self.resource = f"table {name}"

    def busy(self, cause: BaseException | None = None) -> StorageUnavailableError:
        """The error, counted and logged, for contention that outlasted our retries."""
        return record(StorageUnavailableError(f"{self.resource} is too busy for now: try again shortly"), cause)

    async def run(self, call: Callable[[], T]) -> T:
        """Run one blocking boto3 call off the event loop; AWS failures become storage errors."""
        with map_exceptions(self.resource):
            return await anyio.to_thread.run_sync(call)

    def _transact_once(self, actions: Sequence[TransactWriteItemTypeDef]) -> ClientError | None:
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if cancellation_reasons(exc) is None:
                raise
            return exc
        return None

    async def transact(self, actions: Sequence[TransactWriteItemTypeDef]) -> list[CancellationReason] | None:
        """Write `actions` atomically: None when written, else the reasons, one per action, if a condition failed.

        Conflicts with concurrent transactions and throttling are retried with jittered backoff; if they
        outlast the attempts, StorageUnavailableError.
        """
        for attempt in range(TRANSACTION_ATTEMPTS):
            cancelled = await self.run(partial(self._transact_once, actions))
            if cancelled is None:
                return None
            reasons = cancellation_reasons(cancelled) or []
            codes = {reason.code for reason in reasons} - {"None"}
            if "ConditionalCheckFailed" in codes:
                return reasons
            if not codes <= TRANSIENT_CANCELLATION_CODES:
                raise record(
                    StorageError(f"{self.resource} refused a write; the service log has the details"), cancelled
                ) from cancelled
            await backoff(attempt)
        raise self.busy(cancelled)

    async def update_existing(
        self,
        key: Item,
        expression: str,
        names: dict[str, str],
        values: Item,
        *,
        condition: str = "attribute_exists(pk)",
    ) -> Item | None:
        """UpdateItem on an item that must exist: its attributes after the update, or None if there is none (or,
        given a `condition` of the caller's, when that does not hold): nothing was written then."""

        def write() -> Item | None:
            try:
                response = self.client.update_item(
                    TableName=self.name,
                    Key=key,
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                )
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return None  # no such item, or the condition did not hold: nothing was written
                raise
            return response["Attributes"]

        return await self.run(write)

    async def query(self, request: QueryInputTypeDef, *, want: int, page_size: int = 0) -> list[Item]:
        """Up to `want` items of a Query, in its order; reads on while pages come back short (filters, 1 MB).

        `page_size` asks DynamoDB for at least that many items per page, for filtered queries that discard some.
        """
        collected: list[Item] = []
        start: Item | None = None
        while len(collected) < want:
            page = request.copy()
            page["TableName"] = self.name
            page["Limit"] = max(want - len(collected), page_size)
            if start is not None:
                page["ExclusiveStartKey"] = start
            response = await self.run(partial(self.client.query, **page))
            collected.extend(response["Items"])
            start = response.get("LastEvaluatedKey")
            if start is None:
                break
        return collected[:want]

    async def delete_keys(self, keys: Sequence[Item]) -> None:
        """Delete items by key, 25 to a BatchWriteItem, retrying what DynamoDB leaves unprocessed."""
        for first in range(0, len(keys), BATCH_WRITE_LIMIT):
            pending: Sequence[Any] = [
                {"DeleteRequest": {"Key": key}} for key in keys[first : first + BATCH_WRITE_LIMIT]
            ]
            for attempt in range(BATCH_ATTEMPTS):
                response = await self.run(partial(self.client.batch_write_item, RequestItems={self.name: pending}))
                pending = response["UnprocessedItems"].get(self.name, [])
                if not pending:
                    break
                await backoff(attempt)
            else:
                raise self.busy()
