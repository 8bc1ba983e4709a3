"""Rate limits in constant time and memory: requests and tokens per minute, per user;
and a token bucket (how often the gateway may ask its database about unknown keys)."""

from __future__ import annotations

import time
from collections.abc import Callable

from .routes import Refused

RATE_WINDOW = 60.0  # seconds: rpm and tpm are per minute


class SlidingWindow:
    """A count over the last minute: the current minute's count plus the previous
    minute's, weighted by how much of it is still in the window (the approximation
    nginx and Cloudflare use)."""

    __slots__ = ("minute", "current", "previous")

    def __init__(self):
        self.minute = -1
        self.current = 0.0
        self.previous = 0.0

    def _roll(self, now: float) -> None:
        minute = int(now // RATE_WINDOW)
        if minute != self.minute:
            self.previous = self.current if minute == self.minute + 1 else 0.0
            self.current = 0.0
            self.minute = minute

    def total(self, now: float) -> float:
        self._roll(now)
        elapsed = (now % RATE_WINDOW) / RATE_WINDOW
        return self.current + self.previous * (1 - elapsed)

    def add(self, now: float, amount: float) -> None:
        self._roll(now)
        self.current += amount

    def retry_after(self, now: float) -> int:
        return max(1, int(RATE_WINDOW - now % RATE_WINDOW) + 1)

    def idle(self, now: float) -> bool:
        """Nothing in the window any more (the window can be forgotten)."""
        return self.total(now) == 0


class RateLimiter:
    """Each user's requests and tokens of the last minute, on this gateway plus what
    the other replicas reported (added when this gateway reads their usage rows)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.requests: dict[str, SlidingWindow] = {}
        self.tokens: dict[str, SlidingWindow] = {}

    def admit(self, user: str, rpm_limit: int | None, tpm_limit: int | None) -> None:
        """Count one request, or raise Refused (429) if a limit is reached."""
        now = self.clock()
        if rpm_limit is not None:
            window = self.requests.get(user)
            if window is not None and window.total(now) >= rpm_limit:
                raise Refused(
                    429,
                    "rpm",
                    f"Rate limit reached: at most {rpm_limit} requests per minute for you; "
                    f"retry in {window.retry_after(now)} s.",
                    retry_after=window.retry_after(now),
                )
        if tpm_limit is not None:
            window = self.tokens.get(user)
            used = int(window.total(now)) if window is not None else 0
            if used >= tpm_limit:
                raise Refused(
                    429,
                    "tpm",
                    f"Token rate limit reached: {used} of {tpm_limit} tokens per minute used; "
                    f"retry in {window.retry_after(now)} s.",
                    retry_after=window.retry_after(now),
                )
        self.add(user, requests=1)

    def add(self, user: str, *, requests: int = 0, tokens: int = 0) -> None:
        now = self.clock()
        if requests:
            self.requests.setdefault(user, SlidingWindow()).add(now, requests)
        if tokens:
            self.tokens.setdefault(user, SlidingWindow()).add(now, tokens)

    def forget_idle(self) -> None:
        """Drop the windows with nothing left in them (memory stays flat)."""
        now = self.clock()
        for windows in (self.requests, self.tokens):
            for user in [u for u, w in windows.items() if w.idle(now)]:
                del windows[user]


class TokenBucket:
    """At most ``rate`` events a second on average and ``burst`` at once: ``take`` says
    whether one more may happen now."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = float(burst)
        self.at = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
