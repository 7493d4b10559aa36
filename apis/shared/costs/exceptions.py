"""What can go wrong with cost summaries and reports."""

from __future__ import annotations

from apis.shared.errors import RuleViolation


class InvalidPeriod(RuleViolation):
    """A period that is not a calendar month written YYYY-MM (month 01-12), or a timestamp with no month."""

    code = "invalid_period"


class InvalidDay(RuleViolation):
    """A day that is not a calendar day written YYYY-MM-DD."""

    code = "invalid_day"


class InvalidDateRange(RuleViolation):
    """A range of days that ends before it starts, or spans more days than a report reads."""

    code = "invalid_date_range"
