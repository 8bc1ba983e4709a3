"""A real LiteLLM gateway process with our plugin, started as the hub starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests
from pg import free_port

from hub_service.local import wait_for_url


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
    if not wait_for_url(f"{url}/health/liveliness", proc, timeout=120):
        proc.kill()
        raise RuntimeError(f"gateway did not start; see {log_path}")
    return Gateway(url, proc, log_path)
