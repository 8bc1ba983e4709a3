"""How to run each coding agent in a JupyterLab terminal through the gateway: what the
lab's side panel shows (``GET jupyterlab-maas/models``, under ``agents``) and what the
tests run.

A terminal's shell has the gateway's URL and a key of its own under the names each
agent reads (``extension.credentials``), and OpenCode's provider ``maas`` with the
server's models (``opencode_config``, in ``OPENCODE_CONFIG_CONTENT``, which OpenCode
adds to its own configuration). Claude Code and OpenCode need only a model; Codex must
be told the gateway is its provider, and that it has no web search (a tool that makes
the provider search the web on the gateway's account, which the gateway refuses).
"""

from __future__ import annotations

import json
import shlex

OPENCODE_PROVIDER = "maas"


def opencode_config(base_url: str, models: list[str]) -> str:
    """OpenCode's provider of the gateway's models (an OpenAI-compatible one, which
    OpenCode ships), whose key is read from OPENAI_API_KEY when OpenCode starts."""
    provider = {
        "npm": "@ai-sdk/openai-compatible",
        "name": "MaaS",
        "options": {"baseURL": base_url, "apiKey": "{env:OPENAI_API_KEY}"},
        "models": {m: {"name": m} for m in models},
    }
    return json.dumps({"provider": {OPENCODE_PROVIDER: provider}}, separators=(",", ":"))


def agents(base_url: str, model: str) -> list[dict]:
    """Each agent's name, the command that starts it with ``model`` (``program`` and
    ``options``; ``command`` for a shell) and the variables it reads."""
    found = [
        {
            "agent": "Claude Code",
            "program": "claude",
            "options": ["--model", model],
            "reads": ["ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"],
        },
        {
            "agent": "Codex",
            "program": "codex",
            "options": [
                "-m",
                model,
                "-c",
                "model_provider=maas",
                "-c",
                # TOML, whose strings JSON's are
                'model_providers.maas={name = "MaaS", '
                f'base_url = {json.dumps(base_url)}, env_key = "OPENAI_API_KEY"}}',
                "-c",
                "web_search=disabled",
            ],
            "reads": ["OPENAI_API_KEY"],
        },
        {
            "agent": "OpenCode",
            "program": "opencode",
            "options": ["-m", f"{OPENCODE_PROVIDER}/{model}"],
            "reads": ["OPENCODE_CONFIG_CONTENT", "OPENAI_API_KEY"],
        },
    ]
    for agent in found:
        agent["command"] = shlex.join([agent["program"], *agent["options"]])
    return found
