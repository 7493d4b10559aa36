"""What a model call costs its user: the entry that adds it to their month (and so to their quota's usage).

Every model call is metered, not only a turn's answers: a title, a test chat. The answer of a turn is written
with its message in one atomic write (sessions' `append_message`); a call with no message of its own is added
on its own (`CostRepository.add`), with the same computation here so both agree to the cent.
"""

from __future__ import annotations

from apis.shared.clock import now_iso
from apis.shared.costs import CostEntry, CostRepository, cost_of_usage, day_of
from apis.shared.models import ManagedModel
from apis.shared.sessions import TokenUsage


def cost_entry(*, user_id: str, model: ManagedModel, usage: TokenUsage, at: str | None = None) -> CostEntry:
    """The call's cost at the model's prices, what its cached input saved, for the month of `at` (default now)."""
    cost = cost_of_usage(usage, model.pricing())
    saved_per_token = max(
        0.0, model.input_price_per_million_tokens - (model.cache_read_price_per_million_tokens or 0.0)
    )
    return CostEntry(
        user_id=user_id,
        day=day_of(at or now_iso()),
        model_id=model.model_id,
        provider=model.provider,
        usage=usage,
        cost=cost,
        cache_savings=usage.cache_read_input_tokens * saved_per_token / 1_000_000,
    )


async def meter_call(*, costs: CostRepository, user_id: str, model: ManagedModel, usage: TokenUsage | None) -> None:
    """Add a call that has no message of its own to its user's month; a call that reported no usage counts once."""
    await costs.add(cost_entry(user_id=user_id, model=model, usage=usage or TokenUsage()))
