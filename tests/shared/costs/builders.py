"""Cost entries with sensible defaults, so that each test states only what it is about."""

from __future__ import annotations

from apis.shared.costs import CostEntry
from apis.shared.sessions import TokenUsage

PERIOD = "2026-02"
DAY = "2026-02-14"


def usage(input_tokens: int = 0, output_tokens: int = 0, cache_read: int = 0, cache_write: int = 0) -> TokenUsage:
    """Token usage whose total is input plus output, as providers report it."""
    return TokenUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        cache_read_input_tokens=cache_read,
        cache_write_input_tokens=cache_write,
    )


def entry(user_id: str, *, cost: float, model_id: str = "model-a", **fields: object) -> CostEntry:
    """An entry of `cost` for `model_id` on DAY (in PERIOD) with 10 input and 5 output tokens unless `fields` say
    otherwise; given only a `period` or only a `day`, the entry fills in the other."""
    when = {} if "period" in fields or "day" in fields else {"period": PERIOD, "day": DAY}
    values: dict[str, object] = {
        "user_id": user_id,
        **when,
        "model_id": model_id,
        "provider": "bedrock",
        "usage": usage(10, 5),
        "cost": cost,
    }
    return CostEntry.model_validate({**values, **fields})
