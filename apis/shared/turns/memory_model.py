"""The memory model: the model that extracts what to remember of a user and summarises their conversations.

MEMORY_MODEL_ID names a managed model; unset, it is the offline `local` model, which answers both tasks by rule
(providers/local_memory.py), so memory and long conversations work with no provider at all. Each call is metered
for the user it serves, as a title is: a managed model's usage is added to their month. Its answer is a JSON
array of items `{kind, subject, content}`; an answer that is not one is a ProviderError, as a failed call is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apis.shared.config import Settings
from apis.shared.costs import CostRepository
from apis.shared.errors import ProviderError, ProviderUnavailableError
from apis.shared.memory import MemoryKind
from apis.shared.models import ManagedModel, ModelRepository
from apis.shared.providers.chat_models import TurnOptions, build_chat_model
from apis.shared.turns.metering import meter_call
from apis.shared.turns.model_call import complete

if TYPE_CHECKING:
    pass

# The offline model as the memory model when MEMORY_MODEL_ID is unset: not a catalogue record, and free.
OFFLINE_MEMORY_MODEL = ManagedModel(
    id="offline-memory-model",
    model_id="local-memory",
    model_name="Offline memory model (deterministic)",
    provider="local",
    created_at="1970-01-01T00:00:00Z",
    updated_at="1970-01-01T00:00:00Z",
)
# Memory should read the same each time; an answer is a short JSON array.
MEMORY_OPTIONS = TurnOptions(temperature=0.0, max_tokens=1024)
_ARRAY = re.compile(r"\[.*\]", re.DOTALL)
_KINDS = frozenset(kind.value for kind in MemoryKind)


@dataclass(frozen=True, slots=True)
class MemoryItem:
    """One thing the memory model wrote down: a preference, a fact, or the conversation's summary."""

    kind: MemoryKind
    subject: str | None
    content: str


async def resolve_memory_model(*, models: ModelRepository, settings: Settings) -> ManagedModel:
    """MEMORY_MODEL_ID's managed model, or the offline model when unset; ProviderUnavailableError when it names
    no enabled model of the catalogue."""
    model_id = settings.memory.memory_model_id
    if model_id is None:
        return OFFLINE_MEMORY_MODEL
    model = await models.get_by_model_id(model_id)
    if model is None or not model.enabled:
        raise ProviderUnavailableError(f"MEMORY_MODEL_ID={model_id} names no enabled model of the catalogue")
    return model


@dataclass(frozen=True, slots=True)
class MemoryModel:
    """The memory model at work for one user: each call is metered for them."""

    model: ManagedModel
    settings: Settings
    costs: CostRepository
    user_id: str

    async def ask(self, instructions: str, payload: dict[str, Any]) -> list[MemoryItem]:
        """The items the model answers to `instructions` about `payload`; ProviderError if it fails or answers
        something other than a JSON array."""
        chat_model = build_chat_model(
            self.model,
            MEMORY_OPTIONS,
            providers=self.settings.providers,
            inference=self.settings.inference,
            region=self.settings.storage.aws_region,
        )
        text, usage = await complete(
            chat_model, provider=self.model.provider, instructions=instructions, text=json.dumps(payload)
        )
        if self.model.provider != "local":  # the offline model is free, as its titles are
            await meter_call(costs=self.costs, user_id=self.user_id, model=self.model, usage=usage)
        return parse_items(text)


def parse_items(text: str) -> list[MemoryItem]:
    """The items of the model's answer (a JSON array, possibly inside a code fence). An item that is not
    `{kind, subject, content}` with a known kind and some content is left out; an answer with no array at all
    is a ProviderError."""
    unexpected = ProviderError("the memory model did not answer with the JSON asked for", code="provider_error")
    found = _ARRAY.search(text)
    try:
        data = json.loads(found.group(0)) if found else None
    except json.JSONDecodeError as exc:
        raise unexpected from exc
    if not isinstance(data, list):
        raise unexpected
    items = []
    for entry in data:
        if not isinstance(entry, dict):
            continue
        kind, subject, content = entry.get("kind"), entry.get("subject"), entry.get("content")
        if kind not in _KINDS or not isinstance(content, str) or not content.strip():
            continue
        named = subject.strip() if isinstance(subject, str) else ""
        items.append(MemoryItem(MemoryKind(kind), named or None, content.strip()))
    return items
