"""Cost summaries: what a turn adds (`CostEntry`), what a user's month or day adds up to (`CostSummary`), what
every user's month or day adds up to (`SystemCostSummary`), and one user's place in a month (`UserPeriodCost`)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from apis.shared.costs.periods import DAY_PATTERN, PERIOD_PATTERN, day_within, is_day, is_period
from apis.shared.schemas import ApiModel
from apis.shared.sessions.models import TokenUsage

Period = Annotated[str, Field(pattern=PERIOD_PATTERN)]
Day = Annotated[str, Field(pattern=DAY_PATTERN)]

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
    """What one model call or turn adds to its user's month and day and to the system's; frozen, as it records
    what happened.

    `day` is the UTC day of the call and `period` its month; give either (`day_of(createdAt)` is best), and
    the other follows. An entry given only its month is counted on today's UTC day, or on the month's
    nearest day when today is outside it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: str = Field(min_length=1)
    # Either is filled from the other when absent (see `_day_and_month`): the defaults are never what is stored.
    period: Period = ""
    day: Day = ""
    model_id: str = Field(min_length=1)
    provider: str
    usage: TokenUsage
    cost: Money
    # What cached input tokens saved compared with the input price; the caller computes it.
    cache_savings: Money = 0.0
    requests: int = Field(default=1, ge=0, le=MAX_ENTRY_COUNT)

    @model_validator(mode="before")
    @classmethod
    def _day_and_month(cls, values: Any) -> Any:
        """The missing one of `day` and `period`, from the other (see the class docstring)."""
        if not isinstance(values, dict):
            return values
        day, period = values.get("day") or None, values.get("period")
        if day is None and isinstance(period, str) and is_period(period):
            return {**values, "day": day_within(period, datetime.now(UTC).date())}
        if not period and isinstance(day, str):
            return {**values, "period": day[:7]}
        return values

    @model_validator(mode="after")
    def _day_in_month(self) -> CostEntry:
        if not is_day(self.day) or self.day[:7] != self.period:
            raise ValueError(f"day {self.day} is not a calendar day of the month {self.period}")
        return self

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
    """One model's share of a user's month or day."""

    model_id: str
    provider: str
    total_cost: float = 0.0
    total_requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0


class CostSummary(ApiModel):
    """A user's spend in one month ("YYYY-MM"), one day ("YYYY-MM-DD") or a range of days ("first/last", as ISO
    8601 writes an interval); all zeros and `updatedAt` None when nothing was recorded."""

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


class SystemModelCost(ModelCostBreakdown):
    """One model's share of every user's month or day; `uniqueUsers` counts its users in a month (0 for a day)."""

    unique_users: int = 0


class SystemCostSummary(ApiModel):
    """Every user's spend in one month or day; `activeUsers` counts each user who spent in it once.

    All zeros and `updatedAt` None when nothing was recorded. Models as in CostSummary, costliest first.
    """

    period: str
    total_cost: float = 0.0
    total_requests: int = 0
    active_users: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    cache_savings: float = 0.0
    models: list[SystemModelCost] = Field(default_factory=list)
    updated_at: str | None = None

    @field_validator("models")
    @classmethod
    def _costliest_first(cls, models: list[SystemModelCost]) -> list[SystemModelCost]:
        return sorted(models, key=lambda model: (-model.total_cost, model.model_id))


class UserPeriodCost(ApiModel):
    """One user's totals in a month, as the lists of every user's month (top users, export) show them."""

    user_id: str
    period: str
    total_cost: float = 0.0
    total_requests: int = 0
    updated_at: str
