"""What can go wrong with long-term memory, each a kind of the shared hierarchy so that the handlers answer it."""

from __future__ import annotations

from apis.shared.errors import AppError, InvalidInput, NotFoundError


class MemoryNotFound(NotFoundError):
    """No memory record with this id belongs to the caller (another user's is the same: never revealed)."""

    code = "memory_not_found"

    def __init__(self, record_id: str) -> None:
        super().__init__(f"memory record {record_id} not found")


class MemoryNamespaceNotFound(NotFoundError):
    """A namespace of another user: the caller can only ever reach their own."""

    code = "memory_namespace_not_found"

    def __init__(self, namespace: str) -> None:
        super().__init__(f"memory namespace {namespace} not found")


class InvalidNamespace(InvalidInput):
    """A namespace that names none of the three kinds; answered like a malformed body (422)."""

    def __init__(self, namespace: str) -> None:
        detail = (
            f"namespace {namespace!r} is none of /preferences/{{userId}}, /facts/{{userId}} or"
            " /summaries/{userId}/{sessionId} (or 'preferences', 'facts')"
        )
        problem = {"loc": ["body", "namespace"], "msg": detail, "type": "value_error"}
        super().__init__(detail, problems=[problem], code="validation_error")


class MemoryUnavailable(AppError):
    """This deployment switched long-term memory off (MEMORY_ENABLED=false): the reference's 503."""

    status_code = 503
    code = "memory_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "Long-term memory is not available: this deployment has switched it off (MEMORY_ENABLED=false)."
        )
