"""Session titles: a few words naming a conversation, written by a model from its first message.

The offline `local` model would only echo the prompt, so for it the title is the message's opening words:
deterministic, and still a fair name for the conversation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apis.shared.config import Settings
from apis.shared.costs import CostRepository
from apis.shared.errors import ProviderError, ProviderUnavailableError
from apis.shared.models import ManagedModel, ModelRepository
from apis.shared.providers.chat_models import TurnOptions, build_chat_model
from apis.shared.sessions import TokenUsage
from apis.shared.turns.metering import meter_call
from apis.shared.turns.model_call import complete

if TYPE_CHECKING:
    from strands.models import Model

MAX_TITLE_LENGTH = 50
# Titles are short and should read the same each time.
TITLE_OPTIONS = TurnOptions(temperature=0.2, max_tokens=32)
TITLE_INSTRUCTIONS = (
    "You name conversations. Reply with a title of at most six words for a conversation that begins with the "
    "user's message. Reply with the title alone: no quotes, no trailing punctuation."
)
_QUOTES = "\"'\u201c\u201d\u2018\u2019`*#"


def clean_title(raw: str) -> str:
    """The first line, unquoted, spaces folded, cut at a word to at most 50 characters."""
    line = next((part for part in raw.strip().splitlines() if part.strip()), "")
    line = re.sub(r"^(title\s*:\s*)", "", line.strip(), flags=re.IGNORECASE).strip(_QUOTES + " ").rstrip(".!?:;,")
    line = " ".join(line.split())
    if len(line) <= MAX_TITLE_LENGTH:
        return line
    cut = line[: MAX_TITLE_LENGTH + 1].rsplit(" ", 1)[0]
    return (cut if cut else line[:MAX_TITLE_LENGTH]).rstrip(".,;:-")[:MAX_TITLE_LENGTH]


def opening_words(text: str) -> str:
    """The title the offline model gives: the message's first words."""
    return clean_title(" ".join(text.split()[:8])) or "New conversation"


@dataclass(frozen=True, slots=True)
class GeneratedTitle:
    """A title and what its model call used (None when no model was called: the offline model's opening words)."""

    title: str
    usage: TokenUsage | None


async def generate_title(*, chat_model: Model, provider: str, text: str) -> GeneratedTitle:
    """A title for a conversation opening with `text`; ProviderError if the model fails or says nothing."""
    if provider == "local":
        return GeneratedTitle(opening_words(text), None)
    answer, usage = await complete(chat_model, provider=provider, instructions=TITLE_INSTRUCTIONS, text=text[:4000])
    title = clean_title(answer)
    if not title:
        raise ProviderError("the model gave no title", code="provider_error")
    return GeneratedTitle(title, usage)


async def title_model(*, models: ModelRepository, title_model_id: str | None) -> ManagedModel:
    """The model that writes titles: TITLE_MODEL_ID if set, else the catalogue's default."""
    model = await (models.get_by_model_id(title_model_id) if title_model_id else models.get_default())
    if model is None or not model.enabled:
        named = f"TITLE_MODEL_ID={title_model_id}" if title_model_id else "a default model"
        raise ProviderUnavailableError(f"no model can write titles: the catalogue has no {named}")
    return model


async def title_without_a_call(*, models: ModelRepository, settings: Settings, text: str) -> str | None:
    """The title of a conversation opening with `text` when the title model is the offline one: its opening
    words, known before the turn, so a new session is stored named. None when a model must write it (after the
    turn, in the background) or no model can (the after-turn work reports that)."""
    try:
        model = await title_model(models=models, title_model_id=settings.inference.title_model_id)
    except ProviderUnavailableError:
        return None
    return opening_words(text) if model.provider == "local" else None


async def title_for(
    *, models: ModelRepository, costs: CostRepository, settings: Settings, user_id: str, text: str
) -> str:
    """A title for a conversation opening with `text`, by the title model (TITLE_MODEL_ID or the default); the
    model call is metered for `user_id`, whom the title serves."""
    model = await title_model(models=models, title_model_id=settings.inference.title_model_id)
    chat_model = build_chat_model(
        model,
        TITLE_OPTIONS,
        providers=settings.providers,
        inference=settings.inference,
        region=settings.storage.aws_region,
    )
    generated = await generate_title(chat_model=chat_model, provider=model.provider, text=text)
    if generated.usage is not None:
        await meter_call(costs=costs, user_id=user_id, model=model, usage=generated.usage)
    return generated.title
