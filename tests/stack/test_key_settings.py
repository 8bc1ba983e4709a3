"""A personal key's own settings on the real stack: a subset of its owner's models that
the gateway enforces, a name and an expiry chosen at issue, edits, a new secret under
the same id and history, and each key's requests, spend and last use; the usage API by
key and model, and its CSV download."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from waiting import until


@pytest.fixture(scope="module")
def erin(stack):
    """A user whose policy allows two models: the default profile's SmolLM2, and the
    mock echo-large by a user override (removed at the end)."""
    user = stack.user("erin")
    user.token = user.create_token()
    r = stack.api(
        "PUT", "admin/overrides/user/erin", stack.admin.token, json={"extra_models": ["echo-large"]}
    )
    assert r.status_code in (200, 201), r.text
    stack.gateway_refreshed()  # the gateway has the override
    yield user
    stack.api("DELETE", "admin/overrides/user/erin", stack.admin.token)


def issue(stack, user, **body) -> dict:
    r = stack.api("POST", f"users/{user.name}/keys", user.token, json=body)
    assert r.status_code == 201, r.text
    stack.issued_keys.append(r.json()["key"])
    return r.json()


def test_a_key_narrowed_to_some_models_calls_only_those(stack, erin):
    issued = issue(stack, erin, name="echo only", models=["echo-large"], expires_in_days=3)
    key = issued["key"]
    assert issued["models"] == ["echo-large"]
    lifetime = dt.datetime.fromisoformat(issued["expires_at"]) - dt.datetime.fromisoformat(
        issued["created"]
    )
    assert lifetime == dt.timedelta(days=3)
    assert stack.chat(key, model="echo-large").status_code == 200
    r = stack.chat(key)  # SmolLM2: erin may use it, this key may not
    assert r.status_code == 403
    assert "not among this key's models" in r.json()["error"]["message"]
    assert "echo-large" in r.json()["error"]["message"]

    # widened to all erin's models, then narrowed to SmolLM2: the gateway follows
    r = stack.api("PATCH", f"users/erin/keys/{issued['id']}", erin.token, json={"models": None})
    assert r.status_code == 200 and r.json()["models"] is None
    until(lambda: stack.chat(key).ok, 15, "the widened key to reach SmolLM2")
    r = stack.api(
        "PATCH",
        f"users/erin/keys/{issued['id']}",
        erin.token,
        json={"name": "smol only", "models": ["smollm2-135m"]},
    )
    assert r.json()["name"] == "smol only" and r.json()["models"] == ["smollm2-135m"]
    until(
        lambda: stack.chat(key, model="echo-large").status_code == 403,
        15,
        "the narrowed key to lose echo-large",
    )
    assert stack.chat(key).status_code == 200


def test_a_key_cannot_reach_beyond_its_owners_policy(stack, erin):
    carl = stack.user("carl")  # the default profile only: no echo-large
    carl.token = carl.create_token()
    r = stack.api("POST", "users/carl/keys", carl.token, json={"models": ["echo-large"]})
    assert r.status_code == 400
    assert "may not use 'echo-large'" in r.json()["message"]
    assert "smollm2-135m" in r.json()["message"]  # what carl can use instead
    key = issue(stack, carl, name="k")
    r = stack.api("PATCH", f"users/carl/keys/{key['id']}", carl.token, json={"models": ["*x"]})
    assert r.status_code == 400
    r = stack.api("PATCH", f"users/carl/keys/{key['id']}", carl.token, json={"models": []})
    assert r.status_code == 400 and "at least one model" in r.json()["message"]
    r = stack.api("PATCH", f"users/carl/keys/{key['id']}", carl.token, json={"colour": "red"})
    assert r.status_code == 400 and "Unknown fields ['colour']" in r.json()["message"]
    r = stack.api("POST", "users/carl/keys", carl.token, json={"expires_in_days": 31})
    assert r.status_code == 400 and "at most 30" in r.json()["message"]
    # another user may not edit or regenerate carl's key
    r = stack.api("PATCH", f"users/carl/keys/{key['id']}", erin.token, json={})
    assert r.status_code == 403
    r = stack.api("POST", f"users/carl/keys/{key['id']}/regenerate", erin.token)
    assert r.status_code == 403


def test_regenerating_gives_a_new_secret_under_the_same_id_and_history(stack, erin):
    issued = issue(stack, erin, name="rotating")
    old = issued["key"]
    assert stack.chat(old).status_code == 200
    stack.wait_usage("erin", 1)

    r = stack.api("POST", f"users/erin/keys/{issued['id']}/regenerate", erin.token)
    assert r.status_code == 200, r.text
    new = r.json()["key"]
    stack.issued_keys.append(new)
    stack.replaced_keys.append(old)
    unchanged = new == old
    assert not unchanged, "the regenerated key has its old secret"  # (no key in the message)
    assert r.json()["id"] == issued["id"] and r.json()["name"] == "rotating"
    assert r.json()["masked"] == f"{new[:12]}...{new[-4:]}"
    until(lambda: stack.chat(old).status_code == 401, 15, "the old secret to be refused")
    assert stack.chat(new).status_code == 200

    def listed():
        keys = stack.api("GET", "users/erin/keys", erin.token).json()["keys"]
        row = next(k for k in keys if k["id"] == issued["id"])
        return row if row["requests"] >= 2 else None

    # the requests of both secrets count under the one key
    row = until(listed, 15, "both secrets' requests under the key")
    assert row["spend_usd"] > 0 and row["last_used"] is not None

    # a revoked key is not regenerated
    stack.api("DELETE", f"users/erin/keys/{issued['id']}", erin.token)
    r = stack.api("POST", f"users/erin/keys/{issued['id']}/regenerate", erin.token)
    assert r.status_code == 409 and "revoked" in r.json()["message"]


def test_usage_by_key_and_model_and_as_csv(stack, erin):
    issued = issue(stack, erin, name="=cmd|' /C calc'!A0")  # a name that is a formula
    assert stack.chat(issued["key"], model="echo-large").status_code == 200

    def mine():
        r = stack.api("GET", f"users/erin/usage?key_id={issued['id']}", erin.token)
        assert r.status_code == 200, r.text
        usage = r.json()
        return usage if usage["total_requests"] else None

    usage = until(mine, 15, "the key's request in the usage API")
    assert [k["key_id"] for k in usage["by_key"]] == [issued["id"]]
    assert usage["by_key"][0]["name"] == issued["name"]
    assert [m["model"] for m in usage["by_model"]] == ["echo-large"]
    assert usage["total_prompt_tokens"] == usage["by_model"][0]["prompt_tokens"] > 0
    everything = stack.api("GET", "users/erin/usage", erin.token).json()
    assert len(everything["by_key"]) >= 2  # this key and the earlier tests' ones
    only_smol = stack.api("GET", "users/erin/usage?model=smollm2-135m", erin.token).json()
    assert {m["model"] for m in only_smol["by_model"]} == {"smollm2-135m"}

    r = stack.api("GET", f"users/erin/usage?days=7&format=csv&key_id={issued['id']}", erin.token)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 1 and rows[0]["model"] == "echo-large"
    assert rows[0]["key_name"] == "'" + issued["name"]  # shown as text by spreadsheets
    assert float(rows[0]["cost_usd"]) == pytest.approx(usage["total_cost_usd"])
    r = stack.api("GET", "users/erin/usage?format=xml", erin.token)
    assert r.status_code == 400 and "format must be json or csv" in r.json()["message"]
