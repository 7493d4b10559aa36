"""A user's own report over a range of days, and the names that reports show for model ids."""

from __future__ import annotations

from apis.shared.costs.models import CostSummary
from apis.shared.costs.periods import checked_range
from apis.shared.costs.repository import CostRepository
from apis.shared.costs.tally import add_up
from apis.shared.models import ModelRepository


async def detailed_report(*, costs: CostRepository, user_id: str, first_day: str, last_day: str) -> CostSummary:
    """The user's spend from `first_day` to `last_day`, both whole UTC days included, added up from their daily
    totals; its period is "first/last". InvalidDateRange (400) for an end before the start or a span of more
    than MAX_RANGE_DAYS days."""
    days = checked_range(first_day, last_day)
    found = await costs.list_day_summaries(user_id, days[0], days[-1])
    return add_up(user_id, f"{first_day}/{last_day}", found)


async def model_names(*, models: ModelRepository) -> dict[str, str]:
    """The display name of each managed model by its modelId; a model removed since has none (show its id)."""
    return {model.model_id: model.model_name for model in await models.list_models()}
