"""What can go wrong with an assistant."""

from __future__ import annotations

from apis.shared.errors import ForbiddenError, NotFoundError


class AssistantNotFound(NotFoundError):
    """No such assistant, or the caller may not read it."""

    code = "assistant_not_found"

    @classmethod
    def of(cls, assistant_id: str) -> AssistantNotFound:
        return cls(f"assistant {assistant_id} not found")


class AssistantNotOwned(ForbiddenError):
    """The caller may read and chat with the assistant, but only its owner may change it."""

    code = "assistant_not_owned"


class DocumentNotFound(NotFoundError):
    """No such document in this assistant's knowledge base."""

    code = "document_not_found"

    @classmethod
    def of(cls, document_id: str) -> DocumentNotFound:
        return cls(f"document {document_id} not found")
