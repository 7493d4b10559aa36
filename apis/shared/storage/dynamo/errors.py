"""Translation of boto3 and botocore failures into Colloquy's storage errors, at the edge of the backend.

    throttling (ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded, ...)
    InternalServerError, ServiceUnavailable, TransactionConflictException
    endpoint connection errors, connect and read timeouts, dropped connections    -> StorageUnavailableError
    ResourceNotFoundException, NoSuchBucket (run `colloquy storage init`)
    missing credentials, anything else                                            -> StorageError

Each translated failure is logged with its exception and counted in `colloquy_storage_errors_total`; the
error's `detail` is written for a person and never carries the library's own text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)

from apis.shared.errors import StorageError, StorageUnavailableError
from apis.shared.observability import STORAGE_ERRORS

logger = logging.getLogger("apis.shared.storage.dynamo")

BACKEND = "dynamodb"
_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "SlowDown",
        "TransactionConflictException",
        "TransactionInProgressException",
        "RequestTimeout",
    }
)
_MISSING_CODES = frozenset({"ResourceNotFoundException", "NoSuchBucket"})
_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "403"})
# Reasons a transaction is cancelled for that a later attempt can succeed.
TRANSIENT_CANCELLATION_CODES = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})

E = TypeVar("E", bound=StorageError)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@dataclass(frozen=True, slots=True)
class CancellationReason:
    """Why one action of a cancelled transaction failed; `code` is "None" for the actions that were fine."""

    code: str
    # The item as it was, for an action sent with ReturnValuesOnConditionCheckFailure=ALL_OLD.
    item: dict[str, Any] | None = None


def cancellation_reasons(exc: ClientError) -> list[CancellationReason] | None:
    """The reasons of a cancelled transaction, one per action in order; None for any other failure."""
    if error_code(exc) != "TransactionCanceledException":
        return None
    reasons: list[dict[str, Any]] = list(exc.response.get("CancellationReasons", []))  # type: ignore[arg-type]
    return [CancellationReason(str(reason.get("Code", "None")), reason.get("Item")) for reason in reasons]


def record(error: E, exc: BaseException | None = None) -> E:
    """Count and log `error` (raised by the caller), so that every storage failure shows in metrics and logs."""
    unavailable = isinstance(error, StorageUnavailableError)
    STORAGE_ERRORS.labels(backend=BACKEND, kind="unavailable" if unavailable else "error").inc()
    logger.log(
        logging.WARNING if unavailable else logging.ERROR,
        "storage failure: %s",
        error.detail,
        exc_info=exc if exc is not None else False,
    )
    return error


def says_store_unwell(code: str) -> bool:
    """An error code that speaks of the store rather than of one request: busy, gone, or refusing us.

    A condition that did not hold, or a value the store will not take, is about that request only.
    """
    return code in _TRANSIENT_CODES or code in _MISSING_CODES or code in _DENIED_CODES


def _translate_client_error(exc: ClientError, resource: str) -> StorageError:
    code = error_code(exc)
    if code in _TRANSIENT_CODES:
        return StorageUnavailableError(f"{resource} is busy or unavailable for now: try again shortly")
    if code in _MISSING_CODES:
        return StorageError(f"{resource} does not exist: run `colloquy storage init`")
    if code in _DENIED_CODES:
        return StorageError(f"access to {resource} was denied: check the service's AWS credentials and policy")
    return StorageError(f"{resource} refused a request; the service log has the details")


@contextmanager
def map_exceptions(resource: str) -> Iterator[None]:
    """Raise the storage error matching any AWS failure inside the block; `resource` names it for a person.

    `resource` reads like "table colloquy" or "bucket colloquy-files".
    """
    try:
        yield
    except ClientError as exc:
        raise record(_translate_client_error(exc, resource), exc) from exc
    except (ConnectionError, HTTPClientError) as exc:
        # Refused, unresolvable, timed out or dropped: botocore has already retried a little.
        raise record(StorageUnavailableError(f"{resource} cannot be reached: try again shortly"), exc) from exc
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise record(StorageError(f"no usable AWS credentials for {resource}"), exc) from exc
    except BotoCoreError as exc:
        raise record(
            StorageError(f"the AWS client failed on {resource}; the service log has the details"), exc
        ) from exc
