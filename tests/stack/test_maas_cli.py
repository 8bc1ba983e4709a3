"""The ``maas`` command against the real service: an admin manages the catalog from a
terminal, and ``maas pricing measure --apply`` prices SmolLM2 from a live benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_an_admin_manages_the_catalog_from_the_terminal(stack, maas):
    r = maas(
        "models",
        "add",
        "cli-model",
        "--set",
        "provider_model=openai/cli",
        "--set",
        "input_cost_per_token=2e-6",
        "--set",
        "output_cost_per_token=4e-6",
        "--set",
        'extra_params={"mock_response": "from the cli"}',
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["name"] == "cli-model"

    listing = maas("models", "list").stdout
    row = next(line for line in listing.splitlines() if line.startswith("cli-model"))
    assert "$2.00" in row and "$4.00" in row  # per 1M tokens, as the portal shows them

    assert maas("models", "disable", "cli-model").stdout.strip() == "cli-model: disabled"
    r = maas("models", "add", "cli-model", "--set", "provider_model=x")
    assert r.returncode == 1 and "exists" in r.stderr
    assert maas("models", "remove", "cli-model").returncode == 0
    r = maas("models", "show", "cli-model")
    assert r.returncode == 1 and "No model named 'cli-model'" in r.stderr

    audit = maas("audit", "--type", "model").stdout
    assert "cli-model" in audit and "delete" in audit


def test_an_admin_opens_a_profile_to_some_hub_groups_from_the_terminal(stack, maas):
    r = maas("profiles", "add", "cli-course", "--set", "display_name=Course")
    assert r.returncode == 0, r.stderr
    try:
        r = maas("profiles", "edit", "cli-course", "--set", 'groups=["cs101", "ta"]')
        assert r.returncode == 0 and json.loads(r.stdout)["groups"] == ["cs101", "ta"]
        row = next(
            line for line in maas("profiles", "list").stdout.splitlines() if "cli-course" in line
        )
        assert row.rstrip().endswith("cs101,ta")
        r = maas("profiles", "edit", "cli-course", "--set", "groups=cs101")
        assert r.returncode == 1 and "list of hub group names" in r.stderr
    finally:
        maas("profiles", "remove", "cli-course")


def test_an_admin_lists_and_revokes_keys_from_the_terminal(stack, maas):
    token = stack.user("quinn").create_token()
    r = stack.api("POST", "users/quinn/keys", token, json={"name": "from the cli"})
    assert r.status_code == 201, r.text
    key_id = r.json()["id"]
    stack.issued_keys.append(r.json()["key"])

    listing = maas("keys", "list", "--user", "quinn", "--state", "active").stdout
    [row] = [line for line in listing.splitlines() if line.startswith(key_id)]
    assert "quinn" in row and "from the cli" in row and "active" in row
    r = maas("keys", "revoke", key_id)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"{key_id}: revoked"
    listing = maas("keys", "list", "--user", "quinn", "--state", "revoked").stdout
    [row] = [line for line in listing.splitlines() if line.startswith(key_id)]
    assert "revoked by admin admin" in row
    assert key_id not in maas("keys", "list", "--user", "quinn", "--state", "active").stdout
    r = maas("keys", "list", "--state", "lost")
    assert r.returncode == 1 and "state must be one of: active, revoked, expired" in r.stderr
    assert key_id in maas("audit", "--type", "key").stdout


def test_a_non_admin_token_is_refused(stack):
    token = stack.user("olga").create_token()
    env = {**os.environ, "MAAS_URL": f"{stack.hub_url}/services/maas/", "MAAS_TOKEN": token}
    r = subprocess.run(
        [sys.executable, "-m", "hub_service.cli", "models", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "HTTP 403" in r.stderr and "MaaS admins" in r.stderr


def test_measured_prices_are_applied_to_the_catalog(stack, maas):
    before = stack.api("GET", "admin/models/smollm2-135m", stack.admin.token).json()
    r = maas(
        "pricing",
        "measure",
        "--base-url",
        stack.model_url,
        "--model",
        "smollm2-135m",
        "--concurrency",
        "1,2",
        "--requests",
        "2",
        "--max-tokens",
        "16",
        "--instance",
        "c7i.large",
        "--apply",
        "smollm2-135m",
    )
    assert r.returncode == 0, r.stderr
    assert "smollm2-135m.input_cost_per_token:" in r.stdout
    after = stack.api("GET", "admin/models/smollm2-135m", stack.admin.token).json()
    assert after["input_cost_per_token"] != before["input_cost_per_token"]
    assert 0 < after["input_cost_per_token"] < after["output_cost_per_token"]
    entries = stack.api("GET", "admin/audit?target_type=model", stack.admin.token).json()
    latest = entries["entries"][0]
    assert latest["target"] == "smollm2-135m" and latest["actor"] == "admin"
    assert latest["before"]["input_cost_per_token"] == before["input_cost_per_token"]
    # put the derived local price back for the tests that follow
    stack.api(
        "PATCH",
        "admin/models/smollm2-135m",
        stack.admin.token,
        json={
            "input_cost_per_token": before["input_cost_per_token"],
            "output_cost_per_token": before["output_cost_per_token"],
        },
    )
