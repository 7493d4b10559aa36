"""Admin cost analytics, in the reference's paths, parameters and shapes: the dashboard, top users, the system's
month or day, each model's usage, daily trends and the export of every user's month.

Every figure comes from rollups counted in the same write as each turn's cost, or from an index of users'
months: none of these routes scans every user or every message. Usage by tier is the one that reads every user
of the month (through that index, a page at a time): the tier that applies to a user is resolved, not stored
with their spend (see quota/tier_usage.py). The dashboard leaves `tierUsage` null, as the reference does, so it
stays a handful of reads.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from apis.app_api.costs.export import ExportFormat, open_export, with_emails
from apis.app_api.costs.profiles import identify_with
from apis.app_api.costs.schemas import (
    AdminCostDashboardRead,
    CostTrendRead,
    ModelUsageSummaryRead,
    PeriodType,
    SystemCostSummaryRead,
    TierUsageSummaryRead,
    TopUserCostRead,
)
from apis.app_api.deps import AdminPermissions, ModelsRepo, PermissionCacheDep, UsersRepo
from apis.app_api.quota.dependencies import QuotasRepo
from apis.shared.clock import now_iso
from apis.shared.costs import PERIOD_PATTERN, InvalidPeriod, analytics, reports, this_month, today
from apis.shared.dependencies import CostsRepo
from apis.shared.errors import RuleViolation
from apis.shared.quota import usage_by_tier

router = APIRouter(prefix="/admin/costs", tags=["admin: costs"])

Period = Annotated[str | None, Query(pattern=PERIOD_PATTERN, description="YYYY-MM; this UTC month if absent")]
MONTH_OR_DAY = r"^[1-9]\d{3}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$"
# The most users one list of top users returns (the reference's bound); the export has none.
MAX_TOP_USERS = 1000
# The highest `minCost` (USD) taken: beyond any user's month, and within what SQLite's integers hold at 1e-10 USD.
MAX_MIN_COST = 100_000_000.0


@router.get("/dashboard", response_model=AdminCostDashboardRead)
async def read_dashboard(
    admin: AdminPermissions,
    costs: CostsRepo,
    users: UsersRepo,
    models: ModelsRepo,
    period: Period = None,
    top_users_limit: Annotated[int, Query(alias="topUsersLimit", ge=1, le=MAX_TOP_USERS)] = 100,
    include_trends: Annotated[bool, Query(alias="includeTrends")] = True,
) -> AdminCostDashboardRead:
    """The month's system totals, its top users, each model's usage and (by default) its days up to today."""
    period = period or this_month()
    summary = await analytics.system_summary(costs=costs, period=period)
    top = await analytics.top_users(costs=costs, period=period, limit=top_users_limit)
    names = await reports.model_names(models=models)
    trends = await analytics.month_trends(costs=costs, period=period, today=today()) if include_trends else None
    return AdminCostDashboardRead(
        current_period=SystemCostSummaryRead.of(summary, period_type="monthly", now=now_iso()),
        top_users=await with_emails(users, top),
        model_usage=[ModelUsageSummaryRead.of(model, names) for model in summary.models],
        tier_usage=None,
        daily_trends=[CostTrendRead.of(day) for day in trends] if trends is not None else None,
    )


@router.get("/top-users", response_model=list[TopUserCostRead])
async def list_top_users(
    admin: AdminPermissions,
    costs: CostsRepo,
    users: UsersRepo,
    period: Period = None,
    limit: Annotated[int, Query(ge=1, le=MAX_TOP_USERS)] = 100,
    min_cost: Annotated[float | None, Query(alias="minCost", ge=0, le=MAX_MIN_COST, allow_inf_nan=False)] = None,
    tier_id: Annotated[str | None, Query(alias="tierId", max_length=128)] = None,
) -> list[TopUserCostRead]:
    """The month's costliest users first, from an index sorted by cost; `minCost` in USD."""
    if tier_id is not None:
        raise RuleViolation("filtering top users by quota tier is not available yet", code="unsupported_filter")
    found = await analytics.top_users(costs=costs, period=period or this_month(), limit=limit, min_cost=min_cost or 0.0)
    return await with_emails(users, found)


