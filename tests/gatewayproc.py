"""A real LiteLLM gateway process with our plugin, started as the hub starts it."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from pg import free_port

from hub_service import keys
from hub_service.db import session_scope, utcnow
from hub_service.gateway.app import spawn

METRICS_TOKEN = secrets.token_urlsafe(16)  # what the test gateways' metrics ask for

# A catalog model answered by LiteLLM's mock backend: gateway tests need no real model.
MOCK_SMALL = {
    "name": "mock-small",
    "provider_model": "openai/mock-small",
    "extra_params": {"mock_response": "small answer"},
    "input_cost_per_token": 1e-06,
    "output_cost_per_token": 2e-06,
}
# One outside the profiles that tests give their keys: what a key may not reach.
MOCK_PREMIUM = {
    "name": "premium",
    "provider_model": "openai/premium",
    "extra_params": {"mock_response": "premium answer"},
    "input_cost_per_token": 1e-03,
    "output_cost_per_token": 1e-03,
}


@dataclass
class Gateway:
    url: str
    proc: subprocess.Popen
    log_path: Path

    def chat(self, key: str, model: str, **body):
        return requests.post(
            f"{self.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": model, "messages": [{"role": "user", "content": "hi"}], **body},
            timeout=60,
        )

    def metrics(self) -> dict[str, float]:
        """The gateway's metrics (``GET /maas/metrics``), by name with labels."""
        text = requests.get(
            f"{self.url}/maas/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            timeout=10,
        ).text
        return {
            m[1]: float(m[2])
            for m in re.finditer(r"^(\S+) (\S+)$", text, re.MULTILINE)
            if not m[1].startswith("#")
        }

    def refreshed(self, timeout: float = 30.0) -> None:
        """Wait for a refresh pass that started after this call (so everything in the
        database now is in the gateway's memory)."""
        start = self.metrics().get("maas_gateway_refreshes", 0)
        deadline = time.monotonic() + timeout
        while self.metrics().get("maas_gateway_refreshes", 0) < start + 2:
            assert time.monotonic() < deadline, "the gateway did not refresh"
            time.sleep(0.05)

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def module_gateway(db_url: str, log_dir: Path, name: str, env=None) -> Gateway:
    """A test module's gateway on ``db_url``, logging to ``{name}-{database kind}.log``."""
    kind = db_url.split(":")[0].split("+")[0]
    return start_gateway(db_url, log_dir / f"{name}-{kind}.log", env=env)


def start_gateway(db_url: str, log_path: Path, *, plugin: bool = True, env=None) -> Gateway:
    """``python -m hub_service.gateway`` as the hub runs it, on a free port."""
    # a crash of the interpreter (a C extension's) leaves its Python stack in the log
    env = {"MAAS_METRICS_TOKEN": METRICS_TOKEN, "PYTHONFAULTHANDLER": "1", **(env or {})}
    proc, url = spawn(db_url, free_port(), log_path, plugin=plugin, env=env)
    return Gateway(url, proc, log_path)


def issue_key(
    sessions,
    user: str,
    profile: str | None = None,
    *,
    server_name: str | None = None,
    lifetime: dt.timedelta = dt.timedelta(hours=1),
):
    """A key written straight into the database, as the service issues it (a personal
    key unless ``server_name`` is given): (its row, the key)."""
    with session_scope(sessions) as s:
        return keys.issue(
            s,
            user=user,
            server_name=server_name,
            profile_slug=profile,
            name="t",
            lifetime=lifetime,
            now=utcnow(),
        )
