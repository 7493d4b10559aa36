"""The storage port of cost summaries and rollups; one implementation per backend under apis/shared/storage/."""

from __future__ import annotations

from typing import Protocol

from apis.shared.costs.models import CostEntry, CostSummary, SystemCostSummary, UserPeriodCost
from apis.shared.pagination import Page


class CostRepository(Protocol):
    """Running totals of spend: each user's per UTC month and per UTC day, and every user's (the system's) per
    month and per day, each overall and per model; the system's count active users too.

    The totals are counters: `add` increments all of them in the backend, in one atomic write, and never reads
    them back to write a sum, so concurrent turns (in one process or across a fleet) all count, exactly once
    each. Money is summed at the scale of `MONEY_PLACES` decimal places, so float costs add up without drift.
    A user is counted active in a day (a month) once, by the write that creates their totals of that day
    (that month); a model's unique users of a month likewise, by the user's first write for that model.

    A user's own totals are always addressed by the owner's id. Reads of every user's totals (the system's,
    top users, the list of a month's users) are for admins. No read scans every user or every record: each
    goes through a key or an index. Any backend failure raises `StorageUnavailableError` (transient) or
    `StorageError`; a failed `add` has counted nothing.
    """

    async def add(self, entry: CostEntry) -> None:
        """Add `entry` to its user's month and day, to the system's month and day, each overall and for its
        model, in one atomic write: every increment lands or none does.

        The model's provider is the latest entry's; `updatedAt` of each total becomes the time of this write.
        """
        ...

    async def get_summary(self, user_id: str, period: str) -> CostSummary:
        """The user's totals for `period` ("YYYY-MM"), with every model they used that month.

        A month with nothing recorded is a real answer, zero spend: a summary with zeros, no models and
        `updatedAt` None, never `None` or an error. The models are sorted by cost descending, then model id.
        """
        ...

    async def get_day_summary(self, user_id: str, day: str) -> CostSummary:
        """The user's totals for the UTC `day` ("YYYY-MM-DD"), with every model; zeros as in `get_summary`."""
        ...

    async def get_spend(self, user_id: str, period: str) -> float:
        """The user's total cost (USD) in the month ("YYYY-MM") or UTC day ("YYYY-MM-DD"), 0.0 with nothing
        recorded: the `totalCost` its summary would show, read alone (no models), since a quota check needs only
        this and runs before every turn."""
        ...

    async def list_day_summaries(self, user_id: str, first_day: str, last_day: str) -> list[CostSummary]:
        """The user's totals of each day from `first_day` to `last_day` (both included) that has any, oldest
        first, each with its models; every such day, however many: the caller bounds the range."""
        ...

    async def get_system_summary(self, period: str) -> SystemCostSummary:
        """Every user's totals for a month ("YYYY-MM") or a day ("YYYY-MM-DD"), with each model's share and
        the active users; zeros as in `get_summary`. A model's unique users are counted for months only."""
        ...

    async def list_system_days(self, first_day: str, last_day: str) -> list[SystemCostSummary]:
        """Every user's totals of each day from `first_day` to `last_day` (both included) that has any, oldest
        first, without their models; every such day: the caller bounds the range."""
        ...

    async def list_top_users(self, period: str, *, limit: int, min_cost: float = 0.0) -> list[UserPeriodCost]:
        """Up to `limit` users with the highest totals of the month `period` and at least `min_cost`, costliest
        first (ties by user id; which of several tied users falls inside the limit is the backend's choice), read
        from an index sorted by cost. May lag a write by the index's delay."""
        ...

    async def list_period_users(
        self, period: str, *, limit: int, page_token: str | None = None
    ) -> Page[UserPeriodCost]:
        """One page of every user with totals in the month `period`, each once, in an order fixed by the backend
        (not by cost, which moves while pages are read); `next_token` is None on the last page. A token this
        list did not issue raises InvalidPageToken."""
        ...
