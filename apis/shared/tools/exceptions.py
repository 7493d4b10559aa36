"""The catalogue's errors, each a kind of the shared hierarchy so that the handlers answer its status."""

from __future__ import annotations

from apis.shared.errors import AppError, ConflictError, InvalidInput, NotFoundError


class ToolNotFound(NotFoundError):
    def __init__(self, tool_id: str) -> None:
        super().__init__(f"tool {tool_id!r} not found", code="tool_not_found")


class ToolExists(ConflictError):
    def __init__(self, tool_id: str) -> None:
        super().__init__(f"a tool with id {tool_id!r} exists", code="tool_exists")


class ToolChanged(ConflictError):
    """Another admin changed the record between this request's read and its write."""

    def __init__(self, tool_id: str) -> None:
        super().__init__(f"tool {tool_id!r} was changed meanwhile: read it again and retry", code="tool_changed")


class UnsupportedTool(InvalidInput):
    """A record this deployment could not run (no built-in with its id, a missing credential): answered like a
    malformed body (422), naming the field."""

    def __init__(self, field: tuple[str, ...], detail: str) -> None:
        problem = {"loc": ["body", *field], "msg": detail, "type": "value_error"}
        super().__init__(detail, problems=[problem], code="validation_error")


class SecretsKeyMissing(AppError):
    """A credential must be sealed or opened, and this deployment has no MCP_SECRETS_KEY (DynamoDB backend)."""

    status_code = 503
    code = "mcp_secrets_key_missing"

    def __init__(self) -> None:
        super().__init__(
            "this deployment has no MCP_SECRETS_KEY, so MCP servers' credentials cannot be stored or used;"
            " an administrator must set it on every instance"
        )
