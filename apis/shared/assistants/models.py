"""Assistants and their shares as the domain and the API see them (the reference's fields, camelCase)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field, StringConstraints

from apis.shared.partial_updates import PartialUpdate
from apis.shared.schemas import ApiModel

# The knowledge base's index: one for every assistant, as in the reference (not a field a client sets).
VECTOR_INDEX_ID = "assistants-index"
DRAFT_NAME = "Untitled Assistant"
Tag = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class AssistantStatus(StrEnum):
    """DRAFT: made by "Create new", not yet saved; COMPLETE: in use; ARCHIVED: hidden from lists by default."""

    DRAFT = "DRAFT"
    COMPLETE = "COMPLETE"
    ARCHIVED = "ARCHIVED"


class Visibility(StrEnum):
    """PRIVATE: the owner only; SHARED: the owner and the emails it is shared with; PUBLIC: every user."""

    PRIVATE = "PRIVATE"
    SHARED = "SHARED"
    PUBLIC = "PUBLIC"


class AssistantFields(ApiModel):
    """What the owner writes."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    instructions: str = Field(default="", max_length=100_000)
    visibility: Visibility = Visibility.PRIVATE
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    image_url: str | None = Field(default=None, max_length=2048)


class Assistant(AssistantFields):
    """One assistant; `owner_id` is never sent to a client."""

    assistant_id: str
    owner_id: str
    owner_name: str = ""
    vector_index_id: str = VECTOR_INDEX_ID
    usage_count: int = 0
    status: AssistantStatus = AssistantStatus.COMPLETE
    created_at: str
    updated_at: str

    @property
    def position(self) -> ListPosition:
        return (self.created_at, self.assistant_id)


class AssistantShare(ApiModel):
    """A grant of an assistant to an email address (lower case), whoever signs in with it, now or later."""

    assistant_id: str
    email: str
    created_at: str
    first_interacted: bool = False


# Where a list stands: (createdAt, assistantId) of an assistant; lists run newest first, below a position.
ListPosition = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ListedAssistant:
    """An entry of one of the lists a page is merged from.

    `assistant` is None only for a share whose assistant is gone (a delete that stopped part way).
    """

    position: ListPosition
    assistant: Assistant | None
    first_interacted: bool | None = None


@dataclass(frozen=True, slots=True)
class AssistantView:
    """An assistant as one caller sees it in a list."""

    assistant: Assistant
    is_shared_with_me: bool
    first_interacted: bool | None = None


def normalize_email(email: str) -> str:
    """Shares and the caller's token compare emails trimmed and in lower case, as the reference does."""
    return email.strip().lower()


class AssistantUpdate(PartialUpdate):
    """The owner's partial update (partial_updates.py): only the fields sent change; a null clears description,
    instructions, tags and imageUrl, and is a 422 on the others. `vectorIndexId` is taken (the reference client
    sends it) and ignored: the index is not the client's to choose."""

    record: ClassVar[type[BaseModel]] = Assistant

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    instructions: Annotated[str, StringConstraints(max_length=100_000)] | None = None
    visibility: Visibility | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    status: AssistantStatus | None = None
    image_url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    vector_index_id: Annotated[str, StringConstraints(max_length=200)] | None = None

    def changes(self) -> dict[str, Any]:
        """Field name -> new value of each field the owner may change that was sent."""
        return {name: value for name, value in self.sent_fields().items() if name != "vector_index_id"}
