"""Cost summary service: count each turn's cost into its user's month, and read a month back."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from apis.shared.costs.exceptions import InvalidPeriod
from apis.shared.costs.models import PERIOD_PATTERN, CostEntry, CostSummary
from apis.shared.costs.repository import CostRepository

_PERIOD = re.compile(PERIOD_PATTERN)


def period_of(iso_timestamp: str) -> str:
    """The UTC month ("YYYY-MM") of an ISO 8601 timestamp; one without an offset is taken as UTC, as ours are."""
    try:
        moment = datetime.fromisoformat(iso_timestamp)
    except ValueError as exc:
        raise InvalidPeriod(f"{iso_timestamp!r} is not an ISO 8601 timestamp") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment.year:04d}-{moment.month:02d}"


def validate_period(period: str) -> str:
    """`period` itself if it is a month written YYYY-MM (month 01-12); otherwise InvalidPeriod (400)."""
    # fullmatch: `$` in the pattern would also accept a trailing newline.
    if not _PERIOD.fullmatch(period):
        raise InvalidPeriod(f"period must be a month written YYYY-MM, not {period!r}")
    return period


async def record(*, costs: CostRepository, entry: CostEntry) -> None:
    """Count one model call or turn into its user's month; storage failures propagate (nothing was counted)."""
    await costs.add(entry)


async def summary(*, costs: CostRepository, user_id: str, period: str) -> CostSummary:
    """The caller's spend in `period`; zeros for a month without any, InvalidPeriod for a malformed period."""
    return await costs.get_summary(user_id, validate_period(period))
