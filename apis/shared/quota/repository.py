"""The storage port of quotas; one implementation per backend under apis/shared/storage/."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from apis.shared.pagination import Page, decode_token, encode_token
from apis.shared.quota.models import (
    AssignmentType,
    QuotaAssignment,
    QuotaEvent,
    QuotaEventType,
    QuotaOverride,
    QuotaTier,
)
from apis.shared.quota.schemas import QuotaAssignmentUpdate, QuotaOverrideUpdate, QuotaTierUpdate

MAX_EVENT_PAGE = 1000
# A user and an app role have at most one assignment each; token roles, domains and the default may have several.
UNIQUE_TARGET_TYPES = frozenset({AssignmentType.DIRECT_USER, AssignmentType.APP_ROLE})
_EVENT_CURSOR = ("timestamp", "eventId")


def in_priority_order(assignments: Iterable[QuotaAssignment]) -> list[QuotaAssignment]:
    """Highest priority first, ties by assignment id (UUIDv7: the oldest first): the order of every list."""
    return sorted(assignments, key=lambda assignment: (-assignment.priority, assignment.assignment_id))


def in_end_order(overrides: Iterable[QuotaOverride]) -> list[QuotaOverride]:
    """The latest `validUntil` first, ties by override id, newest first: the order of every list of overrides."""
    return sorted(overrides, key=lambda override: (override.valid_until, override.override_id), reverse=True)


def event_cursor(token: str | None) -> tuple[str, str] | None:
    """The (timestamp, eventId) below which a page of events continues; InvalidPageToken (400) if malformed."""
    if token is None:
        return None
    cursor = decode_token(token, fields=_EVENT_CURSOR)
    return cursor["timestamp"], cursor["eventId"]


def event_token(event: QuotaEvent) -> str:
    """The token of the page after `event`, the last of its page: the same on every backend."""
    return encode_token({"timestamp": event.timestamp, "eventId": event.event_id})


class QuotaReader(Protocol):
    """The reads that resolution makes (resolver.py): a QuotaRepository, or a snapshot of one (snapshot.py)."""

    async def get_tier(self, tier_id: str) -> QuotaTier | None: ...

    async def list_assignments(self, assignment_type: AssignmentType | None = None) -> list[QuotaAssignment]: ...

    async def find_assignments(self, assignment_type: AssignmentType, target: str) -> list[QuotaAssignment]: ...

    async def list_overrides(self, user_id: str | None = None) -> list[QuotaOverride]: ...


class QuotaRepository(Protocol):
    """Tiers, assignments, overrides and events of the whole installation.

    Tiers, assignments and overrides are admin-made and few (tens to hundreds), so their lists are whole, never
    paged. Events grow with use: their list is paged, newest first. Methods return `None` (or False) only for
    "no such record"; any backend failure raises `StorageUnavailableError` (transient) or `StorageError`.
    Validation of bodies is the models' and the service's job; the repository keeps two rules atomically, which
    a check in the service could not keep against concurrent writers:

    - an assignment names a tier that exists (`UnknownTier` otherwise), and a tier named by an assignment is not
      deleted (`TierInUse`);
    - a user, and an app role, have at most one assignment each (`AssignmentExists`).
    """

    async def get_tier(self, tier_id: str) -> QuotaTier | None:
        """The tier, or None."""
        ...

    async def list_tiers(self) -> list[QuotaTier]:
        """Every tier, by tier id."""
        ...

    async def create_tier(self, tier: QuotaTier) -> QuotaTier:
        """Store a new tier as given; `TierExists` (nothing written) if the id is taken."""
        ...

    async def update_tier(self, tier_id: str, changes: QuotaTierUpdate) -> QuotaTier | None:
        """Apply the sent fields and set `updatedAt` to now, atomically; None if there is no such tier.

        Fields not sent are left as stored, even when another writer changed them meanwhile.
        """
        ...

    async def delete_tier(self, tier_id: str) -> bool:
        """Remove the tier; False if there is none; `TierInUse` (nothing removed) while an assignment names it."""
        ...

    async def get_assignment(self, assignment_id: str) -> QuotaAssignment | None:
        """The assignment, or None."""
        ...

    async def list_assignments(self, assignment_type: AssignmentType | None = None) -> list[QuotaAssignment]:
        """Every assignment, or those of one type, in priority order (`in_priority_order`)."""
        ...

    async def find_assignments(self, assignment_type: AssignmentType, target: str) -> list[QuotaAssignment]:
        """The assignments of one type for exactly this target (user id, app role id, token role or domain
        pattern as stored; "" for the default tier), in priority order, without reading the others."""
        ...

    async def create_assignment(self, assignment: QuotaAssignment) -> QuotaAssignment:
        """Store a new assignment; `UnknownTier` if its tier does not exist, `AssignmentExists` if it is a
        user's or an app role's and that target has one already. Nothing is written then."""
        ...

    async def update_assignment(self, assignment_id: str, changes: QuotaAssignmentUpdate) -> QuotaAssignment | None:
        """Apply the sent fields and set `updatedAt`, atomically; None if there is no such assignment;
        `UnknownTier` (nothing written) if it would name a tier that does not exist."""
        ...

    async def delete_assignment(self, assignment_id: str) -> bool:
        """Remove the assignment; False if there is none."""
        ...

    async def get_override(self, override_id: str) -> QuotaOverride | None:
        """The override, or None."""
        ...

    async def list_overrides(self, user_id: str | None = None) -> list[QuotaOverride]:
        """Every override, or one user's (read without the others'), in `in_end_order`."""
        ...

    async def create_override(self, override: QuotaOverride) -> QuotaOverride:
        """Store a new override as given (its id is new)."""
        ...

    async def update_override(self, override_id: str, changes: QuotaOverrideUpdate) -> QuotaOverride | None:
        """Apply the sent fields atomically; None if there is no such override."""
        ...

    async def delete_override(self, override_id: str) -> bool:
        """Remove the override; False if there is none."""
        ...

    async def record_event(self, event: QuotaEvent) -> None:
        """Store an event (its id is new); events are never changed afterwards."""
        ...

    async def record_event_once(self, event: QuotaEvent) -> bool:
        """Store an event unless one with its id was stored already (by this method); True when this call stored
        it. The id is the claim: of any number of concurrent calls with one id, on one process or many, exactly
        one stores its event and the others store nothing, so a caller that derives the id from what the event
        is about (a warning's user, tier, period and threshold) records it once."""
        ...

    async def list_events(
        self,
        *,
        user_id: str | None = None,
        tier_id: str | None = None,
        event_type: QuotaEventType | None = None,
        since: str | None = None,
        limit: int,
        page_token: str | None = None,
    ) -> Page[QuotaEvent]:
        """Events newest first (by timestamp, then event id), with every filter given applied, at most `limit`
        (1..MAX_EVENT_PAGE) of them; `since` keeps those at or after a stored-form timestamp.

        One user's events, or one tier's, are read without reading anyone else's; with no filter, every event is
        read in order without a scan. `nextToken` continues the same query; a token this list did not issue is
        `InvalidPageToken` (400).
        """
        ...
