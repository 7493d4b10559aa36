"""Usage by quota tier: the spend of a month's users grouped by the tier that applies to each of them now, with
how many are at their limit or past their soft limit.

Which tier applies to a user is not stored with their spend: it is resolved from their overrides, their id,
their app and token roles, their email domain and the default (resolver.py), and an admin's change of an
assignment moves users between tiers at once. So the grouping reads every user who spent in the month, from
the costs domain's list of the month's users (an index, a page at a time, to its last page: never cut short),
learns who each is through `identify` (their email and roles), and resolves each against one snapshot of the
quota records (snapshot.py): one page read per page of users, one `identify` per page, no other read per user.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from apis.shared.clock import utc_now
from apis.shared.costs import CostRepository, InvalidPeriod, analytics, summaries
from apis.shared.quota.checker import window_of
from apis.shared.quota.models import EffectiveTier
from apis.shared.quota.repository import QuotaRepository
from apis.shared.quota.resolver import resolve_quota
from apis.shared.quota.snapshot import QuotaSnapshot
from apis.shared.schemas import ApiModel


@dataclass(frozen=True, slots=True)
class Member:
    """Who a user is, as resolution needs it: their email, token roles and the app roles those map to."""

    email: str | None = None
    jwt_roles: Sequence[str] = ()
    app_roles: Sequence[str] = ()


# Who each of a page of users is; a user left out is resolved by their id alone (overrides, direct, default).
Identify = Callable[[Sequence[str]], Awaitable[Mapping[str, Member]]]


class TierUsage(ApiModel):
    """One tier's share of a month: its users' spend, how many of them spent, how many reached the monthly limit
    and how many passed the soft limit without reaching it, and their mean use of the limit in per cent."""

    tier_id: str
    tier_name: str
    total_cost: float = 0.0
    total_users: int = 0
    users_at_limit: int = 0
    users_warned: int = 0
    avg_utilization: float = 0.0


@dataclass(slots=True)
class _Tally:
    tier: EffectiveTier
    cost: Decimal = Decimal(0)
    users: int = 0
    at_limit: int = 0
    warned: int = 0
    utilization: float = 0.0

    def count(self, spent: float) -> None:
        """Add one user who spent `spent` USD in the month."""
        self.cost += Decimal(repr(spent))
        self.users += 1
        limit = self.tier.monthly_cost_limit
        if limit is None:  # an unlimited override: nothing to reach
            return
        percentage = spent / limit * 100
        self.utilization += percentage
        if spent >= limit:
            self.at_limit += 1
        elif percentage >= self.tier.soft_limit_percentage:
            self.warned += 1

    def usage(self) -> TierUsage:
        return TierUsage(
            tier_id=self.tier.tier_id,
            tier_name=self.tier.tier_name,
            total_cost=float(self.cost),
            total_users=self.users,
            users_at_limit=self.at_limit,
            users_warned=self.warned,
            avg_utilization=round(self.utilization / self.users, 1) if self.users else 0.0,
        )


async def usage_by_tier(
    *,
    quotas: QuotaRepository,
    costs: CostRepository,
    period: str,
    identify: Identify,
    now: datetime | None = None,
) -> list[TierUsage]:
    """Every stored tier (with zeros when no one of the month is in it) and every override's tier that applies
    to a user of the month, costliest first (ties by tier id), for the month `period` up to the current one.

    Users are placed by the tier that applies to them at `now` (the history of assignments is not kept), and
    compared with its monthly limit. Users to whom no quota applies are in no tier. InvalidPeriod (400) for a
    month after the current one: no one has spent in it, and which tiers will apply then is not known.
    """
    moment = now or utc_now()
    if summaries.validate_period(period) > window_of("monthly", moment).key:
        raise InvalidPeriod(f"{period} has not begun: usage by tier covers this month and the months before it")
    snapshot = await QuotaSnapshot.load(quotas)
    tallies = {tier.tier_id: _Tally(EffectiveTier.of_tier(tier)) for tier in snapshot.tiers.values()}
    async for page in analytics.period_users(costs=costs, period=period):
        members = await identify([user.user_id for user in page])
        for user in page:
            member = members.get(user.user_id, Member())
            resolved = await resolve_quota(
                quotas=snapshot,
                user_id=user.user_id,
                email=member.email,
                jwt_roles=member.jwt_roles,
                app_roles=member.app_roles,
                now=moment,
            )
            if resolved is not None:
                tallies.setdefault(resolved.tier.tier_id, _Tally(resolved.tier)).count(user.total_cost)
    return sorted((tally.usage() for tally in tallies.values()), key=lambda usage: (-usage.total_cost, usage.tier_id))
