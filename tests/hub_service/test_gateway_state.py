"""The gateway's memory, driven directly on clocks the tests move: budget reservations,
key refreshes that do not depend on clocks agreeing, and memory that stays flat.

The refresh is what runs every couple of seconds inside LiteLLM; here a test calls it,
against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from gatewayproc import issue_key
from sqlalchemy import event, insert

from hub_service import db, keys, windows
from hub_service.db import ApiKey, Profile, Team, Usage, UserGroup, session_scope
from hub_service.gateway.ledger import RESERVATION_GRACE, Ledger
from hub_service.gateway.routes import Refused
from hub_service.gateway.snapshot import (
    KEY_LOOKUP_BURST,
    KEY_RETENTION,
    GatewayState,
    LookupsBusy,
)
from hub_service.gateway.usage import USAGE_DEFAULTS
from hub_service.policy import Budget, Policy

NOW = dt.datetime(2026, 11, 26, 12, 0)
UTC = windows.zone("UTC")


class Clock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def budget(usd: float, *more: Budget) -> Policy:
    return Policy("p", ("*",), (Budget("day", usd, "profile:p"), *more), None, None)


def day_spent(ledger: Ledger, user: str, now: dt.datetime = NOW) -> float:
    return ledger.spent(user, *windows.bounds("day", now, UTC))


def reserve_all(ledger: Ledger, user: str, policy: Policy, n: int, worst: float) -> list[str]:
    admitted = []
    for i in range(n):
        try:
            ledger.reserve(f"{user}-{i}", user, policy, worst)
            admitted.append(f"{user}-{i}")
        except Refused as refused:
            assert refused.status == 429 and "in flight" in refused.message
    return admitted


def test_requests_in_flight_hold_their_worst_case_against_the_budget():
    ledger = Ledger(now=lambda: NOW, clock=Clock())
    policy = budget(0.01)
    # 0, 0.004 and 0.008 are below the budget: three admitted, however many ask
    first = reserve_all(ledger, "ann", policy, 50, 0.004)
    assert len(first) == 3 and ledger.held("ann") == pytest.approx(0.012)
    for request_id in first:  # each cost less than its worst case
        ledger.settle(request_id, "ann", 0.003)
    assert day_spent(ledger, "ann") == pytest.approx(0.009)
    assert ledger.held("ann") == 0
    # 0.009 spent: one more admitted, then the budget is gone for good
    assert len(reserve_all(ledger, "ann", policy, 50, 0.004)) == 1
    with pytest.raises(Refused, match="in flight"):
        ledger.reserve("x", "ann", policy, 0.004)
    assert len(reserve_all(ledger, "bob", policy, 5, 0.004)) == 3  # per user


def test_spend_counts_once_when_its_row_is_read_back():
    ledger = Ledger(now=lambda: NOW, clock=Clock())
    ledger.reserve("r1", "ann", budget(1.0), 0.5)
    ledger.settle("r1", "ann", 0.2)
    assert day_spent(ledger, "ann") == pytest.approx(0.2)
    # the refresh reads the request's row: counted from the rows, not twice
    ledger.count({("ann", NOW): 0.2}, {"r1"}, reset=False)
    assert day_spent(ledger, "ann") == pytest.approx(0.2)
    assert ledger.settled == {}


def test_an_exhausted_budget_says_spend_budget_and_reset():
    ledger = Ledger(now=lambda: NOW, clock=Clock())
    ledger.count({("ann", NOW): 0.01}, set(), reset=False)
    with pytest.raises(Refused) as refused:
        ledger.reserve("r", "ann", budget(0.01), 0.001)
    assert refused.value.message == (
        "Budget exhausted: you have spent $0.01 of your $0.01 daily budget. "
        "It resets at 2026-11-27T00:00:00Z."
    )


def test_a_reservation_without_a_usage_record_is_released_after_its_response():
    clock = Clock()
    ledger = Ledger(now=lambda: NOW, clock=clock)
    ledger.reserve("lost", "ann", budget(1.0), 0.9)
    ledger.ended("lost")
    clock.t += RESERVATION_GRACE / 2
    assert ledger.expire() == 0 and ledger.held("ann") == pytest.approx(0.9)
    clock.t += RESERVATION_GRACE
    assert ledger.expire() == 1 and ledger.held("ann") == 0


def test_of_several_windows_the_one_that_binds_names_itself_and_its_reset():
    """$0.01 a day and $0.02 a week: the day binds first, then the week, whose reset is
    next Monday; a new day alone does not help."""
    now = [dt.datetime(2026, 11, 26, 12, 0)]  # a Thursday
    ledger = Ledger(now=lambda: now[0], clock=Clock(), tz=UTC)
    policy = budget(0.01, Budget("week", 0.02, "profile:p"))
    ledger.count({("ann", windows.bucket(now[0])): 0.01}, set(), reset=False)
    with pytest.raises(Refused) as refused:
        ledger.reserve("r1", "ann", policy, 0.001)
    assert "of your $0.01 daily budget. It resets at 2026-11-27T00:00:00Z." in str(
        refused.value.message
    )
    now[0] = dt.datetime(2026, 11, 27, 0, 0)  # Friday: the day is new, the week is not
    ledger.count({("ann", windows.bucket(now[0])): 0.01}, set(), reset=False)
    with pytest.raises(Refused) as refused:
        ledger.reserve("r2", "ann", policy, 0.001)
    assert refused.value.message == (
        "Budget exhausted: you have spent $0.02 of your $0.02 weekly budget. "
        "It resets at 2026-11-30T00:00:00Z."
    )
    now[0] = dt.datetime(2026, 11, 30, 0, 0)  # Monday
    ledger.reserve("r3", "ann", policy, 0.001)


def test_a_teams_cap_limits_its_members_total_and_a_term_budget_ends_with_the_term():
    ledger = Ledger(now=lambda: NOW, clock=Clock(), tz=UTC)
    ledger.members = {"cs101": ("bob", "carol")}
    term = (dt.datetime(2026, 9, 1), dt.datetime(2026, 12, 19))
    policy = Policy(
        "p",
        ("*",),
        (
            Budget("day", 1.0, "team:cs101", "cs101"),
            Budget("week", 0.05, "team:cs101", "cs101", cap=True),
            Budget("term", 0.5, "team:cs101", "cs101", term=term),
        ),
        None,
        None,
    )
    ledger.count({("carol", windows.bucket(NOW)): 0.04}, set(), reset=False)
    ledger.reserve("b1", "bob", policy, 0.005)  # 0.04 + 0.005 held: below the cap
    ledger.reserve("c1", "carol", policy, 0.005)
    with pytest.raises(Refused, match="team 'cs101' has spent .* in flight"):
        ledger.reserve("b2", "bob", policy, 0.001)  # the members' holds reach the cap
    ledger.release("c1")
    ledger.settle("b1", "bob", 0.01)
    with pytest.raises(Refused) as refused:
        ledger.reserve("b2", "bob", policy, 0.001)
    assert refused.value.message == (
        "Budget exhausted: team 'cs101' has spent $0.05 of its $0.05 weekly cap. "
        "It resets at 2026-11-30T00:00:00Z."
    )
    ledger.members = {}
    ledger.count({("bob", dt.datetime(2026, 9, 2)): 0.5}, set(), reset=False)
    with pytest.raises(Refused) as refused:
        ledger.reserve("b3", "bob", Policy("p", (), policy.budgets[2:], None, None), 0.001)
    assert refused.value.message == (
        "Budget exhausted: you have spent $0.51 of your $0.50 term budget (team 'cs101'). "
        "The term ends at 2026-12-19T00:00:00Z."
    )


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin"])
def test_parallel_requests_at_a_windows_edge_never_pass_either_side(tz):
    """Fifty requests a second before midnight (in the zone) and fifty just after, all at
    once from threads: yesterday's budget admits what it has room for, however many ask,
    and the new day starts with its whole budget, whatever yesterday held."""
    import threading

    zone = windows.zone(tz)
    _, midnight = windows.bounds("day", NOW, zone)
    clock_now = [midnight - dt.timedelta(seconds=1)]
    ledger = Ledger(now=lambda: clock_now[0], clock=Clock(), tz=zone)
    policy = budget(0.01)
    ledger.count({("ann", windows.bucket(clock_now[0])): 0.006}, set(), reset=False)

    def burst(prefix: str) -> list[str]:
        admitted: list[str] = []
        start = threading.Barrier(50)

        def one(i):
            start.wait()
            try:
                ledger.reserve(f"{prefix}{i}", "ann", policy, 0.001)
                admitted.append(f"{prefix}{i}")
            except Refused as refused:
                assert refused.status == 429

        threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return admitted

    before = burst("a")
    assert len(before) == 4  # 0.006 + 4 x 0.001 held reaches 0.01
    clock_now[0] = midnight  # the reservations of the day before still run
    after = burst("b")
    for request_id in before:  # they finish in the new day: their cost counts there
        ledger.settle(request_id, "ann", 0.001)
    # in the new day: 0.004 held by yesterday's requests, then 6 of 0.001 reach 0.01
    assert len(after) == 6
    assert ledger.spent("ann", midnight, midnight + dt.timedelta(days=1)) == pytest.approx(0.004)


# -- the refresh, on real databases ----------------------------------------------------


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def gateway(db_url, sessions, clock):
    state = GatewayState(db_url, clock=clock)
    yield state
    state.close()


def refresh(state: GatewayState) -> None:
    state.apply(state.load_changes(state.ledger.settled_ids()))


def issue(sessions, user="ann") -> tuple[str, str]:
    row, key = issue_key(sessions, user)
    return row.id, keys.hash_key(key)


def test_a_revocation_is_seen_though_the_service_clock_is_a_minute_behind(gateway, sessions):
    key_id, key_hash = issue(sessions)
    refresh(gateway)
    assert gateway.keys[key_hash].revoked_at is None
    refresh(gateway)  # the gateway has looked since: a clock-based delta starts later
    behind = db.utcnow() - dt.timedelta(seconds=60)
    with session_scope(sessions) as s:
        keys.revoke_where(s, (ApiKey.id == key_id,), reason="revoked by user", now=behind)
    refresh(gateway)
    assert gateway.keys[key_hash].revoked_reason == "revoked by user"


def test_a_change_that_commits_late_is_still_seen(gateway, sessions, db_url):
    key_id, key_hash = issue(sessions)
    refresh(gateway)
    engine = db.make_engine(db_url)
    slow = db.make_session_factory(engine)()
    row = slow.get(ApiKey, key_id)
    row.revoked_at = db.utcnow() - dt.timedelta(minutes=5)
    row.revoked_reason = "server stopped"
    slow.flush()  # numbered now, committed later
    refresh(gateway)
    assert gateway.keys[key_hash].revoked_at is None
    slow.commit()
    slow.close()
    engine.dispose()
    refresh(gateway)
    assert gateway.keys[key_hash].revoked_reason == "server stopped"


def test_a_regenerated_keys_old_secret_is_forgotten_even_by_a_late_lookup(gateway, sessions):
    """A key's new secret replaces its old hash at the next refresh; the old version,
    read by a direct lookup that finishes after that refresh, does not come back."""
    key_id, old_hash = issue(sessions)
    refresh(gateway)
    stale = gateway._load_key(old_hash)  # a lookup that started before the change
    with session_scope(sessions) as s:
        row = s.get(ApiKey, key_id)
        new_key = keys.regenerate(row, now=db.utcnow())
    new_hash = keys.hash_key(new_key)
    refresh(gateway)
    assert old_hash not in gateway.keys and gateway.keys[new_hash].id == key_id
    gateway._remember_key(old_hash, stale)  # ... and finishes now
    assert old_hash not in gateway.keys
    assert asyncio.run(gateway.key(old_hash)) is None  # nor has the database
    assert asyncio.run(gateway.key(new_hash)).id == key_id


def test_keys_revoked_or_expired_long_ago_leave_memory(gateway, sessions):
    _, active = issue(sessions, "ann")
    revoked_id, revoked = issue(sessions, "bob")
    refresh(gateway)
    assert {active, revoked} <= set(gateway.keys)
    long_ago = db.utcnow() - KEY_RETENTION - dt.timedelta(minutes=1)
    with session_scope(sessions) as s:
        keys.revoke_where(s, (ApiKey.id == revoked_id,), reason="server stopped", now=long_ago)
    refresh(gateway)
    assert active in gateway.keys and revoked not in gateway.keys


def test_spend_outside_every_budget_window_leaves_memory(gateway, sessions):
    now = db.utcnow()
    rows = [
        {**USAGE_DEFAULTS, "ts": ts, "user": "ann", "model": "m", "status_code": 200, "cost_usd": 1}
        for ts in (now, now - dt.timedelta(days=40))
    ]
    with session_scope(sessions) as s:
        s.execute(insert(Usage), rows)
    refresh(gateway)
    assert list(gateway.ledger.buckets["ann"]) == [windows.bucket(now)]


def test_a_profile_open_only_through_a_team_outside_its_term_is_closed(gateway, sessions):
    """Keys of servers started with a course's profile stop working when the term ends,
    with the sentence; a profile also open to another group of the user's stays open."""
    now = db.utcnow()
    ended = windows.bucket(now - dt.timedelta(hours=1))
    with session_scope(sessions) as s:
        s.add(
            Team(
                name="cs101",
                available_models=["*"],
                models=["course"],
                budgets=[],
                caps=[],
                starts_at=ended - dt.timedelta(days=90),
                ends_at=ended,
            )
        )
        s.add(Profile(slug="course", display_name="Course", models=[], groups=["cs101"]))
        s.add(Profile(slug="shared", display_name="Shared", models=[], groups=["cs101", "lab"]))
        s.add_all(
            [
                UserGroup(user="bob", group="cs101"),
                UserGroup(user="ann", group="cs101"),
                UserGroup(user="ann", group="lab"),
            ]
        )
    refresh(gateway)
    bob = gateway.policy("bob", "course")
    why = f"Team 'cs101''s term ended at {windows.iso(ended)}."
    assert bob.idle_teams == {"cs101": (("course",), why)} and "course" not in bob.models
    assert gateway.profile_closed("bob", "course", bob) == why
    assert gateway.profile_closed("ann", "shared", gateway.policy("ann", "shared")) is None
    assert gateway.profile_closed("ann", "course", gateway.policy("ann", "course")) == why


