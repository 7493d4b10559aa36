"""The calendar of cost reports: UTC months ("YYYY-MM") and days ("YYYY-MM-DD"), and ranges of days.

Every figure is counted in the UTC month and the UTC day of the call it prices, so that a user's days add up
to their month and every user's day adds up to the system's day, whatever the reader's time zone.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta

from apis.shared.costs.exceptions import InvalidDateRange, InvalidDay, InvalidPeriod

# A UTC calendar month, "YYYY-MM" with the year 1000-9999 (Python's dates have no year 0) and the month 01-12.
PERIOD_PATTERN = r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"
# A UTC calendar day, "YYYY-MM-DD"; the pattern admits 2026-02-31, which `validate_day` refuses.
DAY_PATTERN = r"^[1-9]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
# The longest span a range of days may have, end minus start (the reference's rule): 91 days with both ends.
MAX_RANGE_DAYS = 90

_PERIOD = re.compile(PERIOD_PATTERN)
_DAY = re.compile(DAY_PATTERN)


def _utc(iso_timestamp: str) -> datetime:
    """An ISO 8601 timestamp in UTC; one without an offset is taken as UTC, as ours are."""
    try:
        moment = datetime.fromisoformat(iso_timestamp)
    except ValueError as exc:
        raise InvalidPeriod(f"{iso_timestamp!r} is not an ISO 8601 timestamp") from exc
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment


def period_of(iso_timestamp: str) -> str:
    """The UTC month ("YYYY-MM") of an ISO 8601 timestamp."""
    moment = _utc(iso_timestamp)
    return f"{moment.year:04d}-{moment.month:02d}"


def day_of(iso_timestamp: str) -> str:
    """The UTC day ("YYYY-MM-DD") of an ISO 8601 timestamp."""
    return _utc(iso_timestamp).date().isoformat()


def is_period(text: str) -> bool:
    """Whether `text` is a month written YYYY-MM (month 01-12)."""
    # fullmatch: `$` in the pattern would also accept a trailing newline.
    return _PERIOD.fullmatch(text) is not None


def validate_period(period: str) -> str:
    """`period` itself if it is a month written YYYY-MM (month 01-12); otherwise InvalidPeriod (400)."""
    if not is_period(period):
        raise InvalidPeriod(f"period must be a month written YYYY-MM, not {period!r}")
    return period


def is_day(text: str) -> bool:
    """Whether `text` is a real calendar day written YYYY-MM-DD."""
    if not _DAY.fullmatch(text):
        return False
    # The pattern admits 2026-02-30: the shape of a day, but no such day.
    year, month, day = (int(part) for part in text.split("-"))
    return day <= calendar.monthrange(year, month)[1]


def validate_day(day: str) -> str:
    """`day` itself if it is a real day written YYYY-MM-DD; otherwise InvalidDay (400)."""
    if not is_day(day):
        raise InvalidDay(f"day must be a calendar day written YYYY-MM-DD, not {day!r}")
    return day


def month_days(period: str) -> tuple[str, str]:
    """The first and the last day of the month `period`."""
    year, month = (int(part) for part in validate_period(period).split("-"))
    return f"{period}-01", f"{period}-{calendar.monthrange(year, month)[1]:02d}"


def day_within(period: str, today: date) -> str:
    """`today` if it falls in `period`, else the nearest day of `period`: the day an entry that names only its
    month is counted on (its write happens at once, so only a turn that straddles a month's end moves)."""
    first, last = month_days(period)
    return min(max(today.isoformat(), first), last)


def checked_range(first_day: str, last_day: str, *, max_days: int = MAX_RANGE_DAYS) -> list[str]:
    """Every day from `first_day` to `last_day`, both included; InvalidDateRange (400) for an end before the
    start or a span (end minus start) of more than `max_days` days."""
    start, end = date.fromisoformat(validate_day(first_day)), date.fromisoformat(validate_day(last_day))
    if end < start:
        raise InvalidDateRange(f"the end date {last_day} is before the start date {first_day}")
    span = (end - start).days
    if span > max_days:
        raise InvalidDateRange(f"a date range may span at most {max_days} days; {first_day} to {last_day} spans {span}")
    return [(start + timedelta(days=offset)).isoformat() for offset in range(span + 1)]


def today() -> str:
    """Today's UTC day."""
    return datetime.now(UTC).date().isoformat()


def this_month() -> str:
    """This UTC month."""
    return today()[:7]
