"""What can go wrong with cost summaries."""

from __future__ import annotations

from apis.shared.errors import RuleViolation


class InvalidPeriod(RuleViolation):
    """A period that is not a calendar month written YYYY-MM (month 01-12), or a timestamp with no month."""

    code = "invalid_period"
