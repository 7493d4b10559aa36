"""Embedding calls are metered like model calls: an ingestion for the assistant's owner, a query for the user
it serves. Gemini reports no token count for embeddings, so every provider's input is counted alike, four
characters a token (as the offline model counts), at EMBEDDING_PRICE_PER_MILLION_TOKENS."""

from __future__ import annotations

from collections.abc import Sequence

from apis.shared.assistants import Embedder
from apis.shared.clock import now_iso
from apis.shared.config import KnowledgeSettings
from apis.shared.costs import CostEntry, CostRepository, day_of
from apis.shared.providers.token_estimates import estimate_tokens
from apis.shared.sessions import TokenUsage


def embedding_entry(
    *, user_id: str, embedder: Embedder, settings: KnowledgeSettings, texts: Sequence[str]
) -> CostEntry:
    """What embedding `texts` (one call, however it was batched) adds to `user_id`'s month."""
    tokens = sum(estimate_tokens(text) for text in texts)
    return CostEntry(
        user_id=user_id,
        day=day_of(now_iso()),
        model_id=embedder.model_id,
        provider=settings.embedding_provider.value,
        usage=TokenUsage(input_tokens=tokens, total_tokens=tokens),
        cost=tokens * settings.embedding_price_per_million_tokens / 1_000_000,
    )


async def meter_embedding(
    *, costs: CostRepository, user_id: str, embedder: Embedder, settings: KnowledgeSettings, texts: Sequence[str]
) -> None:
    await costs.add(embedding_entry(user_id=user_id, embedder=embedder, settings=settings, texts=texts))
