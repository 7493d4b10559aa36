"""The one error hierarchy of Colloquy. Domain code raises these; each service maps them to HTTP in one handler.

    AppError                        500 (a bug, unless a subclass says otherwise)
    ├── NotFoundError               404 (also another user's resource: never reveal that it exists)
    ├── ConflictError               409 (duplicate, or wrong state)
    ├── ForbiddenError              403
    ├── AuthenticationError         401 with WWW-Authenticate: Bearer
    ├── RuleViolation               400
    │   └── InvalidPageToken        400 (a nextToken that this service did not issue)
    ├── InvalidInput                422 (an update whose merged record would not be valid; carries `problems`)
    ├── PayloadTooLarge             413
    ├── QuotaExceededError          429 with Retry-After
    ├── StorageError                503 with Retry-After (a backend failure that retrying may not fix)
    │   └── StorageUnavailableError 503 with Retry-After (transient: throttling, timeouts, refused, locked)
    ├── ProviderError               502 (the model provider failed)
    │   └── ProviderUnavailableError 503 (the provider is not configured or not reachable)
    ├── CorruptRecord               500 (a stored record this version cannot read: only requests that need it)
    └── ConfigurationError          the service refuses to start

Messages are for a person and never carry exception text from a library: the handler sends `detail` as is.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """Root of every error Colloquy raises on purpose."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]  # an instance may name a finer code than its class


class NotFoundError(AppError):
    """The resource does not exist, or belongs to someone else."""

    status_code = 404
    code = "not_found"


class ConflictError(AppError):
    """The resource exists already or is in the wrong state."""

    status_code = 409
    code = "conflict"


class ForbiddenError(AppError):
    """Authenticated, but not allowed."""

    status_code = 403
    code = "forbidden"


class AuthenticationError(AppError):
    """No token, or a token that failed validation."""

    status_code = 401
    code = "unauthenticated"


class RuleViolation(AppError):
    """Well-formed input that breaks a rule of the domain."""

    status_code = 400
    code = "rule_violation"


class InvalidPageToken(RuleViolation):
    """A pagination token that was not issued by this list."""

    code = "invalid_page_token"


class InvalidInput(AppError):
    """Well-formed input that no record may hold, found once it is merged with what is stored.

    `problems` lists each as `{"loc", "msg", "type"}`, the shape of a request validation error, so that a
    service can answer it exactly like a malformed body.
    """

    status_code = 422
    code = "validation_error"

    def __init__(self, detail: str, *, problems: list[dict[str, Any]], code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.problems = problems


class PayloadTooLarge(AppError):
    """The input is over a size limit."""

    status_code = 413
    code = "payload_too_large"


class QuotaExceededError(AppError):
    """The caller has used up a quota."""

    status_code = 429
    code = "quota_exceeded"

    def __init__(self, detail: str, *, retry_after_seconds: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after_seconds = retry_after_seconds


class StorageError(AppError):
    """The storage backend failed in a way that retrying may not fix."""

    status_code = 503
    code = "storage_error"


class StorageUnavailableError(StorageError):
    """The storage backend is busy or unreachable for now: throttled, timed out, refused, locked."""

    code = "storage_unavailable"


class ProviderError(AppError):
    """The model provider failed."""

    status_code = 502
    code = "provider_error"


class ProviderUnavailableError(ProviderError):
    """The model provider is not configured or cannot be reached."""

    status_code = 503
    code = "provider_unavailable"


class CorruptRecord(AppError):
    """A stored record no longer validates: written by a bug or by another version. Lists skip it; a request
    that needs that very record fails with this, and the record stays as stored for someone to repair."""

    code = "corrupt_record"


class ConfigurationError(AppError):
    """A setting is missing or wrong; the service must not start."""

    code = "configuration_error"
