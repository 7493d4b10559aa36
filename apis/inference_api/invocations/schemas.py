"""The body of POST /invocations (API.md §1), and the turn it asks for. Fields arrive in snake_case or camelCase."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from apis.shared.errors import RuleViolation
from apis.shared.sessions import ApiModel, SessionId
from apis.shared.turns import InlineAttachment, TurnRequest

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"

ProviderName = Literal["bedrock", "openai", "gemini", "local"]


class InlineFile(ApiModel):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=127)]
    bytes: str

    @field_validator("bytes")
    @classmethod
    def _is_base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("bytes must be base64") from exc
        return value

    def decoded(self) -> InlineAttachment:
        return InlineAttachment(
            filename=self.filename, content_type=self.content_type, data=base64.b64decode(self.bytes)
        )


class InvocationRequest(ApiModel):
    session_id: SessionId | None = None
    message: Annotated[str, StringConstraints(min_length=1, max_length=200_000)]
    model_id: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    provider: ProviderName | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    system_prompt: Annotated[str, StringConstraints(max_length=50_000)] | None = None
    caching_enabled: bool | None = None
    enabled_tools: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=64
    )
    files: list[InlineFile] | None = Field(default=None, max_length=20)
    file_upload_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=20
    )
    assistant_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must contain more than white space")
        return value

    def turn_request(self, *, header_session_id: str | None) -> TurnRequest:
        """The turn this body asks for, in the turn's own terms (inline files decoded)."""
        return TurnRequest(
            session_id=resolve_session_id(self.session_id, header_session_id),
            message=self.message,
            model_id=self.model_id,
            provider=self.provider,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            system_prompt=self.system_prompt,
            caching=bool(self.caching_enabled),
            enabled_tools=tuple(self.enabled_tools or ()),
            upload_ids=tuple(self.file_upload_ids or ()),
            inline_files=tuple(file.decoded() for file in self.files or ()),
            assistant_id=self.assistant_id,
        )


def resolve_session_id(body_session_id: str | None, header_session_id: str | None) -> str:
    """The body's session id or AgentCore's header, which must agree when both are sent."""
    if body_session_id and header_session_id and body_session_id != header_session_id:
        raise RuleViolation("session_id in the body and the session header disagree", code="session_mismatch")
    session_id = body_session_id or header_session_id
    if not session_id:
        raise RuleViolation(
            f"session_id is required, in the body or the {SESSION_HEADER} header",
            code="session_required",
        )
    return session_id
