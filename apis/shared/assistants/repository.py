"""The storage port of the assistants domain: assistants and their shares by email.

Implementations live under apis/shared/storage/{memory,sqlite,dynamo}/assistants.py.
"""

from __future__ import annotations

from typing import Protocol

from apis.shared.assistants.models import Assistant, AssistantShare, ListedAssistant, ListPosition


class AssistantRepository(Protocol):
    """Assistants by id, three lists newest first (an owner's, the public ones, those shared with an email), and
    the shares of each assistant.

    Access rules are the service's (service.py): the repository answers what is stored. Methods return None
    only for "no such record"; a backend failure raises `StorageUnavailableError` (transient) or
    `StorageError`. The lists answer entries strictly below `before` in the order (createdAt, assistantId)
    descending, at most `limit`, and fewer only when nothing more is stored.
    """

    async def create(self, assistant: Assistant) -> Assistant:
        """Store a new assistant. Raises `ConflictError` if its id is taken."""
        ...

    async def get(self, assistant_id: str) -> Assistant | None:
        """The assistant, whoever owns it, or None."""
        ...

    async def replace(self, assistant: Assistant) -> Assistant | None:
        """Write `assistant` over the stored one of the same id; None (nothing written) if there is none.

        The id, owner and creation time are the stored ones: the service never changes them.
        """
        ...

    async def delete(self, assistant_id: str) -> bool:
        """Remove the assistant and every share of it; False if there was no assistant.

        Shares go first and the assistant last, so a failure part way leaves the assistant in place and the
        same call finishes the work.
        """
        ...

    async def list_owned(self, owner_id: str, *, before: ListPosition | None, limit: int) -> list[ListedAssistant]:
        """The owner's assistants, any status or visibility."""
        ...

    async def list_public(self, *, before: ListPosition | None, limit: int) -> list[ListedAssistant]:
        """Every user's assistants whose visibility is PUBLIC, any status."""
        ...

    async def list_shared_with(self, email: str, *, before: ListPosition | None, limit: int) -> list[ListedAssistant]:
        """Assistants with a share to `email` (normalised), any status or visibility, with `first_interacted`."""
        ...

    async def add_shares(self, assistant: Assistant, emails: list[str], *, now: str) -> None:
        """Grant `assistant` to each email (normalised); an existing grant is kept as it is.

        Raises `AssistantNotFound` if the assistant is gone (deleted meanwhile): no share outlives it.
        """
        ...

    async def remove_shares(self, assistant_id: str, emails: list[str]) -> None:
        """Withdraw the grants to these emails; a missing one is not an error."""
        ...

    async def list_shares(self, assistant_id: str) -> list[AssistantShare]:
        """Every share of the assistant, by email ascending."""
        ...

    async def get_share(self, assistant_id: str, email: str) -> AssistantShare | None:
        """The share of the assistant to `email` (normalised), or None."""
        ...
