"""The per-user sliding-minute limit on model calls."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apis.shared.rate_limits import RateLimited, TurnRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_holds_in_any_sliding_minute_and_says_when_to_retry() -> None:
    clock = Clock()
    limiter = TurnRateLimiter(3, clock=clock)
    for _ in range(3):
        limiter.check_and_count("ada")
        clock.now += 10
    with pytest.raises(RateLimited) as refused:
        limiter.check_and_count("ada")
    limiter.check_and_count("grace")  # each user has a window of their own

    assert refused.value.retry_after_seconds == 30  # the first call leaves the window 60 s after it was made
    assert refused.value.status_code == 429
    clock.now = 1000.0 + 60
    limiter.check_and_count("ada")  # the first call has left the window


def test_a_refused_call_is_not_counted() -> None:
    clock = Clock()
    limiter = TurnRateLimiter(1, clock=clock)
    limiter.check_and_count("ada")
    for _ in range(5):
        clock.now += 11
        with pytest.raises(RateLimited):
            limiter.check_and_count("ada")
    clock.now = 1000.0 + 60
    limiter.check_and_count("ada")


def test_zero_is_no_limit_and_memory_stays_bounded() -> None:
    unlimited = TurnRateLimiter(0)
    for _ in range(1000):
        unlimited.check_and_count("ada")
    limiter = TurnRateLimiter(5, max_users=10)
    for user in range(100):
        limiter.check_and_count(f"user-{user}")
    assert len(limiter._windows) == 10


@given(st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), min_size=1, max_size=60))
def test_no_minute_ever_holds_more_calls_than_the_limit(gaps: list[float]) -> None:
    clock = Clock()
    limiter = TurnRateLimiter(4, clock=clock)
    accepted: list[float] = []
    for gap in gaps:
        clock.now += gap
        refused = False
        try:
            limiter.check_and_count("ada")
        except RateLimited:
            refused = True
        if not refused:
            accepted.append(clock.now)
    for start in accepted:
        assert sum(1 for moment in accepted if start <= moment < start + 60) <= 4
