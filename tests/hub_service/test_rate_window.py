"""The gateway's rpm/tpm limits: a one-minute sliding window per user, on a clock the
tests move (exact counts, no sleeping)."""

from __future__ import annotations

import pytest

from hub_service.gateway.ratelimit import RateLimiter, SlidingWindow
from hub_service.gateway.routes import Refused


def test_counts_within_the_minute_and_forgets_after_two():
    w = SlidingWindow()
    for t in (0.0, 10.0, 20.0):
        w.add(t, 1)
    assert w.total(30.0) == 3
    # 15 s into the next minute, three quarters of the last minute still count
    assert w.total(75.0) == 3 * 0.75
    assert w.total(125.0) == 0  # two minutes on: nothing left
    assert w.retry_after(30.0) == 31


def test_tokens_add_up():
    w = SlidingWindow()
    w.add(5.0, 120)
    w.add(6.0, 30)
    assert w.total(7.0) == 150


class Clock:
    def __init__(self, t: float = 0.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def admitted(limiter: RateLimiter, user: str, tries: int, rpm=None, tpm=None) -> int:
    count = 0
    for _ in range(tries):
        try:
            limiter.admit(user, rpm, tpm)
            count += 1
        except Refused as refused:
            assert refused.status == 429 and refused.retry_after >= 1
    return count


def test_an_rpm_limit_admits_exactly_the_limit_then_recovers_with_the_window():
    clock = Clock(0.0)
    limiter = RateLimiter(clock=clock)
    assert admitted(limiter, "ann", 10, rpm=3) == 3
    clock.t = 60.0  # the next minute: the last minute still weighs fully
    assert admitted(limiter, "ann", 10, rpm=3) == 0
    clock.t = 90.0  # half of it left: 1.5 counted, room for two more
    assert admitted(limiter, "ann", 10, rpm=3) == 2
    assert admitted(limiter, "bob", 10, rpm=3) == 3  # per user


def test_a_tpm_limit_counts_the_tokens_used_including_other_replicas():
    clock = Clock(0.0)
    limiter = RateLimiter(clock=clock)
    assert admitted(limiter, "ann", 1, tpm=100) == 1
    limiter.add("ann", tokens=60)  # the request's tokens, once it finished
    limiter.add("ann", requests=1, tokens=40)  # another replica's request
    with pytest.raises(Refused, match="100 of 100 tokens per minute used; retry in 61 s"):
        limiter.admit("ann", None, 100)
    clock.t = 120.0
    assert admitted(limiter, "ann", 1, tpm=100) == 1


def test_idle_windows_are_forgotten():
    clock = Clock(0.0)
    limiter = RateLimiter(clock=clock)
    limiter.admit("ann", 5, None)
    limiter.add("ann", tokens=10)
    clock.t = 90.0
    limiter.forget_idle()
    assert "ann" in limiter.requests  # half of the last minute still counts
    clock.t = 130.0
    limiter.forget_idle()
    assert limiter.requests == {} and limiter.tokens == {}
