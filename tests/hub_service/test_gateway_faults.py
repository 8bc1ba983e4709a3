"""A backend that is down, dies mid-stream or is too slow: the caller gets 503 with a
sentence naming the model and the reason, the usage row says 503, the gateway's log
has one line per failure (no traceback), and the other models keep answering.

A real gateway process; the backends are a port nothing listens on and our slow
streaming HTTP backend (tests/slowbackend.py)."""

from __future__ import annotations

import json
import secrets
import time

import pytest
import requests
from gatewayproc import MOCK_SMALL, issue_key, module_gateway
from pg import free_port
from slowbackend import DIE_AFTER
from sqlalchemy import select

from hub_service import catalog
from hub_service.db import Usage, session_scope

IN_FLIGHT = 3  # requests one user may have running at once, here


@pytest.fixture(scope="module")
def sessions(module_sessions, backend):
    models = [
        MOCK_SMALL,
        {
            "name": "down",
            "provider_model": "openai/down",
            "api_base": f"http://127.0.0.1:{free_port()}/v1",  # nothing listens there
            "extra_params": {"max_retries": 0},
        },
        {"name": "dying", "provider_model": "openai/slow-dying", "api_base": backend.url},
        {"name": "slow", "provider_model": "openai/slow", "api_base": backend.url},
        {
            "name": "slowpoke",
            "provider_model": "openai/slowpoke",
            "api_base": backend.url,
            "extra_params": {"timeout": 0.5, "max_retries": 0},
        },
    ]
    profiles = [{"slug": "all", "display_name": "All", "is_default": True, "models": ["*"]}]
    with session_scope(module_sessions) as s:
        catalog.seed(s, models, profiles)
    return module_sessions


@pytest.fixture(scope="module")
def gateway(sessions, module_db_url, log_dir):
    gw = module_gateway(
        module_db_url, log_dir, "gateway-faults", env={"MAAS_MAX_IN_FLIGHT": str(IN_FLIGHT)}
    )
    yield gw
    gw.terminate()


@pytest.fixture
def key(sessions, request) -> tuple[str, str]:
    user = f"f-{request.node.name[:40]}-{secrets.token_hex(3)}"
    return user, issue_key(sessions, user, "all")[1]


def rows(sessions, user, count) -> list[Usage]:
    deadline = time.monotonic() + 15
    while True:
        with session_scope(sessions) as s:
            found = s.scalars(select(Usage).where(Usage.user == user)).all()
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.parametrize(
    "model, reason",
    [
        ("down", "its backend could not be reached (the connection was refused or cut)"),
        ("slowpoke", "its backend did not answer in time"),
    ],
)
def test_a_backend_down_or_too_slow_gives_503_naming_model_and_reason(
    gateway, sessions, key, model, reason
):
    user, secret = key
    t0 = time.monotonic()
    r = gateway.chat(secret, model)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["message"] == (
        f"The model '{model}' is unavailable: {reason}. Try again shortly."
    )
    assert time.monotonic() - t0 < 30
    [row] = rows(sessions, user, 1)
    assert (row.model, row.status_code, row.cost_usd) == (model, 503, 0.0)
    assert gateway.chat(secret, "mock-small").status_code == 200  # the others still answer
    deadline = time.monotonic() + 10
    while f"model {model} failed for {user}" not in (log := gateway.log_path.read_text()):
        assert time.monotonic() < deadline, "no log line for the failure"
        time.sleep(0.1)
    [line] = [x for x in log.splitlines() if f"model {model} failed for {user}" in x]
    assert reason in line


def test_a_stream_cut_by_a_dying_backend_ends_promptly_with_an_error(gateway, sessions, key):
    user, secret = key
    t0 = time.monotonic()
    r = requests.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {secret}"},
        json={"model": "dying", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
        stream=True,
        timeout=30,
    )
    events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith(b"data: {")]
    assert time.monotonic() - t0 < 20
    tokens = [e for e in events if "choices" in e]
    assert len(tokens) == DIE_AFTER
    assert "error" in events[-1], events[-1]
    [row] = rows(sessions, user, 1)
    assert row.status_code == 503 and row.model == "dying"


def test_a_failure_is_one_line_of_the_gateway_log(gateway, key):
    user, secret = key
    assert gateway.chat(secret, "down").status_code == 503
    assert gateway.chat(secret, "mock-small").status_code == 200  # logged after the failure
    deadline = time.monotonic() + 10
    while "POST /v1/chat/completions" not in (log := gateway.log_path.read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert "Traceback" not in log and "Exception occured" not in log
    assert len([line for line in log.splitlines() if user in line]) == 1


def test_a_user_has_at_most_so_many_requests_running(gateway, key):
    _, secret = key

    def stream():
        return requests.post(
            f"{gateway.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {secret}"},
            json={"model": "slow", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
            stream=True,
            timeout=30,
        )

    streams = [stream() for _ in range(IN_FLIGHT)]
    try:
        assert [r.status_code for r in streams] == [200] * IN_FLIGHT
        r = gateway.chat(secret, "mock-small")
        assert r.status_code == 429 and r.json()["error"]["message"] == (
            f"You have {IN_FLIGHT} requests running already: wait for one to finish."
        )
    finally:
        for r in streams:
            r.close()
    deadline = time.monotonic() + 30
    while gateway.chat(secret, "mock-small").status_code == 429:
        assert time.monotonic() < deadline, "finished requests still count"
        time.sleep(0.1)
