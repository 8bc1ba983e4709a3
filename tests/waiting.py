"""Wait on a condition, never on a fixed sleep."""

from __future__ import annotations

import time


def until(condition, timeout: float, what: str, every: float = 0.2):
    """``condition()``'s first true value, polled every ``every`` seconds; fails the
    test naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)
