"""A dict-backed CostRepository: the fake that service tests use, held to the same contract suite."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from apis.shared.clock import now_iso
from apis.shared.costs.models import CostEntry, CostSummary, SystemCostSummary, UserPeriodCost
from apis.shared.costs.tally import CostTally
from apis.shared.pagination import Page, decode_token, encode_token


@dataclass
class _Totals:
    """A user's or the system's totals of one month or day, and each model's."""

    overall: CostTally = field(default_factory=CostTally)
    models: dict[str, CostTally] = field(default_factory=dict)

    def count(self, entry: CostEntry, at: str, *, new_user: bool = False, new_model_user: bool = False) -> None:
        self.overall.count(entry, at, new_user=new_user)
        self.models.setdefault(entry.model_id, CostTally()).count(entry, at, new_user=new_model_user)


class InMemoryCostRepository:
    """Keeps everything in one process; nothing survives a restart. `add` never awaits, so it is atomic."""

    def __init__(self) -> None:
        # (user id, month or day) and (month or day) -> totals; a month's users, sorted, for its list.
        self._users: dict[tuple[str, str], _Totals] = {}
        self._system: dict[str, _Totals] = {}
        self._month_users: dict[str, list[str]] = {}

    async def add(self, entry: CostEntry) -> None:
        self.add_now(entry)

    def add_now(self, entry: CostEntry) -> None:
        """`add` for a caller that must not await: the in-memory sessions store counts a turn's cost with it."""
        at = now_iso()
        month_key, day_key = (entry.user_id, entry.period), (entry.user_id, entry.day)
        new_in_month, new_in_day = month_key not in self._users, day_key not in self._users
        new_model_user = new_in_month or entry.model_id not in self._users[month_key].models
        if new_in_month:
            bisect.insort(self._month_users.setdefault(entry.period, []), entry.user_id)
        self._users.setdefault(month_key, _Totals()).count(entry, at)
        self._users.setdefault(day_key, _Totals()).count(entry, at)
        month = self._system.setdefault(entry.period, _Totals())
        month.count(entry, at, new_user=new_in_month, new_model_user=new_model_user)
        self._system.setdefault(entry.day, _Totals()).count(entry, at, new_user=new_in_day)

    def _summary(self, user_id: str, period: str) -> CostSummary:
        totals = self._users.get((user_id, period))
        if totals is None:
            return CostSummary(user_id=user_id, period=period)
        return totals.overall.summary(user_id, period, totals.models)

    async def get_summary(self, user_id: str, period: str) -> CostSummary:
        return self._summary(user_id, period)

    async def get_day_summary(self, user_id: str, day: str) -> CostSummary:
        return self._summary(user_id, day)

    async def get_spend(self, user_id: str, period: str) -> float:
        return self._summary(user_id, period).total_cost

    async def list_day_summaries(self, user_id: str, first_day: str, last_day: str) -> list[CostSummary]:
        days = sorted(
            period
            for owner, period in self._users
            if owner == user_id and len(period) == len(first_day) and first_day <= period <= last_day
        )
        return [self._summary(user_id, day) for day in days]

    async def get_system_summary(self, period: str) -> SystemCostSummary:
        totals = self._system.get(period)
        if totals is None:
            return SystemCostSummary(period=period)
        return totals.overall.system_summary(period, totals.models)

    async def list_system_days(self, first_day: str, last_day: str) -> list[SystemCostSummary]:
        days = sorted(day for day in self._system if len(day) == len(first_day) and first_day <= day <= last_day)
        return [self._system[day].overall.system_summary(day, {}) for day in days]

    def _user_period(self, user_id: str, period: str) -> UserPeriodCost:
        overall = self._users[(user_id, period)].overall
        return UserPeriodCost(
            user_id=user_id,
            period=period,
            total_cost=float(overall.cost),
            total_requests=overall.requests,
            updated_at=overall.updated_at or "",
        )

    async def list_top_users(self, period: str, *, limit: int, min_cost: float = 0.0) -> list[UserPeriodCost]:
        found = [self._user_period(user_id, period) for user_id in self._month_users.get(period, [])]
        found = [user for user in found if user.total_cost >= min_cost]
        found.sort(key=lambda user: (-user.total_cost, user.user_id))
        return found[:limit]

    async def list_period_users(
        self, period: str, *, limit: int, page_token: str | None = None
    ) -> Page[UserPeriodCost]:
        users = self._month_users.get(period, [])
        start = 0
        if page_token is not None:
            start = bisect.bisect_right(users, decode_token(page_token, fields=("userId",))["userId"])
        chunk = users[start : start + limit]
        more = start + limit < len(users)
        token = encode_token({"userId": chunk[-1]}) if more and chunk else None
        return Page(items=[self._user_period(user_id, period) for user_id in chunk], next_token=token)
