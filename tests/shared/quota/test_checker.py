"""The check before a turn, as pure functions: worked examples, then properties (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apis.shared.quota import (
    EffectiveTier,
    UsageUnavailable,
    check_quota,
    exceeded_event,
    warning_event,
    window_of,
)
from tests.shared.quota.builders import make_tier

NOW = datetime(2025, 3, 20, 15, 30, tzinfo=UTC)


def tier(**fields: object) -> EffectiveTier:
    """What applies: $10 a month, warnings from 80 %, blocks at the limit, unless `fields` say otherwise."""
    return EffectiveTier.of_tier(make_tier(None, **fields))


def test_without_a_quota_everything_is_allowed() -> None:
    check = check_quota(None, monthly_usage=1e6, now=NOW)

    assert (check.allowed, check.message, check.quota_limit, check.current_period) == (
        True,
        "No quota configured",
        None,
        "2025-03",
    )


def test_an_unlimited_tier_allows_without_figures() -> None:
    unlimited = tier().model_copy(update={"monthly_cost_limit": None})

    check = check_quota(unlimited, monthly_usage=500.0, now=NOW)

    assert (check.allowed, check.exceeded, check.quota_limit, check.remaining) == (True, False, None, None)
    assert warning_event(check) is None


@pytest.mark.parametrize(
    ("usage", "soft", "level"),
    [
        (7.99, 80.0, "none"),
        (8.0, 80.0, "80%"),
        (8.99, 80.0, "80%"),
        (9.0, 80.0, "90%"),
        (9.6, 95.0, "95%"),
        (9.4, 95.0, "none"),
        (0.0, 0.0, "0%"),
    ],
)
def test_warnings_start_at_the_soft_limit(usage: float, soft: float, level: str) -> None:
    check = check_quota(tier(soft_limit_percentage=soft), monthly_usage=usage, now=NOW)

    assert (check.allowed, check.exceeded, check.warning_level) == (True, False, level)
    assert check.remaining == pytest.approx(10.0 - usage)


def test_percentages_are_not_thrown_below_a_threshold_by_binary_fractions() -> None:
    check = check_quota(tier(monthly_cost_limit=0.01), monthly_usage=0.009, now=NOW)

    assert (check.percentage_used, check.warning_level) == (90.0, "90%")


def test_a_blocking_tier_refuses_at_its_monthly_limit() -> None:
    check = check_quota(tier(tier_name="Student"), monthly_usage=10.0, now=NOW)

    assert (check.allowed, check.exceeded, check.period_type, check.current_period) == (
        False,
        True,
        "monthly",
        "2025-03",
    )
    assert (check.current_usage, check.quota_limit, check.percentage_used, check.remaining) == (10.0, 10.0, 100.0, 0.0)
    assert check.resets_at == "2025-04-01T00:00:00.000000Z"
    assert check.reset_info == "Your quota resets in 12 day(s)."
    assert check.retry_after_seconds == int((datetime(2025, 4, 1, tzinfo=UTC) - NOW).total_seconds())
    event = exceeded_event(check).model_dump(by_alias=True)
    assert set(event) == {
        "type",
        "message",
        "currentUsage",
        "quotaLimit",
        "percentageUsed",
        "periodType",
        "tierName",
        "resetInfo",
    }
    assert (event["type"], event["tierName"], event["periodType"]) == ("quota_exceeded", "Student", "monthly")
    assert "**Student**" in event["message"]


def test_a_warning_tier_allows_past_its_limit() -> None:
    check = check_quota(tier(action_on_limit="warn"), monthly_usage=12.0, now=NOW)

    assert (check.allowed, check.exceeded, check.warning_level, check.remaining) == (True, True, "90%", 0.0)
    event = warning_event(check)
    assert event is not None
    assert set(event.model_dump(by_alias=True)) == {
        "type",
        "warningLevel",
        "currentUsage",
        "quotaLimit",
        "percentageUsed",
        "remaining",
        "message",
    }


def test_a_daily_limit_blocks_on_the_days_spend_while_the_month_is_fine() -> None:
    check = check_quota(tier(daily_cost_limit=1.0), monthly_usage=2.0, daily_usage=1.5, now=NOW)

    assert (check.allowed, check.period_type, check.current_period) == (False, "daily", "2025-03-20")
    assert (check.current_usage, check.quota_limit, check.remaining) == (1.5, 1.0, 0.0)
    assert (check.resets_at, check.reset_info) == ("2025-03-21T00:00:00.000000Z", "Your quota resets at midnight UTC.")


def test_when_both_limits_are_reached_the_one_that_resets_last_is_reported() -> None:
    check = check_quota(tier(daily_cost_limit=1.0), monthly_usage=11.0, daily_usage=2.0, now=NOW)

    assert (check.allowed, check.period_type) == (False, "monthly")


def test_the_period_most_used_is_reported_ties_to_the_tiers_period() -> None:
    daily_tier = tier(daily_cost_limit=1.0, period_type="daily")

    most_used_month = check_quota(daily_tier, monthly_usage=5.0, daily_usage=0.1, now=NOW)
    tie = check_quota(daily_tier, monthly_usage=5.0, daily_usage=0.5, now=NOW)

    assert (most_used_month.period_type, most_used_month.percentage_used) == ("monthly", 50.0)
    assert tie.period_type == "daily"


def test_a_daily_limit_needs_the_days_spend() -> None:
    with pytest.raises(UsageUnavailable):
        check_quota(tier(daily_cost_limit=1.0), monthly_usage=0.0, now=NOW)


def test_windows_are_utc_months_and_days() -> None:
    december = window_of("monthly", datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    day = window_of("daily", datetime(2025, 12, 31, 23, 59, tzinfo=UTC))

    assert (december.key, december.resets_at) == ("2025-12", datetime(2026, 1, 1, tzinfo=UTC))
    assert (day.key, day.resets_at) == ("2025-12-31", datetime(2026, 1, 1, tzinfo=UTC))


limits = st.floats(min_value=0.01, max_value=1000, allow_nan=False)
usages = st.floats(min_value=0, max_value=2000, allow_nan=False)


@given(limits, st.none() | limits, usages, usages, st.floats(0, 100), st.sampled_from(["block", "warn"]))
def test_a_check_refuses_exactly_when_a_blocking_limit_is_reached(
    monthly: float, daily: float | None, month_usage: float, day_usage: float, soft: float, action: str
) -> None:
    applied = tier(
        monthly_cost_limit=monthly, daily_cost_limit=daily, soft_limit_percentage=soft, action_on_limit=action
    )

    check = check_quota(applied, monthly_usage=month_usage, daily_usage=day_usage, now=NOW)

    reached = month_usage >= monthly or (daily is not None and day_usage >= daily)
    assert check.exceeded is reached
    assert check.allowed is not (reached and action == "block")
    assert check.quota_limit is not None
    assert check.remaining == max(0.0, check.quota_limit - check.current_usage)
    # Percentages are rounded to 9 decimal places (so that $0.009 of $0.01 is 90 %, not 89.999...).
    assert check.percentage_used == pytest.approx(check.current_usage / check.quota_limit * 100, abs=1e-9)
    assert (check.warning_level == "none") is (check.percentage_used < soft)
    if not reached:
        most = max(month_usage / monthly, day_usage / daily if daily else 0.0) * 100
        assert check.percentage_used == pytest.approx(most, abs=1e-9)