def test_a_terms_older_spend_is_summed_by_the_database_not_kept_in_memory(gateway, sessions):
    """A term that began months ago: its spend before the oldest calendar window comes
    from one query per term, so the gateway's first refresh does not read the term's
    rows, and memory holds only the calendar windows' quarter hours."""
    now = db.utcnow()
    start = windows.bucket(now - dt.timedelta(days=90))
    term = (start, now + dt.timedelta(days=30))
    rows = [
        {**USAGE_DEFAULTS, "ts": ts, "user": "bob", "model": "m", "status_code": 200, "cost_usd": c}
        for ts, c in (
            (now - dt.timedelta(days=80), 2.0),
            (now, 1.0),
            (start - dt.timedelta(days=1), 4.0),
        )
    ]
    with session_scope(sessions) as s:
        s.add(
            Team(
                name="cs101",
                available_models=[],
                models=[],
                budgets=[],
                caps=[],
                starts_at=term[0],
                ends_at=term[1],
            )
        )
        s.execute(insert(Usage), rows)
    refresh(gateway)
    assert list(gateway.ledger.buckets["bob"]) == [windows.bucket(now)]
    assert gateway.ledger.spent("bob", *term) == pytest.approx(3.0)  # not the row before it
    refresh(gateway)  # unchanged terms: not summed again, still counted
    assert gateway.ledger.spent("bob", *term) == pytest.approx(3.0)


