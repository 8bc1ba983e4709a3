"""The MaaS service's JSON API on the real hub: who may do what with keys, and that no
answer ever holds a stored key or its hash."""

from __future__ import annotations

import hashlib
import re
import time
from urllib.parse import quote

import pytest
import requests
from sqlalchemy import create_engine, text
from waiting import until


@pytest.fixture(scope="module")
def api(stack):
    base = f"{stack.hub_url}/services/maas/api/v1"

    def call(method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"token {token}"
        return requests.request(method, f"{base}/{path}", headers=headers, timeout=30, **kwargs)

    return call


@pytest.fixture(scope="module")
def carol(stack):
    user = stack.user("carol")
    user.token = user.create_token()
    return user


@pytest.fixture(scope="module")
def dave(stack):
    user = stack.user("dave")
    user.token = user.create_token()
    user.start_server()
    kernel = user.start_kernel()
    env = user.execute(
        kernel, "import os; print(os.environ['JUPYTERHUB_API_TOKEN'], os.environ['OPENAI_API_KEY'])"
    ).split()
    user.server_token, user.key = env
    stack.issued_keys.append(user.key)
    return user


def test_unauthenticated_requests_get_401_json(api):
    r = api("GET", "models")
    assert r.status_code == 401
    assert "Authentication required" in r.json()["message"]


def test_openapi_document_describes_the_api(api):
    doc = api("GET", "openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {"/models", "/users/{user}/keys", "/users/{user}/keys/{key_id}"} <= set(doc["paths"])


def test_catalog_shows_prices_but_no_backend_secrets(api, carol):
    models = {m["name"]: m for m in api("GET", "models", carol.token).json()["models"]}
    assert models["smollm2-135m"]["input_cost_per_token"] > 0
    assert models["smollm2-135m"]["output_cost_per_token"] > 0
    assert "api_base" not in models["smollm2-135m"] and "api_key_env" not in models["smollm2-135m"]


def test_a_personal_key_is_shown_once_works_and_can_be_revoked(stack, api, carol):
    r = api("POST", "users/carol/keys", carol.token, json={"name": "my laptop"})
    assert r.status_code == 201, r.text
    issued = r.json()
    key = issued["key"]
    stack.issued_keys.append(key)
    assert issued["server_name"] is None and issued["models"] == ["smollm2-135m"]
    assert issued["masked"] == f"{key[:12]}...{key[-4:]}"
    assert stack.chat(key).status_code == 200

    listed = api("GET", "users/carol/keys", carol.token).json()["keys"]
    assert [k["id"] for k in listed] == [issued["id"]]
    assert "key" not in listed[0]

    assert api("DELETE", f"users/carol/keys/{issued['id']}", carol.token).status_code == 204
    deadline = time.monotonic() + 10
    while stack.chat(key).status_code != 401:
        assert time.monotonic() < deadline, "a revoked key still works after 10 s"
        time.sleep(0.25)


def test_no_user_can_obtain_list_or_revoke_another_users_keys(api, carol, dave):
    assert api("GET", "users/dave/keys", carol.token).status_code == 403
    r = api("POST", "users/dave/keys", carol.token, json={"name": "stolen"})
    assert r.status_code == 403 and "own keys" in r.json()["message"]
    r = api("POST", "users/dave/keys", carol.token, json={"server_name": ""})
    assert r.status_code == 403
    dave_key = api("GET", "users/dave/keys", dave.token).json()["keys"][0]
    assert api("DELETE", f"users/dave/keys/{dave_key['id']}", carol.token).status_code == 403
    assert api("POST", f"users/dave/keys/{dave_key['id']}/renew", carol.token).status_code == 403
    assert api("GET", "users/dave/usage", carol.token).status_code == 403
    # dave's key is untouched
    assert api("GET", "users/dave/keys", dave.token).json()["keys"][0]["state"] == "active"


def test_a_servers_token_may_only_obtain_its_own_servers_key(api, dave):
    r = api("POST", "users/dave/keys", dave.server_token, json={"name": "personal"})
    assert r.status_code == 403 and "own server" in r.json()["message"]
    r = api("POST", "users/dave/keys", dave.server_token, json={"server_name": "other"})
    assert r.status_code == 403


def test_issuing_for_a_server_that_is_not_running_is_a_conflict(api, carol):
    for server_name in ("", "analysis"):
        r = api("POST", "users/carol/keys", carol.token, json={"server_name": server_name})
        assert r.status_code == 409 and "not running" in r.json()["message"]


def test_renewing_extends_expiry_without_changing_the_key(stack, api, dave):
    key_id = api("GET", "users/dave/keys", dave.token).json()["keys"][0]["id"]
    before = api("GET", "users/dave/keys", dave.token).json()["keys"][0]["expires_at"]
    stack.move_clock(5)  # the service's clock moves on, without waiting for it
    try:
        r = api("POST", f"users/dave/keys/{key_id}/renew", dave.server_token)
    finally:
        stack.move_clock(0)
    assert r.status_code == 200, r.text
    assert r.json()["expires_at"] > before
    assert stack.chat(dave.key).status_code == 200


def test_only_its_own_server_may_renew_an_expired_server_key(stack, api, dave):
    """Its server's token renews it (the server runs, its kernels hold the key); the
    user's own token does not. Server keys live 20 s in this stack."""
    key_id = api("GET", "users/dave/keys", dave.token).json()["keys"][0]["id"]
    stack.move_clock(60)  # the key has expired
    try:
        r = api("POST", f"users/dave/keys/{key_id}/renew", dave.token)
        assert r.status_code == 409 and "is expired" in r.json()["message"]
        r = api("POST", f"users/dave/keys/{key_id}/renew", dave.server_token)
        assert r.status_code == 200 and r.json()["state"] == "active"
    finally:
        stack.move_clock(0)
    assert stack.chat(dave.key).status_code == 200


def test_bad_input_gets_400_with_a_message(api, carol):
    r = api("POST", "users/carol/keys", carol.token, data="{not json")
    assert r.status_code == 400 and "JSON" in r.json()["message"]
    r = api("POST", "users/carol/keys", carol.token, json={"server_name": 7})
    assert r.status_code == 400
    r = api("GET", "users/carol/usage?days=abc", carol.token)
    assert r.status_code == 400 and "days" in r.json()["message"]
    r = api("GET", "users/carol/usage?period=year", carol.token)
    assert (
        r.status_code == 400
        and "period must be one of hour, day, week, month" in (r.json()["message"])
    )
    r = api("GET", "no/such/thing", carol.token)
    assert r.status_code == 404 and "No such API endpoint" in r.json()["message"]


def until_refused(stack, key: str, timeout: float = 15) -> None:
    """Poll the gateway until ``key`` gets 401."""
    deadline = time.monotonic() + timeout
    while stack.chat(key).status_code != 401:
        assert time.monotonic() < deadline, f"the key still works after {timeout} s"
        time.sleep(0.25)


def test_request_bodies_over_1_mib_get_413_with_a_sentence(stack, api, carol):
    before = api("GET", "users/carol/keys", carol.token).json()["keys"]
    r = api("POST", "users/carol/keys", carol.token, json={"name": "x" * 1024 * 1024})
    assert r.status_code == 413
    assert r.json() == {
        "status": 413,
        "message": "The request body is over 1 MiB, this API's limit: send a smaller one.",
    }

    # a body that does not say its length is cut off at the limit all the same
    def stream():
        yield b'{"name": "'
        for _ in range(32):
            yield b"x" * 65536
        yield b'"}'

    try:
        status = api("POST", "users/carol/keys", carol.token, data=stream()).status_code
    except requests.ConnectionError:
        status = None  # the service hung up
    assert status is None or status >= 400
    assert api("GET", "users/carol/keys", carol.token).json()["keys"] == before


def test_personal_keys_are_capped_at_ten_active_ones(stack, api):
    user = stack.user("paula")
    token = user.create_token()
    issued = []
    for i in range(10):
        r = api("POST", "users/paula/keys", token, json={"name": f"key {i}"})
        assert r.status_code == 201, r.text
        issued.append(r.json())
    stack.issued_keys.extend(k["key"] for k in issued)
    r = api("POST", "users/paula/keys", token, json={"name": "one more"})
    assert r.status_code == 409
    assert r.json()["message"] == "You have 10 active personal keys, the limit: revoke one first."
    assert api("DELETE", f"users/paula/keys/{issued[0]['id']}", token).status_code == 204
    r = api("POST", "users/paula/keys", token, json={"name": "one more"})
    assert r.status_code == 201
    stack.issued_keys.append(r.json()["key"])


def test_admins_list_and_revoke_any_users_keys_and_no_one_else_may(stack, api, carol):
    admin = stack.admin
    r = api("POST", "users/carol/keys", carol.token, json={"name": "to be revoked"})
    issued = r.json()
    stack.issued_keys.append(issued["key"])
    assert stack.chat(issued["key"]).status_code == 200

    for method, path in (("GET", "admin/keys"), ("DELETE", f"admin/keys/{issued['id']}")):
        r = api(method, path, carol.token)
        assert r.status_code == 403 and "MaaS admins" in r.json()["message"]

    listed = api("GET", "admin/keys?user=carol&state=active", admin.token).json()["keys"]
    assert issued["id"] in [k["id"] for k in listed]
    assert {(k["user"], k["state"]) for k in listed} == {("carol", "active")}
    assert api("DELETE", f"admin/keys/{issued['id']}", admin.token).status_code == 204
    until_refused(stack, issued["key"])

    [mine] = [k for k in api("GET", "users/carol/keys", carol.token).json()["keys"]
              if k["id"] == issued["id"]]  # fmt: skip
    assert (mine["state"], mine["revoked_reason"]) == ("revoked", "revoked by admin admin")
    revoked = api("GET", "admin/keys?user=carol&state=revoked", admin.token).json()["keys"]
    assert issued["id"] in [k["id"] for k in revoked]
    entry = api("GET", "admin/audit?target_type=key", admin.token).json()["entries"][0]
    assert (entry["actor"], entry["action"], entry["target"]) == ("admin", "revoke", issued["id"])
    assert (entry["before"]["state"], entry["after"]["state"]) == ("active", "revoked")

    r = api("GET", "admin/keys?state=lost", admin.token)
    assert r.status_code == 400 and "state must be one of" in r.json()["message"]
    r = api("DELETE", "admin/keys/0123456789abcdef", admin.token)
    assert r.status_code == 404 and "No key" in r.json()["message"]


def test_a_hub_admin_makes_someone_a_maas_admin_without_a_restart(stack, api):
    """A hub admin adds a user to the hub group maas-admins (the hub's admin page, or
    its REST API): from their next sign-in they administer MaaS; taken out, no more."""
    uma = stack.user("uma")
    assert api("GET", "admin/keys", uma.create_token()).status_code == 403

    members = {"json": {"users": ["uma"]}}
    r = stack.admin.hub_api("POST", "groups/maas-admins/users", **members)
    assert r.status_code == 200, r.text
    assert api("GET", "admin/keys", uma.create_token()).status_code == 200

    r = stack.admin.hub_api("DELETE", "groups/maas-admins/users", **members)
    assert r.status_code == 200, r.text
    assert api("GET", "admin/keys", uma.create_token()).status_code == 403


def test_a_deleted_hub_users_keys_stop_working_and_a_new_user_of_that_name_gets_none(stack, api):
    zoe = stack.user("zoe")
    zoe.start_server()
    kernel = zoe.start_kernel()
    server_key = zoe.execute(kernel, "import os; print(os.environ['OPENAI_API_KEY'])").strip()
    token = zoe.create_token()
    r = api("POST", "users/zoe/keys", token, json={"name": "laptop"})
    assert r.status_code == 201, r.text
    personal_key = r.json()["key"]
    stack.issued_keys += [server_key, personal_key]
    old = api("GET", "users/zoe/keys", token).json()["keys"]
    assert stack.chat(server_key).status_code == 200
    assert stack.chat(personal_key).status_code == 200

    r = stack.admin.hub_api("DELETE", "users/zoe")
    assert r.status_code == 204, r.text
    for key in (server_key, personal_key):
        until_refused(stack, key)

    listed = api("GET", "admin/keys?user=zoe", stack.admin.token).json()["keys"]
    assert {k["id"] for k in listed} == {k["id"] for k in old}
    assert all(k["state"] == "revoked" and k["user_deleted_at"] for k in listed)
    [personal] = [k for k in listed if k["server_name"] is None]
    assert personal["revoked_reason"] == "user deleted"

    # someone new signs in as zoe: none of the old keys are theirs
    new_token = stack.user("zoe").create_token()
    assert api("GET", "users/zoe/keys", new_token).json()["keys"] == []
    for key in old:
        for method, path in (("POST", f"{key['id']}/renew"), ("DELETE", key["id"])):
            r = api(method, f"users/zoe/keys/{path}", new_token)
            assert r.status_code == 404, (method, path)
            assert r.json()["message"] == f"No key {key['id']!r} for user 'zoe'."


def test_no_answer_holds_a_stored_key_or_its_hash(stack, api, carol, dave):
    secrets_ = set(stack.issued_keys)
    hashes = {hashlib.sha256(k.encode()).hexdigest() for k in secrets_ - set(stack.replaced_keys)}
    engine = create_engine(stack.db_url)
    with engine.connect() as conn:
        stored = set(conn.execute(text("SELECT key_hash FROM api_keys")).scalars())
        dumped = " ".join(str(row) for row in conn.execute(text("SELECT * FROM api_keys")).all())
    assert hashes <= stored  # the database holds hashes ...
    assert not any(k in dumped for k in secrets_)  # ... and never a key
    answers = [
        api("GET", path, user.token).text
        for user in (carol, dave)
        for path in (
            "models",
            "profiles",
            "info",
            f"users/{user.name}/keys",
            f"users/{user.name}/usage",
        )
    ]
    answers.append(api("GET", "admin/keys", stack.admin.token).text)
    for body in answers:
        assert not any(k in body for k in secrets_)
        assert not any(h in body for h in stored)


def test_service_metrics_need_the_metrics_scope(stack, carol):
    url = f"{stack.hub_url}/services/maas/metrics"
    r = requests.get(url, headers={"Authorization": f"token {carol.token}"}, timeout=30)
    assert r.status_code == 403 and "custom:maas:metrics" in r.json()["message"]
    prometheus = stack.admin.create_token(
        "prometheus", scopes=["custom:maas:metrics", "access:services!service=maas"]
    )
    r = requests.get(url, headers={"Authorization": f"token {prometheus}"}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    metrics = dict(
        line.rsplit(" ", 1) for line in r.text.splitlines() if line and not line.startswith("#")
    )
    assert sum(float(v) for k, v in metrics.items() if k.startswith("maas_service_keys{")) >= 1
    assert float(metrics['maas_service_reconciles_total{outcome="ok"}']) >= 1
    assert float(metrics["maas_service_month_spend_usd"]) > 0
    assert any(k.startswith("maas_service_http_requests_total{") for k in metrics)


def test_only_the_hub_may_send_hub_events(api, carol):
    body = {"event": "user-deleted", "user": "dave", "at": "2030-01-01T00:00:00"}
    r = api("POST", "hub/events", carol.token, json=body)
    assert r.status_code == 403 and "Only the hub" in r.json()["message"]


def _answer_schema(doc: dict, path: str, method: str, status: str) -> dict:
    """The document's schema of an answer, with its components, for jsonschema."""
    content = doc["paths"][path][method]["responses"][status]["content"]
    return {**content["application/json"]["schema"], "components": doc["components"]}


def test_every_answer_declares_all_its_fields(stack, api, dave):
    """Every GET of the API, with real data behind it (a running server's key, its
    usage, an override, a budget), as its user and as an admin: each answer matches the
    OpenAPI document, whose objects are closed, so a field a handler answers and the
    document does not declare fails here."""
    from jsonschema import Draft202012Validator

    admin = stack.admin.token
    doc = api("GET", "openapi.json").json()
    assert stack.chat(dave.key).status_code == 200  # some usage
    stack.wait_usage("dave", 1)
    model = api("GET", "models", dave.token).json()["models"][0]["name"]
    profile = api("GET", "profiles", dave.token).json()["profiles"][0]["slug"]
    r = api(
        "PUT",
        "admin/overrides/user/dave",
        admin,
        json={"budgets": [{"window": "month", "usd": 100}], "rpm_limit": 600},
    )
    assert r.status_code in (200, 201), r.text
    key_id = api("GET", "users/dave/keys", dave.token).json()["keys"][0]["id"]
    # a team of dave's, with budgets, a cap, a term and his own adjustment
    team = "answers-team"
    r = stack.admin.hub_api("POST", f"groups/{team}", json={"users": ["dave"]})
    assert r.status_code == 201, r.text
    values = {"user": "dave", "name": model, "slug": profile, "kind": "user", "key_id": key_id}
    values["group"] = team
    checked = []
    try:
        r = api("PUT", f"admin/teams/{team}", admin, json={"available_models": [model]})
        assert r.status_code == 201, r.text
        settings = {
            "models": [model],
            "budgets": [{"window": "day", "usd": 50}, {"window": "term", "usd": 90}],
            "caps": [{"window": "week", "usd": 500}],
            "starts_at": "2026-01-01T00:00:00Z",
            "ends_at": "2099-01-01T00:00:00Z",
        }
        assert api("PATCH", f"teams/{team}", admin, json=settings).status_code == 200
        until(
            lambda: (
                [m["user"] for m in api("GET", f"teams/{team}/members", admin).json()["members"]]
                == ["dave"]
            ),
            30,
            "the hub group's member to reach the service",
        )
        adjust = {"budgets": [{"window": "day", "usd": 60}], "note": "answers"}
        r = api("PUT", f"teams/{team}/members/dave", admin, json=adjust)
        assert r.status_code == 201, r.text
        for path, item in doc["paths"].items():
            if "get" not in item or path in ("/openapi.json",):
                continue
            url = path.lstrip("/")
            for name in re.findall(r"{(\w+)}", path):
                value = (
                    "dave"
                    if path.startswith("/admin/overrides/") and name == "name"
                    else values[name]
                )
                url = url.replace("{" + name + "}", quote(value, safe=""))
            token = admin if path.startswith(("/admin", "/teams")) else dave.token
            r = api("GET", url, token)
            assert r.status_code == 200, (url, r.status_code, r.text)
            errors = list(
                Draft202012Validator(_answer_schema(doc, path, "get", "200")).iter_errors(r.json())
            )
            assert not errors, (url, [f"{list(e.path)}: {e.message}" for e in errors[:5]])
            checked.append(path)
    finally:
        api("DELETE", "admin/overrides/user/dave", admin)
        api("DELETE", f"admin/teams/{team}", admin)
        stack.admin.hub_api("DELETE", f"groups/{team}")
    # the usage answer held a row, the policy a budget: their fields were all checked
    assert {"/users/{user}/usage", "/users/{user}/policy", "/admin/keys", "/health"} <= set(checked)
    assert {"/teams", "/teams/{group}/members", "/teams/{group}/usage"} <= set(checked)
