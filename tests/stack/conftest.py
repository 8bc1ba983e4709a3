"""The real local stack, started once per session as a user would start it:
``python -m hub_service.local`` (hub, MaaS service, LiteLLM gateway, SmolLM2)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import requests
from browser import chromium
from hubclient import HubUser
from localstack import launch
from sqlalchemy import create_engine, text
from webhook import WebhookReceiver

PASSWORD = "stack-test-password"

# Besides SmolLM2, a second model that the default profile does not allow, served by
# LiteLLM's mock backend so entitlement can be tested without a second real model.
EXTRA_MODELS = [
    {
        "name": "echo-large",
        "provider_model": "openai/echo-large",
        "mode": "chat",
        "description": "A mock model for tests",
        "input_cost_per_token": 3e-06,
        "output_cost_per_token": 9e-06,
        "extra_params": {"mock_response": "echo"},
    }
]
PROFILES = [
    {
        "slug": "cpu-standard",
        "display_name": "CPU - Standard",
        "is_default": True,
        "models": ["smollm2-135m"],
        "resources": {"cpu_limit": 2, "mem_limit": "4G"},
    },
    {
        "slug": "gpu-ml-ai",
        "display_name": "GPU - ML/AI",
        "models": ["*"],
        "resources": {"cpu_limit": 4, "mem_limit": "32G", "gpu": 1},
    },
]


@dataclass
class Stack:
    hub_url: str
    gateway_url: str
    service_url: str
    model_url: str
    db_url: str
    state_dir: Path
    log_path: Path
    proc: subprocess.Popen
    clock_file: Path
    webhook: WebhookReceiver
    password: str = PASSWORD
    issued_keys: list[str] = field(default_factory=list)
    # keys given a new secret since (their hashes are no longer stored)
    replaced_keys: list[str] = field(default_factory=list)
    # keys that other hubs' services issued in this session (kept in their own
    # databases, not this stack's): only the logs are checked for them
    foreign_keys: list[str] = field(default_factory=list)
    processes: list[psutil.Process] = field(default_factory=list)
    _admin: HubUser | None = None

    @property
    def admin(self) -> HubUser:
        """The hub admin, signed in, with a token (``.token``)."""
        if self._admin is None:
            self._admin = self.user("admin")
            self._admin.token = self._admin.create_token("admin tests")
        return self._admin

    def api(self, method: str, path: str, token: str | None = None, **kwargs):
        """Call the MaaS service's API through the hub's proxy."""
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"token {token}"
        return requests.request(
            method,
            f"{self.hub_url}/services/maas/api/v1/{path}",
            headers=headers,
            timeout=30,
            **kwargs,
        )

    def server_key(self, user: str, token: str) -> dict | None:
        """The active key of ``user``'s default server, as the service lists it."""
        found = [
            k
            for k in self.api("GET", f"users/{user}/keys", token).json()["keys"]
            if k["server_name"] == "" and k["state"] == "active"
        ]
        return found[0] if found else None

    def key_rows(self, user: str) -> list:
        """``user``'s keys as the database holds them (hashes, never keys), oldest first:
        with the kernels' and terminals' keys and the playground's, which no API lists."""
        with create_engine(self.db_url).connect() as conn:
            return conn.execute(
                text(
                    "SELECT id, key_hash, name, parent_id, kernel_id, revoked_at, "
                    'revoked_reason FROM api_keys WHERE "user" = :user ORDER BY created, id'
                ),
                {"user": user},
            ).all()

    def usage_rows(self, user: str) -> list:
        """``user``'s usage rows in order, with their model's catalog prices."""
        with create_engine(self.db_url).connect() as conn:
            return conn.execute(
                text(
                    "SELECT u.model, u.prompt_tokens, u.completion_tokens, u.cost_usd, "
                    "u.status_code, u.server_name, u.key_id, u.kernel_id, u.notebook_path, "
                    "m.input_cost_per_token, "
                    "m.output_cost_per_token FROM usage u JOIN models m ON m.name = u.model "
                    "WHERE u.user = :user ORDER BY u.id"
                ),
                {"user": user},
            ).all()

    def wait_usage(self, user: str, count: int, timeout: float = 15) -> list:
        """``user``'s usage rows once there are ``count`` (the gateway writes them in
        batches), or what there is when time is up."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.usage_rows(user)
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(0.25)

    def refusals(self, user: str, total: int, timeout: float = 15) -> list:
        """(model, status, reason, count) of ``user``'s refused requests, once they add
        up to ``total`` (the gateway writes the counts every half second here)."""
        deadline = time.monotonic() + timeout
        while True:
            with create_engine(self.db_url).connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT model, status, reason, count FROM refusals "
                        'WHERE "user" = :user ORDER BY id'
                    ),
                    {"user": user},
                ).all()
            if sum(r[3] for r in rows) >= total or time.monotonic() > deadline:
                return rows
            time.sleep(0.25)

    def gateway_refreshed(self, timeout: float = 30) -> None:
        """Wait for a gateway refresh that started after this call (its counter at
        ``/maas/metrics`` moves on by two)."""

        token = (self.state_dir / "metrics-token").read_text().strip()

        def refreshes() -> float:
            text_ = requests.get(
                f"{self.gateway_url}/maas/metrics",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ).text
            return float(re.search(r"^maas_gateway_refreshes (\S+)$", text_, re.M)[1])

        start = refreshes()
        deadline = time.monotonic() + timeout
        while refreshes() < start + 2:
            assert time.monotonic() < deadline, "the gateway did not refresh"
            time.sleep(0.1)

    def move_clock(self, seconds: float) -> None:
        """Move the service's and gateway's clock (the MAAS_CLOCK_OFFSET_FILE seam)."""
        self.clock_file.write_text(str(seconds))

    def user(self, name: str) -> HubUser:
        return HubUser(self.hub_url, name, PASSWORD).login()

    @contextlib.contextmanager
    def running(self, name: str):
        """``name``, signed in, with their server running while the ``with`` lasts."""
        user = self.user(name)
        user.start_server()
        try:
            yield user
        finally:
            user.stop_server()

    @contextlib.contextmanager
    def daily_budget(self, user: str, usd: float):
        """``user``'s daily budget is ``usd`` (an admin's override), in the gateway's
        memory while the ``with`` lasts; the override is removed after."""
        path = f"admin/overrides/user/{user}"
        r = self.api(
            "PUT", path, self.admin.token, json={"budgets": [{"window": "day", "usd": usd}]}
        )
        assert r.status_code in (200, 201), r.text
        try:
            self.gateway_refreshed()
            yield
        finally:
            self.api("DELETE", path, self.admin.token)

    def chat(self, key: str, model: str = "smollm2-135m", content: str = "Say hi"):
        return requests.post(
            f"{self.gateway_url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={
                "model": model,
                "messages": [{"role": "user", "content": content}],
                "max_tokens": 16,
            },
            timeout=120,
        )

    def stop(self) -> list[psutil.Process]:
        """Ctrl-C, as a user would; return the processes left behind."""
        if self.proc.poll() is None:
            tree = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children(True)]
            self.processes = tree
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        _, alive = psutil.wait_procs(self.processes, timeout=10)
        for p in alive:
            p.kill()
        return alive


@pytest.fixture(scope="session")
def webhook():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def stack(tmp_path_factory, log_dir, webhook) -> Stack:
    state = tmp_path_factory.mktemp("stack")
    clock_file = state / "clock-offset"
    clock_file.write_text("0")
    s = Stack(
        **launch(
            state,
            log_dir / "stack.log",
            PASSWORD,
            MAAS_LOCAL_EXTRA_MODELS=json.dumps(EXTRA_MODELS),
            MAAS_LOCAL_PROFILES=json.dumps(PROFILES),
            MAAS_LOCAL_GROUP_SYNC_INTERVAL="1",
            # hub groups run as teams by their <team>-admins (test_teams.py)
            MAAS_TEAMS="cs101,cs102",
            # the hub's copy of the profiles (its spawn form, its check of each start)
            # follows an admin's change within a second
            MAAS_LOCAL_PROFILES_TTL="1",
            # short-lived server keys, so the lab extension's renewal is exercised
            MAAS_LOCAL_SERVER_KEY_LIFETIME="20",
            MAAS_CLOCK_OFFSET_FILE=str(clock_file),
            MAAS_ALERT_WEBHOOK_URL=webhook.url,
            MAAS_REFUSAL_INTERVAL="0.5",  # refusal counts reach the database quickly
        ),
        clock_file=clock_file,
        webhook=webhook,
    )
    yield s
    # After every test that used it, whatever order they ran in: Ctrl-C, as a user
    # would, stops everything, and no log the session produced holds a key.
    left = s.stop()
    assert s.processes, "the stack's processes were not seen"
    assert not left, f"still running after Ctrl-C: {[p.pid for p in left]}"
    logs = [p for p in log_dir.rglob("*") if p.is_file()]
    logs += [p for p in s.state_dir.rglob("*.log") if p.is_file()]
    assert logs
    for path in logs:
        content = path.read_text(errors="replace")
        # counted, not compared: a failing comparison's message would print the key
        leaked = sum(key in content for key in s.issued_keys + s.foreign_keys)
        assert leaked == 0, f"{leaked} issued key(s) appear in {path}"


@pytest.fixture(scope="module")
def browser():
    """Chromium, one per test module (tests that use it call require_chromium())."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def shots(log_dir):
    """Where the portal's and JupyterLab's screenshots go."""
    path = log_dir.parent / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def maas(stack):
    """The ``maas`` command, run as the hub's admin against the stack's service."""
    env = {
        **os.environ,
        "MAAS_URL": f"{stack.hub_url}/services/maas/",
        "MAAS_TOKEN": stack.admin.token,
    }

    def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "hub_service.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
