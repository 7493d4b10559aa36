"""Per-user monthly cost summaries: what a turn adds (`CostEntry`) and what a month adds up to (`CostSummary`)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from apis.shared.schemas import ApiModel
from apis.shared.sessions.models import TokenUsage

# A UTC calendar month, "YYYY-MM" with the month 01-12.
PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
Period = Annotated[str, Field(pattern=PERIOD_PATTERN)]

# Money is kept to 10 decimal places of a USD, the precision of `cost_of_usage`: enough for sums to stay exact
# at the cent scale, and a fixed scale lets every backend store it exactly (SQLite as an integer count).
MONEY_PLACES = 10
MONEY_SCALE = 10**MONEY_PLACES
_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
# Bounds on one entry, far beyond any real turn, so that sums stay within every backend's number range.
MAX_ENTRY_MONEY = 1_000_000.0
MAX_ENTRY_COUNT = 10**12

Money = Annotated[float, Field(ge=0, le=MAX_ENTRY_MONEY, allow_inf_nan=False)]


def money_decimal(amount: float) -> Decimal:
    """`amount` as an exact Decimal at the money scale: through `repr`, the shortest string that round-trips."""
    return Decimal(repr(amount)).quantize(_MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)


class CostEntry(BaseModel):
    """What one model call or turn adds to its user's month; frozen, as it records what happened."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: str = Field(min_length=1)
    period: Period
    model_id: str = Field(min_length=1)
    provider: str
    usage: TokenUsage
    cost: Money
    # What cached input tokens saved compared with the input price; the caller computes it.
    cache_savings: Money = 0.0
    requests: int = Field(default=1, ge=0, le=MAX_ENTRY_COUNT)

    @field_validator("cost", "cache_savings")
    @classmethod
    def _to_money_scale(cls, amount: float) -> float:
        return float(money_decimal(amount))

    @field_validator("usage")
    @classmethod
    def _counts_in_range(cls, usage: TokenUsage) -> TokenUsage:
        """Counters only grow: a negative count would undo someone's spend, a huge one overflow the backends."""
        for name, count in usage.model_dump().items():
            if not 0 <= count <= MAX_ENTRY_COUNT:
                raise ValueError(f"{name} must be between 0 and {MAX_ENTRY_COUNT}")
        return usage


class ModelCostBreakdown(ApiModel):
    """One model's share of a user's month."""

    model_id: str
    provider: str
    total_cost: float = 0.0
    total_requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0


class CostSummary(ApiModel):
    """A user's spend in one month; all zeros and `updatedAt` None when nothing was recorded."""

    user_id: str
    period: str
    total_cost: float = 0.0
    total_requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    cache_savings: float = 0.0
    models: list[ModelCostBreakdown] = Field(default_factory=list)
    updated_at: str | None = None

    @field_validator("models")
    @classmethod
    def _costliest_first(cls, models: list[ModelCostBreakdown]) -> list[ModelCostBreakdown]:
        """Sorted here, so every backend answers in the same order: cost descending, then model id."""
        return sorted(models, key=lambda model: (-model.total_cost, model.model_id))
