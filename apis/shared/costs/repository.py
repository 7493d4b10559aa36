"""The storage port of per-user monthly cost summaries; one implementation per backend under apis/shared/storage/."""

from __future__ import annotations

from typing import Protocol

from apis.shared.costs.models import CostEntry, CostSummary


class CostRepository(Protocol):
    """Running totals of each user's spend per UTC month, overall and per model, always addressed by the owner.

    The totals are counters: `add` increments them in the backend, atomically, and never reads them back
    to write a sum, so concurrent turns (in one process or across a fleet) all count, exactly once each.
    Money is summed at the scale of `MONEY_PLACES` decimal places, so float costs add up without drift.

    No user's call can reach another user's totals: every method takes the owner's id. Any backend failure
    raises `StorageUnavailableError` (transient) or `StorageError`; a failed `add` has counted nothing.
    """

    async def add(self, entry: CostEntry) -> None:
        """Add `entry` to its user's month totals and to its model's breakdown, in one atomic write.

        Either both increments land or neither does. The model's provider is the latest entry's;
        `updatedAt` of the month becomes the time of this write.
        """
        ...

    async def get_summary(self, user_id: str, period: str) -> CostSummary:
        """The user's totals for `period` ("YYYY-MM"), with every model they used that month.

        A month with nothing recorded is a real answer, zero spend: a summary with zeros, no models and
        `updatedAt` None, never `None` or an error. The models are sorted by cost descending, then model id.
        """
        ...
