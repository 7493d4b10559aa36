"""Request and response bodies of the assistants routes: the reference's wire shapes (docs/decisions.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from apis.shared.assistants import (
    Assistant,
    AssistantFields,
    AssistantShare,
    AssistantStatus,
    AssistantView,
    Visibility,
)
from apis.shared.schemas import ApiModel

Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
EmailList = Annotated[list[Email], Field(min_length=1, max_length=100)]


class AssistantDraftIn(ApiModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class AssistantCreate(AssistantFields):
    """The reference client also sends `vectorIndexId`: taken and ignored, as the index is not its to choose."""

    vector_index_id: Annotated[str, StringConstraints(max_length=200)] | None = None

    def fields(self) -> AssistantFields:
        return AssistantFields.model_validate(self.model_dump(exclude={"vector_index_id"}))


class AssistantRead(ApiModel):
    """An assistant as a client sees it: never its owner's id. Fields without a value are left out, as the
    reference answers; `isSharedWithMe` and `firstInteracted` are set in lists."""

    assistant_id: str
    owner_name: str
    name: str
    description: str
    instructions: str
    vector_index_id: str
    visibility: Visibility
    tags: list[str]
    usage_count: int
    created_at: str
    updated_at: str
    status: AssistantStatus
    image_url: str | None = None
    first_interacted: bool | None = None
    is_shared_with_me: bool | None = None

    @classmethod
    def of(cls, assistant: Assistant) -> AssistantRead:
        return cls.model_validate(assistant.model_dump(exclude={"owner_id"}))

    @classmethod
    def of_view(cls, view: AssistantView) -> AssistantRead:
        read = cls.of(view.assistant)
        return read.model_copy(
            update={"is_shared_with_me": view.is_shared_with_me, "first_interacted": view.first_interacted}
        )


class AssistantPage(ApiModel):
    assistants: list[AssistantRead]
    next_token: str | None = None


class SharesIn(ApiModel):
    emails: EmailList


class SharesOut(ApiModel):
    assistant_id: str
    shared_with: list[str]

    @classmethod
    def of(cls, assistant_id: str, shares: list[AssistantShare]) -> SharesOut:
        return cls(assistant_id=assistant_id, shared_with=[share.email for share in shares])
