"""Each user's spend in the current budget periods, with reservations for the requests
in flight.

Three parts make a user's spend:

- **counted**: the usage rows in the database, summed per (user, day) by the refresh;
- **settled here**: requests this gateway finished whose usage row it has not yet read
  back (so a cost counts from the moment it is known, and once);
- **reserved**: the worst-case cost of each request admitted and not yet finished.

A request is admitted while counted + settled + reserved is below the budget, and then
reserves its own worst case: however many requests arrive at once at one gateway, the
spend can pass the budget by at most one request's worst case. Each gateway process
publishes its holds at every refresh and counts the others' (``remote``), so replicas
and workers hold each other back too, a refresh late.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from .. import policy as policies
from ..db import utcnow
from ..numbers import money
from .routes import Refused

ADJECTIVE = {"day": "daily", "week": "weekly", "month": "monthly"}
# A reservation whose request ended without a usage record (LiteLLM failed before its
# callbacks ran, say) is released this many seconds after the response ended.
RESERVATION_GRACE = 30.0
# ... and one whose response never ends, after this long (longer than any request).
RESERVATION_MAX_AGE = 3600.0


@dataclass
class Reservation:
    id: str
    user: str
    amount: float
    started: float
    ended: float | None = None


class Ledger:
    def __init__(
        self,
        now: Callable[[], dt.datetime] = utcnow,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.now = now  # wall clock (budget periods)
        self.clock = clock  # monotonic (reservation ages)
        self.days: dict[tuple[str, dt.date], float] = defaultdict(float)
        # user -> request id -> (day, cost)
        self.settled: dict[str, dict[str, tuple[dt.date, float]]] = defaultdict(dict)
        self._settled_by: dict[str, str] = {}  # request id -> user
        self.reserved: dict[str, Reservation] = {}
        self._by_user: dict[str, set[str]] = defaultdict(set)  # user -> reservation ids
        # what the other gateway processes hold, per user (read at each refresh)
        self.remote: dict[str, float] = {}
        self._totals: dict[tuple, float] = {}

    # -- what the refresh brings -------------------------------------------------

    def count(self, spend: dict[tuple[str, dt.date], float], seen: set[str], reset: bool) -> None:
        """Add the per-day spend of newly read usage rows; ``seen`` are the request
        ids among them that this gateway had settled (now counted from the rows)."""
        if reset:
            self.days = defaultdict(float)
        for bucket, cost in spend.items():
            self.days[bucket] += cost
        for request_id in seen:
            user = self._settled_by.pop(request_id, None)
            if user is not None:
                self.settled[user].pop(request_id, None)
                if not self.settled[user]:
                    del self.settled[user]
        self._totals = {}

    def forget_before(self, since: dt.date) -> None:
        """Drop days that no running period contains (memory stays flat)."""
        for bucket in [b for b in self.days if b[1] < since]:
            del self.days[bucket]
        for user, requests in list(self.settled.items()):
            for request_id in [r for r, (day, _) in requests.items() if day < since]:
                del requests[request_id]
                del self._settled_by[request_id]
            if not requests:
                del self.settled[user]
        self._totals = {}

    # -- on the request path -----------------------------------------------------

    def spent(self, user: str, period: str) -> tuple[float, dt.datetime, dt.datetime]:
        """(counted + settled spend, period start, reset instant) of the period now."""
        start, end = policies.period_bounds(period, self.now())
        counted = self._totals.get((user, start))
        if counted is None:  # summed once per refresh
            day, counted = start.date(), 0.0
            while day < end.date():
                counted += self.days.get((user, day), 0.0)
                day += dt.timedelta(days=1)
            self._totals[(user, start)] = counted
        mine = self.settled.get(user)
        if mine:
            counted += sum(cost for day, cost in mine.values() if day >= start.date())
        return counted, start, end

    def held(self, user: str) -> float:
        """What requests in flight may still cost: here and, as of the last refresh,
        on the other gateway processes."""
        return self.held_here(user) + self.remote.get(user, 0.0)

    def held_here(self, user: str) -> float:
        return sum(self.reserved[r].amount for r in self._by_user.get(user, ()))

    def holds(self) -> dict[str, float]:
        """This process's holds per user, for the other processes to see."""
        return {user: self.held_here(user) for user in self._by_user}

    def settled_ids(self) -> list[str]:
        return list(self._settled_by)

    def reserve(
        self, request_id: str, user: str, policy: policies.Policy, worst_case: float
    ) -> None:
        """Admit a request that may cost ``worst_case`` and hold that much under
        ``request_id``, or raise Refused (429)."""
        if policy.budget_usd is None:
            return
        spent, _, end = self.spent(user, policy.budget_period)
        held = self.held(user)
        budget = policy.budget_usd
        kind = ADJECTIVE[policy.budget_period]
        if spent >= budget:
            raise Refused(
                429,
                "budget",
                f"Budget exhausted: you have spent {money(spent)} of your {money(budget)} "
                f"{kind} budget. It resets at {end.isoformat()}Z.",
            )
        if spent + held >= budget:
            raise Refused(
                429,
                "budget-held",
                f"Budget nearly exhausted: you have spent {money(spent)} and requests in "
                f"flight may cost {money(held)} more, of your {money(budget)} {kind} "
                f"budget. Retry when they finish; the budget resets at {end.isoformat()}Z.",
                retry_after=5,
            )
        self.reserved[request_id] = Reservation(request_id, user, worst_case, self.clock())
        self._by_user[user].add(request_id)

    def settle(self, request_id: str, user: str, cost: float) -> None:
        """The request's cost is known: it replaces the reservation until the request's
        usage row is read back from the database."""
        self.release(request_id)
        if cost > 0:
            self.settled[user][request_id] = (self.now().date(), cost)
            self._settled_by[request_id] = user

    def release(self, request_id: str | None) -> None:
        found = self.reserved.pop(request_id, None) if request_id else None
        if found is not None:
            ids = self._by_user.get(found.user)
            if ids is not None:
                ids.discard(request_id)
                if not ids:
                    del self._by_user[found.user]

    def ended(self, request_id: str | None) -> None:
        """The response is over; the usage record should follow shortly."""
        found = self.reserved.get(request_id) if request_id else None
        if found is not None and found.ended is None:
            found.ended = self.clock()

    def expire(self) -> int:
        """Release reservations whose usage record never came; return how many."""
        now = self.clock()
        stale = [
            r.id
            for r in self.reserved.values()
            if (r.ended is not None and now - r.ended > RESERVATION_GRACE)
            or now - r.started > RESERVATION_MAX_AGE
        ]
        for rid in stale:
            self.release(rid)
        return len(stale)
