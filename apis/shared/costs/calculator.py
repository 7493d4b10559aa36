"""The cost of a model call: for each kind of token, tokens / 1e6 x the price per million of that kind."""

from __future__ import annotations

from collections.abc import Mapping

from apis.shared.sessions.models import TokenUsage

# Which usage field each price applies to, keyed by the price field of a managed model.
PRICE_FIELDS: dict[str, str] = {
    "inputPricePerMillionTokens": "input_tokens",
    "outputPricePerMillionTokens": "output_tokens",
    "cacheReadPricePerMillionTokens": "cache_read_input_tokens",
    "cacheWritePricePerMillionTokens": "cache_write_input_tokens",
}


def cost_of_usage(usage: TokenUsage, pricing: Mapping[str, float]) -> float:
    """Cost in the pricing's currency (USD); a price that is absent counts as zero."""
    counts: dict[str, int] = usage.model_dump()
    total = sum(counts[field] * pricing.get(price, 0.0) for price, field in PRICE_FIELDS.items())
    return round(total / 1_000_000, 10)
