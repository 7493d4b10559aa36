"""The AWS SDK's `bedrock-agentcore` data-plane client for one AgentCore Memory, with its failures translated.

    ThrottledException, ThrottlingException, ServiceUnavailableException, InternalServerException,
    RetryableConflictException, ServiceException, unreachable, timed out          -> StorageUnavailableError
    ResourceNotFoundException (the memory itself), AccessDenied, anything else     -> StorageError

A record that does not exist is not a failure: `call_on_record` answers None for it.
Each translated failure is logged and counted in `colloquy_storage_errors_total{backend="agentcore"}`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from apis.shared.errors import StorageError, StorageUnavailableError
from apis.shared.observability import STORAGE_ERRORS

logger = logging.getLogger(__name__)

BACKEND = "agentcore"
_TRANSIENT_CODES = frozenset(
    {
        "ThrottledException",
        "ThrottlingException",
        "ServiceUnavailableException",
        "InternalServerException",
        "RetryableConflictException",
        "ServiceException",
    }
)
_DENIED_CODES = frozenset({"AccessDeniedException", "UnauthorizedException", "UnrecognizedClientException"})
_NOT_FOUND = "ResourceNotFoundException"


def agentcore_client(region: str, endpoint_url: str | None) -> BaseClient:
    """A client with the storage clients' short timeouts and few retries (a turn would rather go on without)."""
    config = Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})
    session = boto3.session.Session(region_name=region)
    client: BaseClient = session.client("bedrock-agentcore", endpoint_url=endpoint_url, config=config)
    return client


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _failure(error: StorageError, exc: BaseException) -> StorageError:
    unavailable = isinstance(error, StorageUnavailableError)
    STORAGE_ERRORS.labels(backend=BACKEND, kind="unavailable" if unavailable else "error").inc()
    logger.log(logging.WARNING if unavailable else logging.ERROR, "storage failure: %s", error.detail, exc_info=exc)
    return error


class AgentCoreMemory:
    """One AgentCore Memory resource behind async calls: each SDK call runs in a worker thread."""

    def __init__(self, client: BaseClient, memory_id: str) -> None:
        self.client = client
        self.memory_id = memory_id
        self.resource = f"AgentCore Memory {memory_id}"

    def _translate(self, exc: Exception) -> StorageError:
        if isinstance(exc, ClientError):
            code = _code(exc)
            if code in _TRANSIENT_CODES:
                return StorageUnavailableError(f"{self.resource} is busy or unavailable for now: try again shortly")
            if code == _NOT_FOUND:
                return StorageError(f"{self.resource} does not exist: check AGENTCORE_MEMORY_ID")
            if code in _DENIED_CODES:
                return StorageError(f"access to {self.resource} was denied: check the service's AWS credentials")
            return StorageError(f"{self.resource} refused a request; the service log has the details")
        if isinstance(exc, ConnectionError | HTTPClientError):
            return StorageUnavailableError(f"{self.resource} cannot be reached: try again shortly")
        return StorageError(f"the AWS client failed on {self.resource}; the service log has the details")

    def _run(self, operation: str, parameters: dict[str, Any]) -> dict[str, Any]:
        method: Callable[..., dict[str, Any]] = getattr(self.client, operation)
        return method(memoryId=self.memory_id, **parameters)

    async def call(self, operation: str, **parameters: Any) -> dict[str, Any]:
        """`operation` (the SDK's method name) on this memory; a storage error for any failure."""
        try:
            return await anyio.to_thread.run_sync(self._run, operation, parameters)
        except (ClientError, BotoCoreError) as exc:
            raise _failure(self._translate(exc), exc) from exc

    async def call_on_record(self, operation: str, **parameters: Any) -> dict[str, Any] | None:
        """`operation` on one record: None when that record does not exist, else as `call`."""
        try:
            return await anyio.to_thread.run_sync(self._run, operation, parameters)
        except ClientError as exc:
            if _code(exc) == _NOT_FOUND:
                return None  # this record: the memory itself answered, so it exists
            raise _failure(self._translate(exc), exc) from exc
        except BotoCoreError as exc:
            raise _failure(self._translate(exc), exc) from exc
