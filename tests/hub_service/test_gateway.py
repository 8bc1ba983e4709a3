"""The LiteLLM gateway with our plugin, as a real proxy process on SQLite and on
PostgreSQL. Backends are LiteLLM's own mock responses, so no model is needed here."""

from __future__ import annotations

import datetime as dt
import secrets
import time

import pytest
import requests
from gatewayproc import MOCK_SMALL, issue_key, start_gateway
from sqlalchemy import select

from hub_service import catalog
from hub_service.db import ApiKey, Refusal, Usage, session_scope, utcnow

MODELS = [
    MOCK_SMALL,
    {
        "name": "mock-big",
        "provider_model": "openai/mock-big",
        "extra_params": {"mock_response": "big answer"},
        "input_cost_per_token": 1e-05,
        "output_cost_per_token": 3e-05,
    },
    {
        "name": "mock-broken",
        "provider_model": "openai/mock-broken",
        "extra_params": {"mock_response": "litellm.InternalServerError"},
    },
    {"name": "mock-off", "provider_model": "openai/mock-off", "enabled": False},
]
PROFILES = [
    {
        "slug": "small",
        "display_name": "Small",
        "is_default": True,
        "models": ["mock-small", "mock-broken", "mock-off"],
    },
    {"slug": "all", "display_name": "All", "models": ["*"]},
]


@pytest.fixture(scope="module")
def sessions(module_sessions):
    with session_scope(module_sessions) as s:
        catalog.seed(s, MODELS, PROFILES)
    return module_sessions


@pytest.fixture(scope="module")
def gateway(sessions, module_db_url, log_dir, request):
    """One gateway per database kind; tests tell their rows apart by user name."""
    kind = module_db_url.split(":")[0].split("+")[0]
    gw = start_gateway(
        module_db_url,
        log_dir / f"gateway-{kind}.log",
        env={"MAAS_REFRESH_INTERVAL": "1", "MAAS_REFUSAL_INTERVAL": "0.5"},
    )
    yield gw
    if gw.proc.poll() is None:
        gw.terminate()


@pytest.fixture
def user(request) -> str:
    return f"u-{request.node.name[:40]}-{secrets.token_hex(3)}"


@pytest.fixture
def issue(sessions, user):
    def _issue(profile="small", owner=None, server_name="", lifetime=dt.timedelta(hours=1)):
        return issue_key(
            sessions, owner or user, profile, server_name=server_name, lifetime=lifetime
        )

    return _issue


