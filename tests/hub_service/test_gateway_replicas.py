"""Two real gateway processes on one PostgreSQL database, as replicas behind a load
balancer: a user's requests per minute are limited across both, not per process, and a
budget held by requests in flight on one holds on the other too."""

from __future__ import annotations

import os
import time

import pytest
import requests
from gatewayproc import MOCK_SMALL, issue_key, start_gateway
from sqlalchemy import func, select

from hub_service import catalog, db
from hub_service.db import PolicyOverride, Usage, session_scope

RPM = 6
# a slowly streaming model: one request's worst case (500 tokens out) is more than the
# test's whole budget
BUDGET = 0.01
SLOW = {
    "name": "slow",
    "provider_model": "openai/slow",
    "input_cost_per_token": 2.4e-05,
    "output_cost_per_token": 2.4e-05,
    "max_output_tokens": 500,
}
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
def replicas(postgres, log_dir, backend):
    url = postgres.create_database(f"replicas_{os.getpid()}")
    engine = db.make_engine(url)
    db.upgrade(engine)
    sessions = db.make_session_factory(engine)
    with session_scope(sessions) as s:
        catalog.seed(s, [MOCK_SMALL, {**SLOW, "api_base": backend.url}], PROFILES)
    env = {"MAAS_REFRESH_INTERVAL": "0.5"}
    a = start_gateway(url, log_dir / "gateway-replica-a.log", env=env)
    b = start_gateway(url, log_dir / "gateway-replica-b.log", env=env)
    yield a, b, sessions
    for gw in (a, b):
        gw.terminate()
    engine.dispose()


def personal_key(sessions, user: str) -> str:
    return issue_key(sessions, user, "limited")[1]


def rows(sessions, user: str) -> int:
    with session_scope(sessions) as s:
        return s.scalar(select(func.count(Usage.id)).where(Usage.user == user))


def until_seen_by(gateway, sessions, user: str, count: int) -> None:
    """Wait until ``count`` usage rows of ``user`` are in the database, then for a
    refresh of ``gateway`` that reads them."""
    deadline = time.monotonic() + 10
    while rows(sessions, user) < count:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    gateway.refreshed()


def test_a_users_rpm_limit_holds_across_two_gateways(replicas):
    a, b, sessions = replicas
    key = personal_key(sessions, "rhea")
    # one short of the limit through the first gateway
    for _ in range(RPM - 1):
        assert a.chat(key, "mock-small").status_code == 200
    until_seen_by(b, sessions, "rhea", RPM - 1)
    # the second gateway lets one more through (or none, if the minute turned), then
    # refuses; on its own it would have allowed RPM
    codes = [b.chat(key, "mock-small").status_code for _ in range(3)]
    assert 429 in codes, codes
    assert codes.count(200) <= 2, codes
    r = b.chat(key, "mock-small")
    assert r.status_code == 429
    assert f"at most {RPM} requests per minute" in r.json()["error"]["message"]


def test_a_users_tpm_limit_holds_across_two_gateways(replicas):
    a, b, sessions = replicas
    key = personal_key(sessions, "theo")
    first = a.chat(key, "mock-small")
    assert first.status_code == 200
    per_request = first.json()["usage"]["total_tokens"]
    # room for three requests a minute, no rpm limit; two of them spent through the first
    with session_scope(sessions) as s:
        s.add(PolicyOverride(kind="user", name="theo", tpm_limit=3 * per_request))
    assert a.chat(key, "mock-small").status_code == 200
    until_seen_by(b, sessions, "theo", 2)
    # on its own the second gateway would allow three; it allows one (two if the
    # minute turned) and then says how many tokens were used
    codes = [b.chat(key, "mock-small").status_code for _ in range(3)]
    assert 429 in codes and codes.count(200) <= 2, codes
    r = b.chat(key, "mock-small")
    assert r.status_code == 429
    assert f"of {3 * per_request} tokens per minute" in r.json()["error"]["message"]


def test_a_budget_held_by_a_stream_on_one_gateway_holds_on_the_other(replicas):
    """A stream may cost more than the whole budget: while one runs on the first
    gateway, the second gateway refuses another (on its own it would admit it)."""
    a, b, sessions = replicas
    with session_scope(sessions) as s:
        month = [{"window": "month", "usd": BUDGET}]
        s.add(PolicyOverride(kind="user", name="una", extra_models=["slow"], budgets=month))
    key = personal_key(sessions, "una")
    b.refreshed()

    def stream(gateway):
        return requests.post(
            f"{gateway.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "slow", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
            stream=True,
            timeout=30,
        )

    first = stream(a)
    try:
        assert first.status_code == 200
        a.refreshed()  # a has published its hold ...
        b.refreshed()  # ... and b has read it
        second = stream(b)
        assert second.status_code == 429
        assert "requests in flight may cost" in second.json()["error"]["message"]
    finally:
        first.close()