# -- unknown keys ------------------------------------------------------------------------


class KeyQueries:
    """Counts the statements the gateway's engine sends that look keys up by hash."""

    def __init__(self, engine):
        self.count = 0
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_args):
        if "api_keys.key_hash =" in statement:
            self.count += 1

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_a_flood_of_made_up_keys_costs_a_bounded_number_of_queries(gateway, sessions):
    """10,000 requests with random keys: at most the lookup burst goes to the database
    (the clock stands still, so the bucket does not refill); the rest are told at once
    to try again. A key issued meanwhile works from the next refresh, and a known key
    is answered from memory throughout."""
    known_id, known = issue(sessions, "ann")
    refresh(gateway)
    queries = KeyQueries(gateway.engine)

    async def one(key_hash):
        try:
            return await gateway.key(key_hash)
        except LookupsBusy:
            return "busy"

    async def flood():
        made_up = [keys.hash_key(keys.new_key()) for _ in range(10_000)]
        return await asyncio.gather(*(one(h) for h in made_up))

    try:
        answers = asyncio.run(flood())
        assert queries.count <= KEY_LOOKUP_BURST, queries.count
        assert answers.count(None) == queries.count  # looked up: not known
        assert answers.count("busy") == 10_000 - queries.count
        assert asyncio.run(gateway.key(known)).id == known_id  # from memory
        new_id, new = issue(sessions, "bob")
        with pytest.raises(LookupsBusy):  # the bucket is empty ...
            asyncio.run(gateway.key(new))
        before = queries.count
        refresh(gateway)  # ... and the refresh brings the new key
        assert asyncio.run(gateway.key(new)).id == new_id
        assert queries.count == before
    finally:
        queries.close()


def test_a_miss_is_remembered_until_that_key_is_issued(gateway, sessions):
    """The same wrong key sent again asks the database once; a key issued later with
    that hash works at the refresh that reads it."""
    queries = KeyQueries(gateway.engine)
    key = keys.new_key()
    try:
        assert asyncio.run(gateway.key(keys.hash_key(key))) is None
        assert asyncio.run(gateway.key(keys.hash_key(key))) is None
        assert queries.count == 1
    finally:
        queries.close()
    with session_scope(sessions) as s:
        row, _ = keys.issue(
            s,
            user="ann",
            server_name=None,
            profile_slug=None,
            name="t",
            lifetime=dt.timedelta(hours=1),
            now=db.utcnow(),
        )
        row.key_hash = keys.hash_key(key)  # as if this were the secret it was given
    refresh(gateway)
    assert asyncio.run(gateway.key(keys.hash_key(key))).id == row.id
