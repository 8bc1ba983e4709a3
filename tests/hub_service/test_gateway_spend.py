"""The gateway's in-memory spend when several gateways write usage rows to one
PostgreSQL database: a row can become visible after rows with higher ids (its insert
committed later). Such a row must still count toward the budget, and only once.

These tests drive the gateway's state object directly (its refresh is what runs every
2 s inside LiteLLM), with two real database connections playing two gateways."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import insert

from hub_service import db, windows
from hub_service.db import Usage
from hub_service.gateway.snapshot import USAGE_GAP_TIMEOUT, GatewayState
from hub_service.gateway.usage import USAGE_DEFAULTS


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def database(postgres, request):
    url = postgres.create_database(f"spend_{os.getpid()}_{request.node.name[:20]}".lower())
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield url, engine
    engine.dispose()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def state(database, clock):
    gateway = GatewayState(database[0], clock=clock)
    yield gateway
    gateway.close()


def refresh(gateway: GatewayState) -> float:
    """One refresh pass, as the gateway's loop runs it; return erin's spend today."""
    gateway.apply(gateway.load_changes(gateway.ledger.settled_ids()))
    return gateway.ledger.spent("erin", *windows.bounds("day", db.utcnow()))


def row(cost: float) -> dict:
    return {
        **USAGE_DEFAULTS,
        "ts": db.utcnow(),
        "user": "erin",
        "model": "smollm2-135m",
        "status_code": 200,
        "cost_usd": cost,
    }


def test_a_row_committed_after_a_higher_id_still_counts_once(database, state):
    _, engine = database
    with engine.connect() as slow, engine.connect() as fast:
        slow.execute(insert(Usage), [row(1.0)])  # gets the lower id, commits later
        fast.execute(insert(Usage), [row(2.0)])
        fast.commit()
        assert refresh(state) == pytest.approx(2.0)
        fast.execute(insert(Usage), [row(4.0)])
        fast.commit()
        assert refresh(state) == pytest.approx(6.0)
        slow.commit()
    assert refresh(state) == pytest.approx(7.0)
    assert refresh(state) == pytest.approx(7.0)  # and never again


def test_a_rolled_back_insert_is_given_up_on_without_losing_later_rows(database, state, clock):
    _, engine = database
    with engine.connect() as failing, engine.connect() as fast:
        failing.execute(insert(Usage), [row(100.0)])
        fast.execute(insert(Usage), [row(2.0)])
        fast.commit()
        failing.rollback()  # its id stays unused for ever
    assert refresh(state) == pytest.approx(2.0)
    with engine.begin() as conn:
        conn.execute(insert(Usage), [row(3.0)])
    assert refresh(state) == pytest.approx(5.0)  # counted, while the gap is awaited
    clock.t += USAGE_GAP_TIMEOUT + 1  # then given up on
    with engine.begin() as conn:
        conn.execute(insert(Usage), [row(3.0)])
    assert refresh(state) == pytest.approx(8.0)
    assert refresh(state) == pytest.approx(8.0)
    assert state._usage_gaps == {}


def test_the_first_pass_counts_todays_rows_and_skips_yesterdays(database, state):
    _, engine = database
    yesterday = db.utcnow() - dt.timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(insert(Usage), [{**row(50.0), "ts": yesterday}, row(1.5), row(0.0)])
    assert refresh(state) == pytest.approx(1.5)


def test_a_refresh_pass_that_fails_half_way_loses_no_spend(database, state):
    _, engine = database
    assert refresh(state) == 0.0
    with engine.begin() as conn:
        conn.execute(insert(Usage), [row(2.5)])
    state.load_changes([])  # read, then the pass fails before applying what it read
    assert refresh(state) == pytest.approx(2.5)
