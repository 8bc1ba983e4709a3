"""Anthropic's Messages API on the local stack: the official ``anthropic`` SDK, with a
MaaS key as its API key and the gateway as its base URL (as Claude Code and other
agents are set up), gets SmolLM2's answers, streamed or not, within the user's models
and budget, and each request is a usage row priced from the catalog."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import anthropic
import pytest
from sqlalchemy import create_engine, text
from waiting import until

SMOLLM2 = "smollm2-135m"
# the local stack's servers run from this environment (a terminal's shell does not have
# it on its PATH, as with any virtualenv that is not activated)
PYTHON = sys.executable


def personal_key(stack, name: str) -> str:
    user = stack.user(name)
    r = stack.api("POST", f"users/{name}/keys", user.create_token(), json={"name": "sdk"})
    assert r.status_code == 201, r.text
    stack.issued_keys.append(r.json()["key"])
    return r.json()["key"]


def client(stack, key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=stack.gateway_url, api_key=key, max_retries=0, timeout=120)


def say(model: str = SMOLLM2) -> dict:
    return {
        "model": model,
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "Say hello in one word."}],
    }


def test_smollm2_answers_an_anthropic_client_streamed_or_not(stack):
    key = personal_key(stack, "anya")
    c = client(stack, key)

    answer = c.messages.create(**say())
    with c.messages.stream(**say()) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert answer.role == "assistant" and answer.content[0].text.strip()
    assert streamed.strip() and final.content[0].text == streamed
    rows = stack.wait_usage("anya", 2)
    assert [(r.model, r.status_code) for r in rows] == [(SMOLLM2, 200)] * 2
    first, second = rows
    assert (first.prompt_tokens, first.completion_tokens) == (
        answer.usage.input_tokens,
        answer.usage.output_tokens,
    )
    assert 0 < second.completion_tokens <= 16
    for row in rows:
        assert row.cost_usd == pytest.approx(
            row.prompt_tokens * row.input_cost_per_token
            + row.completion_tokens * row.output_cost_per_token
        )


def test_an_anthropic_client_is_held_to_the_users_models_and_budget(stack):
    key = personal_key(stack, "boris")
    c = client(stack, key)

    with pytest.raises(anthropic.PermissionDeniedError) as refused:
        c.messages.create(**say("echo-large"))
    assert "echo-large" in refused.value.message and SMOLLM2 in refused.value.message

    c.messages.create(**say())  # spends what a budget of a millionth of a dollar leaves
    r = stack.api(
        "PUT",
        "admin/overrides/user/boris",
        stack.admin.token,
        json={"budgets": [{"window": "day", "usd": 1e-6}]},
    )
    assert r.status_code in (200, 201), r.text
    try:
        stack.gateway_refreshed()
        with pytest.raises(anthropic.RateLimitError) as refused:
            c.messages.create(**say())
        assert refused.value.body["error"]["type"] == "rate_limit_error"
        # "exhausted", or "nearly exhausted" while the first request is still settling
        assert "exhausted" in refused.value.message and "daily budget" in refused.value.message
    finally:
        stack.api("DELETE", "admin/overrides/user/boris", stack.admin.token)
    assert len(stack.wait_usage("boris", 1)) == 1


# one line: for a cell, and for ``python3 -c`` in a terminal
ASK = (
    "import anthropic; answer = anthropic.Anthropic().messages.create("
    "model='smollm2-135m', max_tokens=8, messages=[{'role': 'user', 'content': 'Say hi'}]); "
    "print('answered:', bool(answer.content[0].text.strip()))"
)


@pytest.fixture(scope="module")
def vera(stack):
    """vera, with a running server."""
    user = stack.user("vera")
    user.start_server()
    yield user
    user.stop_server()


def test_a_notebooks_anthropic_client_needs_no_setting_and_is_charged_to_it(stack, vera):
    kernel = vera.open_notebook("agents.ipynb")

    assert vera.execute(kernel, ASK).strip() == "answered: True"

    (row,) = stack.wait_usage("vera", 1)
    assert (row.model, row.status_code, row.notebook_path) == (SMOLLM2, 200, "agents.ipynb")
    assert row.kernel_id == kernel


def test_a_terminal_has_the_gateway_for_both_sdks(stack, vera):
    """A terminal's shell starts with the server's credentials, under the names OpenAI's
    and Anthropic's SDKs (and the agents built on them) read."""
    names = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")
    shown = vera.run_in_terminal(
        f"{PYTHON} -c \"import os; print(*[n + '=' + ('set' if os.environ.get(n) else 'unset')"
        f" for n in {names!r}]); print('base', os.environ.get('ANTHROPIC_BASE_URL'))\""
    )
    for name in names:
        assert f"{name}=set" in shown, shown
    assert f"base {stack.gateway_url}" in shown


