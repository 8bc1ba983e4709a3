"""Each user's spend in the current budget windows, with reservations for the requests
in flight.

Three parts make a user's spend:

- **counted**: the usage rows in the database, summed per (user, quarter hour) by the
  refresh (every window starts on a quarter hour: ``windows``);
- **settled here**: requests this gateway finished whose usage row it has not yet read
  back (so a cost counts from the moment it is known, and once);
- **reserved**: the worst-case cost of each request admitted and not yet finished.

A request is admitted while, for each of its budgets (``policy.Budget``: the user's own
spend over a window, or a team's members' total), counted + settled + reserved is below
the budget, and then
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
from zoneinfo import ZoneInfo

from .. import policy as policies
from .. import windows
from ..db import utcnow
from ..numbers import money
from .routes import Refused

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
        tz: ZoneInfo | None = None,
    ):
        self.now = now  # wall clock (budget windows)
        self.clock = clock  # monotonic (reservation ages)
        self.tz = tz  # the budget windows' time zone (None: the configured one)
        # user -> quarter hour (windows.bucket) -> spend counted from usage rows
        self.buckets: dict[str, dict[dt.datetime, float]] = defaultdict(dict)
        # user -> request id -> (quarter hour, cost)
        self.settled: dict[str, dict[str, tuple[dt.datetime, float]]] = defaultdict(dict)
        self._settled_by: dict[str, str] = {}  # request id -> user
        self.reserved: dict[str, Reservation] = {}
        self._by_user: dict[str, set[str]] = defaultdict(set)  # user -> reservation ids
        # what the other gateway processes hold, per user (read at each refresh)
        self.remote: dict[str, float] = {}
        # each team's members (a team's cap limits their total): set at each refresh
        self.members: dict[str, tuple[str, ...]] = {}
        # spend is kept per quarter hour from ``horizon`` on (the oldest calendar window's
        # start); a term that began before it has its earlier spend here, per term start
        # and user, summed by the database
        self.horizon: dt.datetime | None = None
        self.term_base: dict[dt.datetime, dict[str, float]] = {}
        self._totals: dict[tuple, float] = {}

    # -- what the refresh brings -------------------------------------------------

    def count(
        self, spend: dict[tuple[str, dt.datetime], float], seen: set[str], reset: bool
    ) -> None:
        """Add the per-quarter-hour spend of newly read usage rows; ``seen`` are the
        request ids among them that this gateway had settled (now counted from the
        rows)."""
        if reset:
            self.buckets = defaultdict(dict)
        for (user, quarter), cost in spend.items():
            mine = self.buckets[user]
            mine[quarter] = mine.get(quarter, 0.0) + cost
        for request_id in seen:
            user = self._settled_by.pop(request_id, None)
            if user is not None:
                self.settled[user].pop(request_id, None)
                if not self.settled[user]:
                    del self.settled[user]
        self._totals = {}

    def forget_before(self, since: dt.datetime) -> None:
        """Drop spend that no running window contains (memory stays flat)."""
        for user, mine in list(self.buckets.items()):
            for quarter in [q for q in mine if q < since]:
                del mine[quarter]
            if not mine:
                del self.buckets[user]
        for user, requests in list(self.settled.items()):
            for request_id in [r for r, (q, _) in requests.items() if q < since]:
                del requests[request_id]
                del self._settled_by[request_id]
            if not requests:
                del self.settled[user]
        self._totals = {}

    # -- on the request path -----------------------------------------------------

    def spent(self, user: str, start: dt.datetime, end: dt.datetime) -> float:
        """Counted + settled spend of ``user`` in [start, end)."""
        counted = self._totals.get((user, start, end))
        if counted is None:  # summed once per refresh
            mine = self.buckets.get(user, {})
            counted = sum(cost for q, cost in mine.items() if start <= q < end)
            if self.horizon is not None and start < self.horizon:
                counted += self.term_base.get(start, {}).get(user, 0.0)
            self._totals[(user, start, end)] = counted
        settled = self.settled.get(user)
        if settled:
            counted += sum(cost for q, cost in settled.values() if start <= q < end)
        return counted

    def spent_on(self, user: str, budget: policies.Budget, start, end) -> float:
        """What counts against ``budget`` for ``user``: their spend, or their team's."""
        if budget.cap:
            return sum(self.spent(m, start, end) for m in self._team(budget, user))
        return self.spent(user, start, end)

    def _team(self, budget: policies.Budget, user: str) -> tuple[str, ...]:
        members = self.members.get(budget.team or "", ())
        return members if user in members else (*members, user)

    def standings(self, user: str, policy: policies.Policy) -> list[policies.Standing]:
        return policies.standings(
            policy.budgets,
            self.now(),
            lambda b, start, end: self.spent_on(user, b, start, end),
            self.tz,
        )

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
        ``request_id``, or raise Refused (429) naming the budget that binds: of those
        spent, the one that resets last; else of those that requests in flight may
        exhaust, the same."""
        if not policy.budgets:
            return
        spent, full = [], []
        for stand in self.standings(user, policy):
            b = stand.budget
            held = sum(self.held(m) for m in self._team(b, user)) if b.cap else self.held(user)
            if stand.spent >= b.usd:
                spent.append(stand)
            elif stand.spent + held >= b.usd:
                full.append((stand, held))
        if spent:
            stand = max(spent, key=lambda s: s.end)
            raise Refused(
                429,
                "budget",
                f"Budget exhausted: {stand.budget.spent_sentence(stand.spent)}. "
                + stand.budget.resets(stand.end),
            )
        if full:
            stand, held = max(full, key=lambda f: f[0].end)
            raise Refused(
                429,
                "budget-held",
                f"Budget nearly exhausted: {stand.budget.spent_sentence(stand.spent)}, and "
                f"requests in flight may cost {money(held)} more. Retry when they finish. "
                + stand.budget.resets(stand.end),
                retry_after=5,
            )
        self.reserved[request_id] = Reservation(request_id, user, worst_case, self.clock())
        self._by_user[user].add(request_id)

    def settle(self, request_id: str, user: str, cost: float) -> None:
        """The request's cost is known: it replaces the reservation until the request's
        usage row is read back from the database."""
        self.release(request_id)
        if cost > 0:
            self.settled[user][request_id] = (windows.bucket(self.now()), cost)
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
