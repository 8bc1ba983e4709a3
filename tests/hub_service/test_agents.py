"""Coding agents through the gateway: Claude Code (the real CLI, installed by
scripts/setup.sh) run non-interactively with only the variables a JupyterLab terminal
has (``ANTHROPIC_BASE_URL``, ``ANTHROPIC_AUTH_TOKEN``), against a real gateway process
on SQLite and PostgreSQL. Its requests pass the gate (Anthropic's Messages API, with
the fields Claude Code sends) and are accounted to the key's user.

The backend is LiteLLM's mock response: Claude Code's system prompt and tools (24 of
them, about 20,000 tokens) do not fit SmolLM2-135M's context window of 8,192 tokens, so
the local model cannot answer it (tests/stack/test_anthropic_messages.py runs
Anthropic's SDK against SmolLM2 instead)."""

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

CLAUDE = Path(sys.executable).with_name("claude")
PROFILES = [
    {"slug": "small", "display_name": "Small", "is_default": True, "models": ["mock-small"]},
]


@pytest.fixture(scope="module")
def gateway(module_sessions, module_db_url, log_dir):
    with session_scope(module_sessions) as s:
        catalog.seed(s, [MOCK_SMALL], PROFILES)
    gw = module_gateway(
        module_db_url, log_dir, "gateway-agents", env={"MAAS_REFRESH_INTERVAL": "0.5"}
    )
    yield gw
    gw.terminate()


def claude(gateway, key: str, model: str, home: Path) -> tuple[int, str]:
    """``claude -p "Say hello"`` in a terminal's environment: the gateway and the key as
    the lab extension sets them, no provider credentials of its own, no network but the
    gateway (telemetry and update checks off); its exit status and what it said (with
    the key masked)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    env.update(
        HOME=str(home),
        ANTHROPIC_BASE_URL=gateway.url,
        ANTHROPIC_AUTH_TOKEN=key,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
    )
    run = subprocess.run(
        [str(CLAUDE), "-p", "Say hello", "--model", model],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return run.returncode, (run.stdout + run.stderr).replace(key, "<key>")


def test_claude_code_answers_through_the_gateway_and_is_accounted(
    gateway, module_sessions, tmp_path
):
    assert CLAUDE.exists(), f"{CLAUDE} is missing: run scripts/setup.sh"
    user = f"agent-{secrets.token_hex(3)}"
    _, key = issue_key(module_sessions, user, "small")

    status, said = claude(gateway, key, "mock-small", tmp_path)

    assert status == 0, said[-2000:]
    assert said.strip() == "small answer"

    def rows():
        with session_scope(module_sessions) as s:
            return s.scalars(select(Usage).where(Usage.user == user)).all()

    found = until(rows, 30, "Claude Code's usage rows")
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
