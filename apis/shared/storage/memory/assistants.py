"""A dict-backed AssistantRepository: the fake that service tests use, held to the same contract suite."""

from __future__ import annotations

from apis.shared.assistants.exceptions import AssistantNotFound
from apis.shared.assistants.models import (
    Assistant,
    AssistantShare,
    ListedAssistant,
    ListPosition,
    Visibility,
    normalize_email,
)
from apis.shared.errors import ConflictError


def _page(entries: list[ListedAssistant], before: ListPosition | None, limit: int) -> list[ListedAssistant]:
    ordered = sorted(entries, key=lambda entry: entry.position, reverse=True)
    return [entry for entry in ordered if before is None or entry.position < before][:limit]


class MemoryAssistantRepository:
    """Assistants and shares in one process."""

    def __init__(self) -> None:
        self._assistants: dict[str, Assistant] = {}
        self._shares: dict[str, dict[str, AssistantShare]] = {}

    async def create(self, assistant: Assistant) -> Assistant:
        if assistant.assistant_id in self._assistants:
            raise ConflictError(f"assistant id {assistant.assistant_id} is taken")
        self._assistants[assistant.assistant_id] = assistant.model_copy(deep=True)
        return assistant

    async def get(self, assistant_id: str) -> Assistant | None:
        stored = self._assistants.get(assistant_id)
        return stored.model_copy(deep=True) if stored is not None else None

    async def replace(self, assistant: Assistant) -> Assistant | None:
        if assistant.assistant_id not in self._assistants:
            return None
        self._assistants[assistant.assistant_id] = assistant.model_copy(deep=True)
        return assistant

    async def delete(self, assistant_id: str) -> bool:
        self._shares.pop(assistant_id, None)
        return self._assistants.pop(assistant_id, None) is not None

    def _listed(self, assistant: Assistant) -> ListedAssistant:
        return ListedAssistant(position=assistant.position, assistant=assistant.model_copy(deep=True))

    async def list_owned(self, owner_id: str, *, before: ListPosition | None, limit: int) -> list[ListedAssistant]:
        owned = [self._listed(a) for a in self._assistants.values() if a.owner_id == owner_id]
        return _page(owned, before, limit)

    async def list_public(self, *, before: ListPosition | None, limit: int) -> list[ListedAssistant]:
        public = [self._listed(a) for a in self._assistants.values() if a.visibility == Visibility.PUBLIC]
        return _page(public, before, limit)

    async def list_shared_with(self, email: str, *, before: ListPosition | None, limit: int) -> list[ListedAssistant]:
        email = normalize_email(email)
        entries = [
            ListedAssistant(
                position=assistant.position,
                assistant=assistant.model_copy(deep=True),
                first_interacted=shares[email].first_interacted,
            )
            for assistant_id, shares in self._shares.items()
            if email in shares and (assistant := self._assistants.get(assistant_id)) is not None
        ]
        return _page(entries, before, limit)

    async def add_shares(self, assistant: Assistant, emails: list[str], *, now: str) -> None:
        if assistant.assistant_id not in self._assistants:
            raise AssistantNotFound.of(assistant.assistant_id)
        shares = self._shares.setdefault(assistant.assistant_id, {})
        for email in map(normalize_email, emails):
            shares.setdefault(email, AssistantShare(assistant_id=assistant.assistant_id, email=email, created_at=now))

    async def remove_shares(self, assistant_id: str, emails: list[str]) -> None:
        shares = self._shares.get(assistant_id, {})
        for email in map(normalize_email, emails):
            shares.pop(email, None)

    async def list_shares(self, assistant_id: str) -> list[AssistantShare]:
        return sorted(self._shares.get(assistant_id, {}).values(), key=lambda share: share.email)

    async def get_share(self, assistant_id: str, email: str) -> AssistantShare | None:
        return self._shares.get(assistant_id, {}).get(normalize_email(email))
