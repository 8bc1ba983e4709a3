"""How to run each coding agent in a JupyterLab terminal through the gateway: what the
lab's side panel shows (``GET jupyterlab-maas/agents``) and what the tests run.

A terminal's shell has the gateway's URL and a key of its own under the names each
agent reads (``extension.credentials``). Claude Code needs only its model; Codex must
be told the gateway is its provider, and that it has no web search (a tool that makes
the provider search the web on the gateway's account, which the gateway refuses).
"""

from __future__ import annotations

import json
import shlex


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
    ]
    for agent in found:
        agent["command"] = shlex.join([agent["program"], *agent["options"]])
    return found
