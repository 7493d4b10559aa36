"""The caller's own usage: a month's summary and a report over a range of days, in the reference's shape."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from apis.app_api.costs.schemas import UserCostSummaryRead
from apis.app_api.deps import CurrentUser, ModelsRepo
from apis.shared.costs import PERIOD_PATTERN, month_days, reports, this_month
from apis.shared.costs import summaries as costs_service
from apis.shared.dependencies import CostsRepo

router = APIRouter(prefix="/costs", tags=["costs"])

Period = Annotated[str | None, Query(pattern=PERIOD_PATTERN, description="YYYY-MM; this UTC month if absent")]


@router.get("/summary", response_model=UserCostSummaryRead)
async def read_summary(
    user: CurrentUser,
    costs: CostsRepo,
    models: ModelsRepo,
    period: Annotated[
        str | None, Query(pattern=PERIOD_PATTERN, description="YYYY-MM; this UTC month if absent")
    ] = None,
) -> UserCostSummaryRead:
    """The caller's spend in a UTC month, read from its running totals."""
    period = period or this_month()
    summary = await costs_service.summary(costs=costs, user_id=user.user_id, period=period)
    first, last = month_days(period)
    names = await reports.model_names(models=models)
    return UserCostSummaryRead.of(summary, first_day=first, last_day=last, names=names)


@router.get("/detailed-report", response_model=UserCostSummaryRead)
async def read_detailed_report(
    user: CurrentUser,
    costs: CostsRepo,
    models: ModelsRepo,
    start_date: Annotated[date, Query(description="YYYY-MM-DD, a UTC day")],
    end_date: Annotated[date, Query(description="YYYY-MM-DD, a UTC day, included")],
) -> UserCostSummaryRead:
    """The caller's spend from `start_date` to `end_date`, both whole days included, from their daily totals;
    400 when the end is before the start or the span (end minus start) passes 90 days."""
    first, last = start_date.isoformat(), end_date.isoformat()
    report = await reports.detailed_report(costs=costs, user_id=user.user_id, first_day=first, last_day=last)
    names = await reports.model_names(models=models)
    return UserCostSummaryRead.of(report, first_day=first, last_day=last, names=names)
