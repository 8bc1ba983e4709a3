"""End to end on the real local stack: two users, their own servers and kernels,
the OpenAI SDK in a cell, SmolLM2 answering through the LiteLLM gateway, usage rows
priced from the catalog, and keys that die with their server."""

from __future__ import annotations

import datetime as dt
import secrets
import time

import pytest

CHAT_CELL = (
    "from openai import OpenAI\n"
    "print(OpenAI().chat.completions.create(model='smollm2-135m', max_tokens=24, "
    "messages=[{'role': 'user', 'content': 'Say hello'}]).choices[0].message.content)"
)


@pytest.fixture(scope="module")
def people(stack):
    """alice and bob, each signed in with a running server and a kernel."""
    users = {}
    for name in ("alice", "bob"):
        user = stack.user(name)
        user.start_server()
        user.kernel = user.start_kernel()
        key = user.execute(user.kernel, "import os; print(os.environ['OPENAI_API_KEY'])").strip()
        stack.issued_keys.append(key)
        user.key = key
        users[name] = user
    return users


def test_kernels_get_credentials_without_typing_any(stack, people):
    for user in people.values():
        env = user.execute(
            user.kernel,
            "import os\nprint(os.environ['OPENAI_BASE_URL']); print(os.environ['OPENAI_API_BASE'])",
        ).split()
        assert env == [f"{stack.gateway_url}/v1"] * 2
        assert user.key.startswith("sk-maas-") and len(user.key) >= 8 + 43
    assert people["alice"].key != people["bob"].key


def test_the_lab_extension_reports_ready_without_revealing_the_key(stack, people):
    alice = people["alice"]
    r = alice.server_api("GET", "jupyterlab-maas/status")
    assert r.status_code == 200
    status = r.json()
    assert status["state"] == "ready"
    assert status["base_url"] == f"{stack.gateway_url}/v1"
    assert status["models"] == ["smollm2-135m"]
    assert alice.key not in r.text


def test_each_user_gets_an_answer_from_smollm2_and_one_priced_usage_row(stack, people):
    for name, user in people.items():
        before = len(stack.usage_rows(name))
        answer = user.execute(user.kernel, CHAT_CELL).strip()
        assert answer, f"{name} got an empty answer"
        rows = stack.wait_usage(name, before + 1)
        assert len(rows) == before + 1, rows
        row = rows[-1]
        model, prompt, completion, cost = (
            row.model,
            row.prompt_tokens,
            row.completion_tokens,
            row.cost_usd,
        )
        status, server, in_price, out_price = (
            row.status_code,
            row.server_name,
            row.input_cost_per_token,
            row.output_cost_per_token,
        )
        assert (model, status, server) == ("smollm2-135m", 200, "")
        assert prompt > 0 and completion > 0
        assert cost == pytest.approx(prompt * in_price + completion * out_price, rel=1e-9)
        assert cost > 0


def test_streaming_model_list_and_the_legacy_style_work_in_a_cell(stack, people):
    alice = people["alice"]
    out = alice.execute(
        alice.kernel,
        "import os\n"
        "from openai import OpenAI\n"
        "client = OpenAI(base_url=os.environ['OPENAI_API_BASE'], "
        "api_key=os.environ['OPENAI_API_KEY'])\n"
        "print(sorted(m.id for m in client.models.list()))\n"
        "chunks = client.chat.completions.create(model='smollm2-135m', stream=True, "
        "max_tokens=16, messages=[{'role': 'user', 'content': 'Count to three'}])\n"
        "text = ''.join(c.choices[0].delta.content or '' for c in chunks if c.choices)\n"
        "print(len(text) > 0)\n",
    ).splitlines()
    # the default profile allows SmolLM2 only, so that is all the list shows
    assert out == ["['smollm2-135m']", "True"]


def test_a_running_server_renews_its_key_and_the_kernel_keeps_working(stack, people):
    """Server keys live 20 s in this stack; the extension renews them at half-life."""
    alice = people["alice"]
    token = alice.create_token()
    [key] = [
        k
        for k in stack.api("GET", "users/alice/keys", token).json()["keys"]
        if k["state"] == "active"
    ]
    first_expiry = dt.datetime.fromisoformat(key["expires_at"])
    deadline = time.monotonic() + 30
    while dt.datetime.now(dt.timezone.utc) < first_expiry + dt.timedelta(seconds=1):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    [renewed] = [
        k
        for k in stack.api("GET", "users/alice/keys", token).json()["keys"]
        if k["state"] == "active"
    ]
    assert renewed["id"] == key["id"]  # the same key ...
    assert dt.datetime.fromisoformat(renewed["expires_at"]) > first_expiry  # ... lives on
    out = alice.execute(alice.kernel, "import os; print(os.environ['OPENAI_API_KEY'])")
    assert out.strip() == alice.key
    assert alice.execute(alice.kernel, CHAT_CELL).strip()


