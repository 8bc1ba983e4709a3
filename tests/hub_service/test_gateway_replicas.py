"""Two real gateway processes on one PostgreSQL database, as replicas behind a load
balancer: a user's requests per minute are limited across both, not per process."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from gatewayproc import start_gateway
from sqlalchemy import func, select

from hub_service import catalog, db, keys
from hub_service.db import Usage, session_scope, utcnow

MODELS = [
    {
        "name": "mock-small",
        "provider_model": "openai/mock-small",
        "extra_params": {"mock_response": "small answer"},
        "input_cost_per_token": 1e-06,
        "output_cost_per_token": 2e-06,
    }
]
RPM = 6
PROFILES = [
    {
        "slug": "limited",
        "display_name": "Limited",
        "is_default": True,
        "models": ["mock-small"],
        "rpm_limit": RPM,
    }
]


@pytest.fixture(scope="module")
def replicas(postgres, log_dir):
    url = postgres.create_database(f"replicas_{os.getpid()}")
    engine = db.make_engine(url)
    db.upgrade(engine)
    sessions = db.make_session_factory(engine)
    with session_scope(sessions) as s:
        catalog.seed(s, MODELS, PROFILES)
        _, key = keys.issue(
            s,
            user="rhea",
            server_name=None,
            profile_slug="limited",
            name="t",
            lifetime=dt.timedelta(hours=1),
            now=utcnow(),
        )
    env = {"MAAS_REFRESH_INTERVAL": "0.5"}
    a = start_gateway(url, log_dir / "gateway-replica-a.log", env=env)
    b = start_gateway(url, log_dir / "gateway-replica-b.log", env=env)
    yield a, b, key, sessions
    for gw in (a, b):
        gw.terminate()
    engine.dispose()


def rows(sessions) -> int:
    with session_scope(sessions) as s:
        return s.scalar(select(func.count(Usage.id)).where(Usage.user == "rhea"))


def test_a_users_rpm_limit_holds_across_two_gateways(replicas):
    a, b, key, sessions = replicas
    # one short of the limit through the first gateway
    for _ in range(RPM - 1):
        assert a.chat(key, "mock-small").status_code == 200
    deadline = time.monotonic() + 10
    while rows(sessions) < RPM - 1:  # its usage rows are in the database ...
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(1.5)  # ... and the second gateway has refreshed (every 0.5 s here)
    # the second gateway lets one more through (or none, if the minute turned), then
    # refuses; on its own it would have allowed RPM
    codes = [b.chat(key, "mock-small").status_code for _ in range(3)]
    assert 429 in codes, codes
    assert codes.count(200) <= 2, codes
    r = b.chat(key, "mock-small")
    assert r.status_code == 429
    assert f"at most {RPM} requests per minute" in r.json()["error"]["message"]