def usage(sessions, users, count, timeout=10.0):
    """The usage rows of ``users``, once there are ``count`` of them (or time is up)."""
    users = [users] if isinstance(users, str) else users
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(sessions) as s:
            rows = s.scalars(select(Usage).where(Usage.user.in_(users)).order_by(Usage.id)).all()
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def refusals(sessions, users, count, timeout=10.0):
    """(user, model, status, reason, count) of the refusal counts of ``users``, once
    they add up to ``count`` refused requests."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(sessions) as s:
            rows = s.scalars(select(Refusal).where(Refusal.user.in_(users))).all()
        if sum(r.count for r in rows) >= count or time.monotonic() > deadline:
            return sorted(
                ((r.user, r.model, r.status, r.reason, r.count) for r in rows),
                key=lambda r: (r[2], r[3]),
            )
        time.sleep(0.2)


def test_a_good_key_gets_an_answer_and_one_usage_row_priced_from_the_catalog(
    gateway, issue, sessions, user
):
    row, key = issue()
    r = gateway.chat(key, "mock-small")
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "small answer"
    [u] = usage(sessions, user, 1)
    assert (u.user, u.server_name, u.key_id, u.model, u.status_code) == (
        user,
        "",
        row.id,
        "mock-small",
        200,
    )
    assert u.prompt_tokens > 0 and u.completion_tokens > 0
    assert u.cost_usd == pytest.approx(u.prompt_tokens * 1e-06 + u.completion_tokens * 2e-06)
    assert u.latency_ms > 0


@pytest.mark.parametrize(
    "authorization, message",
    [
        (None, "No API key"),
        ("Bearer not-a-maas-key", "start with 'sk-maas-'"),
        ("Bearer sk-maas-" + "A" * 43, "not known"),
    ],
)
def test_missing_malformed_and_unknown_keys_get_401(gateway, authorization, message):
    headers = {"Authorization": authorization} if authorization else {}
    r = requests.post(
        f"{gateway.url}/v1/chat/completions",
        headers=headers,
        json={"model": "mock-small", "messages": []},
        timeout=30,
    )
    assert r.status_code == 401
    assert message in r.json()["error"]["message"]


def test_revoked_and_expired_keys_get_401_saying_why(gateway, issue, sessions):
    row, key = issue()
    assert gateway.chat(key, "mock-small").status_code == 200
    with session_scope(sessions) as s:
        s.get(ApiKey, row.id).revoked_at = utcnow()
        s.get(ApiKey, row.id).revoked_reason = "server stopped"
    deadline = time.monotonic() + 5  # the gateway re-reads keys every second here
    while (r := gateway.chat(key, "mock-small")).status_code == 200:
        assert time.monotonic() < deadline, "a revoked key still works"
        time.sleep(0.2)
    assert r.status_code == 401 and "revoked (server stopped)" in r.json()["error"]["message"]

    _, expired = issue(lifetime=dt.timedelta(seconds=-1))
    r = gateway.chat(expired, "mock-small")
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


def test_entitlements_are_enforced_and_refusals_recorded(gateway, issue, sessions, user):
    bob = user + "-bob"
    _, small = issue("small")
    _, everything = issue("all", owner=bob)
    r = gateway.chat(small, "mock-big")
    assert r.status_code == 403
    msg = r.json()["error"]["message"]
    assert "'mock-big' is not allowed for profile 'small'" in msg
    assert "mock-broken, mock-small" in msg  # the models it may use; not the disabled one
    assert gateway.chat(everything, "mock-big").status_code == 200

    r = gateway.chat(small, "mock-off")
    assert r.status_code == 403 and "disabled" in r.json()["error"]["message"]
    r = gateway.chat(small, "no-such-model")
    assert r.status_code == 404 and "does not exist" in r.json()["error"]["message"]

    # only the request that reached a model is a usage row; refusals are counted
    rows = usage(sessions, [user, bob], 1)
    assert [(u.user, u.model, u.status_code) for u in rows] == [(bob, "mock-big", 200)]
    assert refusals(sessions, [user, bob], 3) == [
        (user, "mock-off", 403, "model-disabled", 1),
        (user, "mock-big", 403, "model-not-allowed", 1),
        (user, "", 404, "model-unknown", 1),
    ]


def test_the_model_list_shows_only_the_keys_models(gateway, issue):
    _, key = issue("small")
    r = requests.get(
        f"{gateway.url}/v1/models", headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert r.status_code == 200
    assert sorted(m["id"] for m in r.json()["data"]) == ["mock-broken", "mock-small"]


def test_litellm_admin_routes_are_closed_to_maas_keys(gateway, issue):
    _, key = issue("all")
    for method, path in [
        ("POST", "/key/generate"),
        ("GET", "/key/list"),
        ("POST", "/model/new"),
        ("GET", "/spend/logs"),
    ]:
        r = requests.request(
            method,
            f"{gateway.url}{path}",
            headers={"Authorization": f"Bearer {key}"},
            json={},
            timeout=30,
        )
        assert r.status_code == 403, (path, r.status_code, r.text)


def test_a_failed_backend_call_is_recorded_once(gateway, issue, sessions, user):
    _, key = issue()
    r = gateway.chat(key, "mock-broken")
    assert r.status_code >= 500
    rows = usage(sessions, user, 1)
    gateway.refreshed()  # a second row, had there been one, is written by now
    assert [(u.model, u.status_code >= 500, u.prompt_tokens) for u in rows] == [
        ("mock-broken", True, 0)
    ]
    assert rows[0].error


def test_streaming_is_metered(gateway, issue, sessions, user):
    _, key = issue()
    r = requests.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "model": "mock-small",
            "stream": True,
            "messages": [{"role": "user", "content": "hello there"}],
        },
        timeout=30,
        stream=True,
    )
    body = b"".join(r.iter_content())
    assert r.status_code == 200 and b"data: [DONE]" in body
    [u] = usage(sessions, user, 1)
    assert u.status_code == 200 and u.completion_tokens > 0 and u.cost_usd > 0


def test_usage_is_not_lost_on_a_clean_shutdown(sessions, module_db_url, log_dir, issue, user):
    """Its own gateway, stopped the way the hub stops it."""
    kind = module_db_url.split(":")[0].split("+")[0]
    own = start_gateway(module_db_url, log_dir / f"gateway-shutdown-{kind}.log")
    _, key = issue()
    sent = 0
    for _ in range(40):
        assert own.chat(key, "mock-small").status_code == 200
        sent += 1
    assert own.terminate() == 0
    with session_scope(sessions) as s:
        rows = s.scalars(select(Usage).where(Usage.user == user)).all()
    assert len(rows) == sent


def test_no_key_reaches_the_gateway_log(gateway, issue):
    row, key = issue()
    gateway.chat(key, "mock-small")
    gateway.chat(key, "mock-big")  # a refusal is logged by LiteLLM
    gateway.chat("sk-maas-" + secrets.token_urlsafe(32), "mock-small")
    gateway.chat("sk-maas-" + secrets.token_urlsafe(32), "mock-broken")  # a failure is logged
    deadline = time.monotonic() + 10
    while "mock-broken" not in (log := gateway.log_path.read_text()):
        assert time.monotonic() < deadline, "the failure never reached the log"
        time.sleep(0.1)
    # never a key or its hash (a boolean: a failing comparison would print the key)
    leaked = key in log or row.key_hash in log
    assert not leaked, "the gateway's log holds the key or its hash"


def test_metrics_count_requests_spend_refusals_and_failures_for_the_token_holder(gateway, issue):
    _, key = issue()
    assert gateway.chat(key, "mock-small").status_code == 200
    assert gateway.chat(key, "mock-big").status_code == 403
    assert gateway.chat(key, "mock-broken").status_code >= 500
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {key}"}):
        r = requests.get(f"{gateway.url}/maas/metrics", headers=headers, timeout=10)
        assert r.status_code == 403 and "MAAS_METRICS_TOKEN" in r.json()["error"]["message"]
    deadline = time.monotonic() + 10
    while not (m := gateway.metrics()).get(
        'maas_gateway_backend_failures_total{model="mock-broken"}'
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert m['maas_gateway_requests_total{model="mock-small",status="200"}'] >= 1
    assert m['maas_gateway_spend_usd_total{model="mock-small"}'] > 0
    assert m['maas_gateway_tokens_total{kind="completion",model="mock-small"}'] > 0
    assert m['maas_gateway_refusals_total{reason="model-not-allowed",status="403"}'] >= 1
    assert m["maas_gateway_database_up"] == 1 and m["maas_gateway_snapshot_age_seconds"] < 10
    assert m['maas_gateway_usage_rows_dropped{cause="queue_full"}'] == 0