def test_each_terminal_has_a_key_of_its_own_and_its_spend(stack, vera):
    """A terminal opens with a key of its own (not the server's, not another
    terminal's): the usage rows of what runs in it name it ``terminal N``, and its key
    is revoked when it closes. (Keys are compared by digest: none is printed.)"""
    show = (
        f"{PYTHON} -c \"import hashlib, os; print('terminal', os.environ['MAAS_TERMINAL'], "
        "hashlib.sha256(os.environ['OPENAI_API_KEY'].encode()).hexdigest())\"; "
        f'{PYTHON} -c "{ASK}"'
    )
    before = len(stack.usage_rows("vera"))
    opened = []
    for _ in range(2):
        shown = vera.run_in_terminal(show)
        assert "answered: True" in shown, shown
        opened.append(re.search(r"terminal (\S+) ([0-9a-f]{64})", shown).groups())
    rows = stack.wait_usage("vera", before + 2)[before:]

    server_key = stack.server_key("vera", vera.create_token())

    def keys() -> dict:
        with create_engine(stack.db_url).connect() as conn:
            query = text(
                "SELECT id, key_hash, parent_id, kernel_id, revoked_reason "
                'FROM api_keys WHERE "user" = :user'
            )
            return {row.key_hash: row for row in conn.execute(query, {"user": "vera"})}

    def closed() -> bool:
        found = keys()
        return all(found[digest].revoked_reason == "terminal closed" for _, digest in opened)

    until(closed, 30, "the closed terminals' keys to be revoked")
    terminal_keys = [keys()[digest] for _, digest in opened]
    assert len({k.id for k in terminal_keys}) == 2  # one key per terminal
    for (name, _), key, row in zip(opened, terminal_keys, rows, strict=True):
        # the server's, as a kernel's is: counted for the server, and for the terminal
        assert key.parent_id == row.key_id == server_key["id"]
        assert (row.kernel_id, row.notebook_path) == (key.kernel_id, f"terminal {name}")
        assert (row.model, row.status_code, row.server_name) == (SMOLLM2, 200, "")


def test_maas_key_gives_a_terminal_the_servers_key_as_it_is_now(stack, vera):
    """``maas-key`` (Claude Code's apiKeyHelper, or a script's) prints the key the
    server holds: the one terminals open with, and after the server's key is replaced,
    the new one, within the server's check of its key (30 s), for terminals that opened
    with the dead one. (Keys are compared by digest: none is printed.)"""
    maas_key = str(Path(PYTHON).with_name("maas-key"))
    digest = (
        f'{maas_key} | {PYTHON} -c "import hashlib, os, sys; key = sys.stdin.read().strip(); '
        "print('key', hashlib.sha256(key.encode()).hexdigest()[:16], "
        "key == os.environ['ANTHROPIC_AUTH_TOKEN'])\""
    )

    def printed() -> tuple[str, str]:
        return re.search(r"key ([0-9a-f]{16}) (True|False)", vera.run_in_terminal(digest)).groups()

    first, same = printed()
    assert same == "True"  # a terminal opens with the key the server holds
    token = vera.create_token()
    old = stack.server_key("vera", token)
    r = stack.api("DELETE", f"users/vera/keys/{old['id']}", token)
    assert r.status_code in (200, 204), r.text

    until(lambda: printed()[0] != first, 90, "maas-key to print the server's new key")
    check = (
        f'{maas_key} | {PYTHON} -c "import sys, anthropic; c = anthropic.Anthropic('
        "api_key=sys.stdin.read().strip(), auth_token=None); a = c.messages.create("
        "model='smollm2-135m', max_tokens=8, messages=[{'role': 'user', 'content': 'Hi'}]); "
        "print('answered:', a.type)\""
    )
    assert "answered: message" in vera.run_in_terminal(check)


def test_maas_key_outside_a_server_says_what_to_do():
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
    r = subprocess.run(
        [str(Path(PYTHON).with_name("maas-key"))], env=env, capture_output=True, text=True
    )
    assert r.returncode == 1 and r.stdout == ""
    assert "Run maas-key in a terminal of your JupyterLab server" in r.stderr