def test_the_lab_extension_lists_models_sets_the_default_and_shows_usage(stack, people):
    alice = people["alice"]
    r = alice.server_api("GET", "jupyterlab-maas/models")
    assert r.status_code == 200
    body = r.json()
    [model] = body["models"]
    assert model["name"] == "smollm2-135m" and model["output_cost_per_token"] > 0
    assert body["default"] == "smollm2-135m"
    assert "api_base" not in model

    r = alice.server_api("PUT", "jupyterlab-maas/default-model", json={"model": "echo-large"})
    assert r.status_code == 400 and "not one of this server's models" in r.json()["message"]
    r = alice.server_api("PUT", "jupyterlab-maas/default-model", json={"model": "smollm2-135m"})
    assert r.status_code == 200
    kernel = alice.start_kernel()  # a new kernel finds the default
    assert alice.execute(kernel, "import os; print(os.environ['MAAS_DEFAULT_MODEL'])").strip() == (
        "smollm2-135m"
    )

    usage = alice.server_api("GET", "jupyterlab-maas/usage").json()
    assert usage["budget_usd"] is None  # this stack's cpu-standard has no budget ...
    month = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")
    assert (usage["budget_period"], usage["period_start"]) == (
        "month",
        f"{month}-01T00:00:00+00:00",
    )
    assert usage["by_model"][0]["model"] == "smollm2-135m" and usage["by_model"][0]["cost_usd"] > 0
    assert usage["recent"] and usage["recent"][0]["model"] == "smollm2-135m"
    assert alice.key not in str(usage)


def test_the_litellm_sdk_works_with_the_injected_credentials_too(stack, people):
    alice = people["alice"]
    out = alice.execute(
        alice.kernel,
        "import litellm\n"
        "r = litellm.completion(model='openai/smollm2-135m', max_tokens=16, "
        "messages=[{'role': 'user', 'content': 'Say hi'}])\n"
        "print(bool(r.choices[0].message.content))",
    )
    assert out.strip().splitlines()[-1] == "True"


def test_jupyter_ai_magics_reach_the_gateway_with_the_injected_credentials(stack, people):
    """jupyter-ai 3's %%ai magic (jupyter-ai-magic-commands, which calls LiteLLM),
    configured exactly as the README says: an alias for the catalog model, nothing else."""
    alice = people["alice"]
    before = len(stack.usage_rows("alice"))
    alice.execute(
        alice.kernel, "%load_ext jupyter_ai_magic_commands\n%ai alias smollm openai/smollm2-135m"
    )
    answer = alice.execute(alice.kernel, "%%ai smollm -f text\nSay hello.", results=True)
    assert answer.strip() and "rror" not in answer, answer
    rows = stack.wait_usage("alice", before + 1)
    assert [(r.model, r.status_code) for r in rows[before:]] == [("smollm2-135m", 200)]


def test_a_random_key_is_refused_with_401(stack):
    r = stack.chat("sk-maas-" + secrets.token_urlsafe(32))
    assert r.status_code == 401
    assert "not known" in r.json()["error"]["message"]


def test_an_unknown_model_gets_a_clear_error(stack, people):
    r = stack.chat(people["alice"].key, model="gpt-17")
    assert r.status_code == 404
    message = r.json()["error"]["message"]
    assert "gpt-17" in message and "does not exist" in message and "smollm2-135m" in message


def test_a_model_outside_the_profile_is_refused_with_403_naming_the_allowed(stack, people):
    before = len(stack.usage_rows("bob"))
    r = stack.chat(people["bob"].key, model="echo-large")
    assert r.status_code == 403
    message = r.json()["error"]["message"]
    assert "echo-large" in message and "cpu-standard" in message and "smollm2-135m" in message
    # the refusal is counted, and no model was called
    assert stack.refusals("bob", 1) == [("echo-large", 403, "model-not-allowed", 1)]
    assert len(stack.usage_rows("bob")) == before
    usage = stack.api("GET", "users/bob/usage?days=1", people["bob"].create_token()).json()
    assert usage["refused"] == [{"status": 403, "reason": "model-not-allowed", "requests": 1}]


def test_a_stopped_servers_key_dies_within_5s_and_the_other_still_works(stack, people):
    """The hub's post_stop_hook tells the service at once (its poll is a backstop)."""
    bob, alice = people["bob"], people["alice"]
    assert stack.chat(bob.key).status_code == 200
    bob.stop_server()
    stopped = time.monotonic()
    while True:
        r = stack.chat(bob.key)
        if r.status_code == 401:
            break
        assert time.monotonic() - stopped < 5, "bob's key still works 5 s after his server stopped"
        time.sleep(0.25)
    assert "revoked" in r.json()["error"]["message"]
    r = stack.chat(alice.key)
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"]
