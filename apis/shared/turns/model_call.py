"""One model call outside a conversation (a title, memory extraction): the whole answer's text and its usage.

The call streams like a turn's, so every provider is used the same way, but nothing is relayed: the text is
collected, and a provider's failure becomes the same ProviderError a turn would report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apis.shared.providers.failures import provider_failure
from apis.shared.sessions import TokenUsage

if TYPE_CHECKING:
    from strands.models import Model


async def complete(chat_model: Model, *, provider: str, instructions: str, text: str) -> tuple[str, TokenUsage]:
    """The model's answer to `text` under `instructions`, and what the call used."""
    messages: Any = [{"role": "user", "content": [{"text": text}]}]
    pieces: list[str] = []
    usage = TokenUsage()
    try:
        async for event in chat_model.stream(messages, system_prompt=instructions):
            delta = event.get("contentBlockDelta", {}).get("delta", {})
            if "text" in delta:
                pieces.append(delta["text"])
            if "metadata" in event:
                usage = TokenUsage.model_validate(event["metadata"].get("usage", {}))
    except Exception as exc:
        failure = provider_failure(exc, provider)
        if failure is None:
            raise
        raise failure from exc
    return "".join(pieces), usage
