"""JupyterLab terminals on the local stack: a terminal's shell has the gateway and a key
of its own under the names OpenAI's and Anthropic's SDKs and the coding agents read;
what runs in it is charged to "terminal N"; its key is revoked when it closes and
replaced when the server's is, and ``maas-key`` prints it as it is now. OpenCode (the
real CLI, installed by scripts/setup.sh) answers from SmolLM2 in a terminal with only
what the terminal gives it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_anthropic_messages import ASK, SMOLLM2
from waiting import until

# the local stack's servers run from this environment: its commands, by their full paths
PYTHON = sys.executable
MAAS_KEY = str(Path(PYTHON).with_name("maas-key"))
OPENCODE = str(Path(PYTHON).with_name("opencode"))


@pytest.fixture(scope="module")
def terry(stack):
    with stack.running("terry") as user:
        yield user


def test_a_terminal_has_the_gateway_for_both_sdks(stack, terry):
    """A terminal's shell starts with the server's credentials, under the names OpenAI's
    and Anthropic's SDKs (and the agents built on them) read."""
    names = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")
    shown = terry.run_in_terminal(
        f"{PYTHON} -c \"import os; print(*[n + '=' + ('set' if os.environ.get(n) else 'unset')"
        f" for n in {names!r}]); print('base', os.environ.get('ANTHROPIC_BASE_URL'))\""
    )
    for name in names:
        assert f"{name}=set" in shown, shown
    assert f"base {stack.gateway_url}" in shown
    # on the local MaaS, this environment's commands are on the shell's PATH
    found = terry.run_in_terminal("command -v maas-key")
    assert found.splitlines()[-1].strip() == MAAS_KEY, found


def test_each_terminal_has_a_key_of_its_own_and_its_spend(stack, terry):
    """A terminal opens with a key of its own (not the server's, not another
    terminal's): the usage rows of what runs in it name it ``terminal N``, and its key
    is revoked when it closes. (Keys are compared by digest: none is printed.)"""
    show = (
        f"{PYTHON} -c \"import hashlib, os; print('terminal', os.environ['MAAS_TERMINAL'], "
        "hashlib.sha256(os.environ['OPENAI_API_KEY'].encode()).hexdigest())\"; "
        f'{PYTHON} -c "{ASK}"'
    )
    before = len(stack.usage_rows("terry"))
    opened = []
    for _ in range(2):
        shown = terry.run_in_terminal(show)
        assert "answered: True" in shown, shown
        opened.append(re.search(r"terminal (\S+) ([0-9a-f]{64})", shown).groups())
    rows = stack.wait_usage("terry", before + 2)[before:]

    server_key = stack.server_key("terry", terry.create_token())

    def keys() -> dict:
        return {row.key_hash: row for row in stack.key_rows("terry")}

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


def test_a_terminal_open_when_the_servers_key_is_replaced_gets_a_live_key(stack, terry):
    """``maas-key`` (Claude Code's apiKeyHelper, or a script's) prints the terminal's
    key: the one it opened with; once the server's key is replaced (which ends the
    terminal's too), a new one for the terminal, within the server's check of its key
    (30 s). It answers, and is still charged to the terminal. (Keys are compared by
    digest: none is printed.)"""
    digest = (
        f'{MAAS_KEY} | {PYTHON} -c "import hashlib, os, sys; key = sys.stdin.read().strip(); '
        "print('key', hashlib.sha256(key.encode()).hexdigest(), "
        "key == os.environ['ANTHROPIC_AUTH_TOKEN'])\""
    )
    ask = (
        f'{MAAS_KEY} | {PYTHON} -c "import sys, anthropic; c = anthropic.Anthropic('
        "api_key=sys.stdin.read().strip(), auth_token=None); a = c.messages.create("
        "model='smollm2-135m', max_tokens=8, messages=[{'role': 'user', 'content': 'Hi'}]); "
        "print('answered:', a.type)\""
    )
    with terry.terminal() as terminal:

        def printed() -> tuple[str, str]:
            return re.search(r"key ([0-9a-f]{64}) (True|False)", terminal.run(digest)).groups()

        first, same = printed()
        assert same == "True"  # the key the terminal opened with
        token = terry.create_token()
        old = stack.server_key("terry", token)
        r = stack.api("DELETE", f"users/terry/keys/{old['id']}", token)
        assert r.status_code in (200, 204), r.text

        until(lambda: printed()[0] != first, 90, "maas-key to print the terminal's new key")
        before = len(stack.usage_rows("terry"))
        assert "answered: message" in terminal.run(ask)
    row = stack.wait_usage("terry", before + 1)[-1]
    assert (row.status_code, row.notebook_path) == (200, f"terminal {terminal.name}")


def test_opencode_answers_in_a_terminal_from_smollm2(stack, terry):
    """``opencode run`` with the side panel's options and nothing else: the terminal
    gives it the provider, the key and the gateway; SmolLM2 answers (OpenCode's prompt,
    some 500 tokens, fits its context of 8,192), and the answer is the terminal's."""
    assert Path(OPENCODE).exists(), f"{OPENCODE} is missing: run scripts/setup.sh"
    before = len(stack.usage_rows("terry"))
    with terry.terminal(timeout=300) as terminal:
        said = terminal.run(
            # offline here: no update check, no model list from models.dev
            f"OPENCODE_DISABLE_AUTOUPDATE=1 OPENCODE_DISABLE_MODELS_FETCH=1 HOME=$(mktemp -d) "
            f'{OPENCODE} run -m maas/{SMOLLM2} "Say hello in one word."; echo "exit=$?"'
        )
    assert "exit=0" in said, said[-2000:]
    rows = stack.wait_usage("terry", before + 1)[before:]
    assert rows and {(r.model, r.status_code) for r in rows} == {(SMOLLM2, 200)}
    assert {r.notebook_path for r in rows} == {f"terminal {terminal.name}"}
    assert max(r.completion_tokens for r in rows) > 0


def test_maas_key_outside_a_server_says_what_to_do():
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
    r = subprocess.run([MAAS_KEY], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout == ""
    assert "Run maas-key in a terminal of your JupyterLab server" in r.stderr
