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

from hub_service import db
from hub_service.db import Usage
from hub_service.gateway import plugin
from hub_service.gateway.plugin import GatewayState


@pytest.fixture
def database(postgres, request):
    url = postgres.create_database(f"spend_{os.getpid()}_{request.node.name[:20]}".lower())
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield url, engine
    engine.dispose()


@pytest.fixture
def state(database):
    gateway = GatewayState(database[0])
    yield gateway
    gateway.close()


def refresh(gateway: GatewayState) -> float:
    """One refresh pass, as the gateway's loop runs it; return erin's spend today."""
    gateway._apply_changes(*gateway._load_changes())
    return gateway.spend("erin", "day")[0]


def row(cost: float) -> dict:
    return {
        **plugin.USAGE_DEFAULTS,
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


def test_a_rolled_back_insert_is_given_up_on_without_losing_later_rows(
    database, state, monkeypatch
):
    _, engine = database
    with engine.connect() as failing, engine.connect() as fast:
        failing.execute(insert(Usage), [row(100.0)])
        fast.execute(insert(Usage), [row(2.0)])
        fast.commit()
        failing.rollback()  # its id stays unused for ever
    assert refresh(state) == pytest.approx(2.0)
    monkeypatch.setattr(plugin, "USAGE_GAP_TIMEOUT", 0.0)  # stop waiting for it
    with engine.begin() as conn:
        conn.execute(insert(Usage), [row(3.0)])
    assert refresh(state) == pytest.approx(5.0)
    assert refresh(state) == pytest.approx(5.0)


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
    state._load_changes()  # read, then the pass fails before applying what it read
    assert refresh(state) == pytest.approx(2.5)
