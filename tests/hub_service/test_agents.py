"""Coding agents through the gateway: Claude Code, Codex and OpenCode (the real CLIs,
installed by scripts/setup.sh) run non-interactively with only the variables a
JupyterLab terminal has (``extension.credentials``) and
the commands the lab's side panel gives (``jupyterlab_maas.agents``), against a real
gateway process on SQLite and PostgreSQL. Their requests pass the gate (Anthropic's
Messages API, OpenAI's Responses API and chat completions, with the fields each agent
sends) and are accounted to the key's user.

The backends are LiteLLM's mock response (Claude Code) and an HTTP server that streams
a short answer (Codex, whose Responses requests the gateway sends to a backend as chat
completions, and OpenCode): the agents' system prompts and tools (about 10,000 to 20,000 tokens) do
not fit SmolLM2-135M's context window of 8,192 tokens, so the local model cannot answer
them (tests/stack/test_anthropic_messages.py and test_responses_api.py run the SDKs
against SmolLM2 instead)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from gatewayproc import MOCK_SMALL, issue_key, module_gateway
from sqlalchemy import select
from waiting import until

from hub_service import catalog
from hub_service.db import Usage, session_scope
from jupyterlab_maas.agents import agents
from jupyterlab_maas.extension import credentials

CLAUDE = Path(sys.executable).with_name("claude")
CODEX = Path(sys.executable).with_name("codex")
OPENCODE = Path(sys.executable).with_name("opencode")
PROFILES = [
    {
        "slug": "small",
        "display_name": "Small",
        "is_default": True,
        "models": ["mock-small", "brisk"],
    },
]


@pytest.fixture(scope="module")
def gateway(module_sessions, module_db_url, log_dir, backend):
    brisk = {
        "name": "brisk",
        "provider_model": "openai/brisk",
        "api_base": backend.url,
        "input_cost_per_token": 1e-06,
        "output_cost_per_token": 2e-06,
    }
    with session_scope(module_sessions) as s:
        catalog.seed(s, [MOCK_SMALL, brisk], PROFILES)
    gw = module_gateway(
        module_db_url, log_dir, "gateway-agents", env={"MAAS_REFRESH_INTERVAL": "0.5"}
    )
    yield gw
    gw.terminate()


def run_agent(gateway, key: str, argv: list[str], home: Path) -> tuple[int, str]:
    """``argv`` in a terminal's environment: the gateway and the key as the lab
    extension sets them, no provider credentials of its own, no network but the gateway
    (telemetry and update checks off); its exit status and what it said (with the key
    masked)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    env.update(
        credentials(key, gateway.url + "/v1", ["mock-small", "brisk"]),
        HOME=str(home),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
        OPENCODE_DISABLE_MODELS_FETCH="1",
        OPENCODE_DISABLE_AUTOUPDATE="1",
    )
    run = subprocess.run(
        argv,
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return run.returncode, (run.stdout + run.stderr).replace(key, "<key>")


def agent(gateway, name: str, model: str) -> dict:
    """What the side panel says to run for agent ``name`` with ``model``."""
    return next(a for a in agents(gateway.url + "/v1", model) if a["agent"] == name)


def claude(gateway, key: str, model: str, home: Path) -> tuple[int, str]:
    """``claude -p "Say hello"`` as the side panel gives it."""
    options = agent(gateway, "Claude Code", model)["options"]
    return run_agent(gateway, key, [str(CLAUDE), "-p", "Say hello", *options], home)


def usage_of(module_sessions, user: str) -> list[Usage]:
    with session_scope(module_sessions) as s:
        return s.scalars(select(Usage).where(Usage.user == user)).all()


def test_opencode_answers_through_the_gateway_and_is_accounted(gateway, module_sessions, tmp_path):
    """``opencode run "Say hello"`` with the side panel's options, and the provider the
    terminal's environment gives it: its chat completions pass the gate."""
    assert OPENCODE.exists(), f"{OPENCODE} is missing: run scripts/setup.sh"
    user = f"agent-{secrets.token_hex(3)}"
    _, key = issue_key(module_sessions, user, "small")
    options = agent(gateway, "OpenCode", "brisk")["options"]

    status, said = run_agent(gateway, key, [str(OPENCODE), "run", *options, "Say hello"], tmp_path)

    assert status == 0, said[-2000:]
    assert "t0 t1 t2" in said, said[-2000:]  # what the backend streamed
    found = until(lambda: usage_of(module_sessions, user), 30, "OpenCode's usage rows")
    assert {(r.model, r.status_code) for r in found} == {("brisk", 200)}
    assert all(r.prompt_tokens > 0 and r.completion_tokens > 0 for r in found)
    # its answer (the agent's own prompt, some hundreds of tokens) and, maybe, its
    # session's title
    assert max(r.prompt_tokens for r in found) > 200, [r.prompt_tokens for r in found]


def test_codex_answers_through_the_gateway_and_is_accounted(gateway, module_sessions, tmp_path):
    """``codex exec "Say hello"`` with the side panel's options: its Responses requests
    (streamed, with Codex's own fields and tools) pass the gate and are answered."""
    assert CODEX.exists(), f"{CODEX} is missing: run scripts/setup.sh"
    user = f"agent-{secrets.token_hex(3)}"
    _, key = issue_key(module_sessions, user, "small")
    options = agent(gateway, "Codex", "brisk")["options"]

    status, said = run_agent(
        gateway, key, [str(CODEX), "exec", "--skip-git-repo-check", *options, "Say hello"], tmp_path
    )

    assert status == 0, said[-2000:]
    assert "t0 t1 t2" in said, said[-2000:]  # what the backend streamed
    found = until(lambda: usage_of(module_sessions, user), 30, "Codex's usage rows")
    assert {(r.model, r.status_code) for r in found} == {("brisk", 200)}
    # the backend streamed no usage: Codex's prompt (instructions and 10 tools, about
    # 10,000 tokens) is counted by the gateway, not free
    for row in found:
        assert row.prompt_tokens > 5_000 and row.completion_tokens > 0, row
        assert row.cost_usd == pytest.approx(
            row.prompt_tokens * 1e-06 + row.completion_tokens * 2e-06
        )


def test_claude_code_answers_through_the_gateway_and_is_accounted(
    gateway, module_sessions, tmp_path
):
    assert CLAUDE.exists(), f"{CLAUDE} is missing: run scripts/setup.sh"
    user = f"agent-{secrets.token_hex(3)}"
    _, key = issue_key(module_sessions, user, "small")

    status, said = claude(gateway, key, "mock-small", tmp_path)

    assert status == 0, said[-2000:]
    assert said.strip() == "small answer"

    found = until(lambda: usage_of(module_sessions, user), 30, "Claude Code's usage rows")
    assert {(r.model, r.status_code) for r in found} == {("mock-small", 200)}
    assert all(r.prompt_tokens > 0 and r.completion_tokens > 0 for r in found)


def test_claude_code_with_a_model_outside_the_catalog_stops_and_costs_nothing(
    gateway, module_sessions, tmp_path
):
    """Claude Code's default models are Anthropic's, which the catalog need not have:
    the gateway's 404 makes it stop and say so (in its own words)."""
    user = f"agent-{secrets.token_hex(3)}"
    _, key = issue_key(module_sessions, user, "small")

    status, said = claude(gateway, key, "claude-sonnet-4-5", tmp_path)

    assert status != 0, said[-2000:]
    assert "issue with the selected model (claude-sonnet-4-5)" in said, said[-2000:]
    with session_scope(module_sessions) as s:
        assert s.scalars(select(Usage).where(Usage.user == user)).all() == []
