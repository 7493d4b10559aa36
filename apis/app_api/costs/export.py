"""Users' months as the admins see them: enriched with each user's email, and streamed as CSV or JSON a page at a time.

The export reads every user of the month, page after page, and writes each page as it arrives: no cap, and
nothing larger than a page is held. The first page is read before the response starts, so that a storage
failure then is a plain 503; a failure on a later page can no longer change the status, and ends the
response early without its last line, which a client sees as a broken download, never as a short success.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Literal

from apis.app_api.costs.profiles import read_profiles
from apis.app_api.costs.schemas import TopUserCostRead
from apis.shared.costs import CostRepository, UserPeriodCost, analytics
from apis.shared.users import UserRepository

ExportFormat = Literal["csv", "json"]
CSV_HEADER = ("User ID", "Email", "Total Cost ($)", "Total Requests", "Tier", "Quota %", "Last Updated")


async def with_emails(users: UserRepository, found: Sequence[UserPeriodCost]) -> list[TopUserCostRead]:
    """`found` with each user's email from their profile (None for a user with no profile), in order."""
    profiles = await read_profiles(users, (user.user_id for user in found))
    emails = {user_id: profile.email if profile is not None else None for user_id, profile in profiles.items()}
    return [TopUserCostRead.of(user, emails[user.user_id]) for user in found]


def _csv_rows(rows: Sequence[TopUserCostRead]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        percentage = f"{row.quota_percentage:.1f}" if row.quota_percentage is not None else ""
        # The cost exactly as stored (to 1e-10 USD), never in exponent form: a spreadsheet rounds it as it wishes.
        cost = format(Decimal(repr(row.total_cost)), "f")
        writer.writerow(
            [row.user_id, row.email or "", cost, row.total_requests, row.tier_name or "", percentage, row.last_updated]
        )
    return buffer.getvalue()


def _csv_header() -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(CSV_HEADER)
    return buffer.getvalue()


async def open_export(
    *, costs: CostRepository, users: UserRepository, period: str, export_format: ExportFormat
) -> AsyncIterator[str]:
    """The export of `period`'s users; its first page is read when this is first awaited (see the module)."""
    pages = analytics.period_users(costs=costs, period=period)
    first = await anext(pages, None)

    async def chunks() -> AsyncIterator[str]:
        written = 0
        yield _csv_header() if export_format == "csv" else "["
        page = first
        while page is not None:
            rows = await with_emails(users, page)
            if export_format == "csv":
                yield _csv_rows(rows)
            else:
                items = [json.dumps(row.model_dump(by_alias=True)) for row in rows]
                yield ("," if written else "") + ",".join(items)
            written += len(rows)
            page = await anext(pages, None)
        if export_format == "json":
            yield "]"

    return chunks()
