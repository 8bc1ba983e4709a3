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

from hub_service import db, keys
from hub_service.db import ApiKey, Usage, session_scope
from hub_service.gateway.ledger import RESERVATION_GRACE, Ledger
from hub_service.gateway.routes import Refused
from hub_service.gateway.snapshot import (
    KEY_LOOKUP_BURST,
    KEY_RETENTION,
    GatewayState,
    LookupsBusy,
)
from hub_service.gateway.usage import USAGE_DEFAULTS
from hub_service.policy import Policy

NOW = dt.datetime(2026, 11, 26, 12, 0)


class Clock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def budget(usd: float) -> Policy:
    return Policy("p", ("*",), usd, "day", None, None)


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
    assert ledger.spent("ann", "day")[0] == pytest.approx(0.009)
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
    assert ledger.spent("ann", "day")[0] == pytest.approx(0.2)
    # the refresh reads the request's row: counted from the rows, not twice
    ledger.count({("ann", NOW.date()): 0.2}, {"r1"}, reset=False)
    assert ledger.spent("ann", "day")[0] == pytest.approx(0.2)
    assert ledger.settled == {}


def test_an_exhausted_budget_says_spend_budget_and_reset():
    ledger = Ledger(now=lambda: NOW, clock=Clock())
    ledger.count({("ann", NOW.date()): 0.01}, set(), reset=False)
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


def test_days_outside_every_budget_period_leave_memory(gateway, sessions):
    now = db.utcnow()
    rows = [
        {**USAGE_DEFAULTS, "ts": ts, "user": "ann", "model": "m", "status_code": 200, "cost_usd": 1}
        for ts in (now, now - dt.timedelta(days=40))
    ]
    with session_scope(sessions) as s:
        s.execute(insert(Usage), rows)
    refresh(gateway)
    assert {day for _, day in gateway.ledger.days} == {now.date()}


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
