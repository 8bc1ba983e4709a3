"""Fixtures for the service and gateway tests: real SQLite and PostgreSQL databases,
and real LiteLLM gateway processes with our plugin."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from pg import PostgresServer, free_port

from hub_service import db


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


_counter = 0


def _empty_database(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'maas.sqlite'}"
    global _counter
    _counter += 1
    return request.getfixturevalue("postgres").create_database(f"maas_{os.getpid()}_{_counter}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """An empty database of each kind."""
    return _empty_database(request, tmp_path)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(request, tmp_path_factory) -> str:
    """An empty database of each kind, shared by a module's tests."""
    return _empty_database(request, tmp_path_factory.mktemp("db"))


def _sessions(url):
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield db.make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def sessions(db_url):
    yield from _sessions(db_url)


@pytest.fixture(scope="module")
def module_sessions(module_db_url):
    yield from _sessions(module_db_url)


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

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def start_gateway(db_url: str, log_path: Path, *, plugin: bool = True, env=None) -> Gateway:
    """``python -m hub_service.gateway`` as the hub runs it, on a free port."""
    port = free_port()
    environ = {**os.environ, "MAAS_DB_URL": db_url, **(env or {})}
    log = open(log_path, "w")  # noqa: SIM115 - the process owns it
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub_service.gateway",
            "--port",
            str(port),
            f"--MaaSGateway.plugin={plugin}",
        ],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(f"{url}/health/liveliness", timeout=2).ok:
                return Gateway(url, proc, log_path)
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"gateway did not start; see {log_path}")
        time.sleep(0.3)