@router.get("/system-summary", response_model=SystemCostSummaryRead)
async def read_system_summary(
    admin: AdminPermissions,
    costs: CostsRepo,
    period: Annotated[str | None, Query(pattern=MONTH_OR_DAY, description="YYYY-MM or YYYY-MM-DD")] = None,
    period_type: Annotated[PeriodType, Query(alias="periodType")] = "monthly",
) -> SystemCostSummaryRead:
    """Every user's spend in a month (periodType monthly) or a day (daily); 400 when they do not match."""
    daily = period_type == "daily"
    period = period or (today() if daily else this_month())
    if daily != (len(period) == len("YYYY-MM-DD")):
        raise InvalidPeriod(f"a {period_type} period is written {'YYYY-MM-DD' if daily else 'YYYY-MM'}, not {period}")
    summary = await analytics.system_summary(costs=costs, period=period)
    return SystemCostSummaryRead.of(summary, period_type=period_type, now=now_iso())


@router.get("/by-model", response_model=list[ModelUsageSummaryRead])
async def list_usage_by_model(
    admin: AdminPermissions, costs: CostsRepo, models: ModelsRepo, period: Period = None
) -> list[ModelUsageSummaryRead]:
    """Each model's share of the month, costliest first, with how many users used it."""
    usage = await analytics.usage_by_model(costs=costs, period=period or this_month())
    names = await reports.model_names(models=models)
    return [ModelUsageSummaryRead.of(model, names) for model in usage]


@router.get("/by-tier", response_model=list[TierUsageSummaryRead])
async def list_usage_by_tier(
    admin: AdminPermissions,
    costs: CostsRepo,
    quotas: QuotasRepo,
    users: UsersRepo,
    permissions: PermissionCacheDep,
    period: Period = None,
) -> list[TierUsageSummaryRead]:
    """The month's spend by the quota tier that applies to each user now, costliest tier first: every tier (zeros
    for one without spending users) and each override that applies to a user who spent. 400 for a month that
    has not begun."""
    usage = await usage_by_tier(
        quotas=quotas, costs=costs, period=period or this_month(), identify=identify_with(users, permissions)
    )
    return [TierUsageSummaryRead.of(tier) for tier in usage]


@router.get("/trends", response_model=list[CostTrendRead])
async def list_trends(
    admin: AdminPermissions,
    costs: CostsRepo,
    start_date: Annotated[date, Query(alias="startDate", description="YYYY-MM-DD, a UTC day")],
    end_date: Annotated[date, Query(alias="endDate", description="YYYY-MM-DD, a UTC day, included")],
) -> list[CostTrendRead]:
    """Every day from `startDate` to `endDate`, oldest first, zeros where nothing was spent; 400 when the end is
    before the start or the span (end minus start) passes 90 days."""
    days = await analytics.daily_trends(costs=costs, first_day=start_date.isoformat(), last_day=end_date.isoformat())
    return [CostTrendRead.of(day) for day in days]


@router.get("/export", response_class=StreamingResponse)
async def export_costs(
    admin: AdminPermissions,
    costs: CostsRepo,
    users: UsersRepo,
    period: Period = None,
    export_format: Annotated[ExportFormat, Query(alias="format")] = "csv",
) -> StreamingResponse:
    """Every user with spend in the month, as CSV (the reference's columns) or a JSON array of top-user rows."""
    period = period or this_month()
    chunks = await open_export(costs=costs, users=users, period=period, export_format=export_format)
    media_type = "text/csv" if export_format == "csv" else "application/json"
    disposition = f"attachment; filename=cost_report_{period}.{export_format}"
    return StreamingResponse(chunks, media_type=media_type, headers={"Content-Disposition": disposition})
