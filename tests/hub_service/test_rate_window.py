"""The gateway's one-minute sliding window for rpm/tpm limits."""

from __future__ import annotations

from hub_service.gateway.plugin import SlidingWindow


def test_counts_within_the_minute_and_forgets_after_two():
    w = SlidingWindow()
    for t in (0.0, 10.0, 20.0):
        w.add(t, 1)
    assert w.total(30.0) == 3
    # 15 s into the next minute, three quarters of the last minute still count
    assert w.total(75.0) == 3 * 0.75
    assert w.total(125.0) == 0  # two minutes on: nothing left
    assert 1 <= w.retry_after(30.0) <= 31


def test_tokens_add_up():
    w = SlidingWindow()
    w.add(5.0, 120)
    w.add(6.0, 30)
    assert w.total(7.0) == 150
