"""The MaaS service's JSON API on the real hub: who may do what with keys, and that no
answer ever holds a stored key or its hash."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests
from sqlalchemy import create_engine, text


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
    time.sleep(1.1)
    r = api("POST", f"users/dave/keys/{key_id}/renew", dave.server_token)
    assert r.status_code == 200, r.text
    assert r.json()["expires_at"] > before
    assert stack.chat(dave.key).status_code == 200


def test_bad_input_gets_400_with_a_message(api, carol):
    r = api("POST", "users/carol/keys", carol.token, data="{not json")
    assert r.status_code == 400 and "JSON" in r.json()["message"]
    r = api("POST", "users/carol/keys", carol.token, json={"server_name": 7})
    assert r.status_code == 400
    r = api("GET", "users/carol/usage?days=abc", carol.token)
    assert r.status_code == 400 and "days" in r.json()["message"]
    r = api("GET", "users/carol/usage?period=year", carol.token)
    assert r.status_code == 400 and "period must be one of day, week, month" in r.json()["message"]
    r = api("GET", "no/such/thing", carol.token)
    assert r.status_code == 404 and "No such API endpoint" in r.json()["message"]


def test_no_answer_holds_a_stored_key_or_its_hash(stack, api, carol, dave):
    secrets_ = set(stack.issued_keys)
    hashes = {hashlib.sha256(k.encode()).hexdigest() for k in secrets_}
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
    for body in answers:
        assert not any(k in body for k in secrets_)
        assert not any(h in body for h in stored)
