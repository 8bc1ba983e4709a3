"""Start the local MaaS as a user would (``python -m hub_service.local``: hub, service,
gateway, SmolLM2) on free ports, and wait until the model answers. Used by the stack
tests and the lab extension benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from pg import free_port


def _two_free_ports() -> int:
    """A free port whose successor is free too (the hub's proxy takes port + 1)."""
    while True:
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def start(state_dir: Path, log_path: Path, password: str, **env: str) -> dict:
    """Start ``python -m hub_service.local`` on free ports with ``env`` on top of this
    process's environment, its console output going to ``log_path``; return its process
    and URLs without waiting."""
    hub_port = _two_free_ports()
    full_env = {k: v for k, v in os.environ.items() if k != "MAAS_DB_URL"}
    ports = {
        "MAAS_LOCAL_HUB_PORT": str(hub_port),
        "MAAS_LOCAL_HUB_API_PORT": str(free_port()),
        "MAAS_LOCAL_SERVICE_PORT": str(free_port()),
        "MAAS_LOCAL_GATEWAY_PORT": str(free_port()),
        "MAAS_LOCAL_MODEL_PORT": str(free_port()),
    }
    full_env.update(ports, MAAS_LOCAL_STATE_DIR=str(state_dir), MAAS_LOCAL_PASSWORD=password, **env)
    log = open(log_path, "w")  # noqa: SIM115 - the child holds it; closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub_service.local"],
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    return {
        "hub_url": f"http://127.0.0.1:{hub_port}",
        "gateway_url": f"http://127.0.0.1:{ports['MAAS_LOCAL_GATEWAY_PORT']}",
        "service_url": f"http://127.0.0.1:{ports['MAAS_LOCAL_SERVICE_PORT']}/services/maas/",
        "model_url": f"http://127.0.0.1:{ports['MAAS_LOCAL_MODEL_PORT']}/v1",
        "db_url": f"sqlite:///{state_dir / 'maas.sqlite'}",
        "state_dir": state_dir,
        "log_path": log_path,
        "proc": proc,
    }


def launch(state_dir: Path, log_path: Path, password: str, **env: str) -> dict:
    """Start the stack (``start``) and return its URLs, database URL and process once
    it says it is running: the launcher has had SmolLM2 answer through the gateway
    (RuntimeError if that does not happen within 5 minutes; the log says why)."""
    stack = start(state_dir, log_path, password, **env)
    deadline = time.monotonic() + 300
    while "is running at" not in log_path.read_text():
        if stack["proc"].poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the local stack did not start; see {log_path}")
        time.sleep(0.5)
    return stack
