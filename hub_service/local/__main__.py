"""Run the local demo: ``python -m hub_service.local`` (Ctrl-C stops everything)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from . import HERE, LocalSettings, wait_for_url


def shared_password(state_dir: Path) -> str:
    """The demo's shared password: $MAAS_LOCAL_PASSWORD, else one kept in the state dir."""
    if os.environ.get("MAAS_LOCAL_PASSWORD"):
        return os.environ["MAAS_LOCAL_PASSWORD"]
    path = state_dir / "password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def main() -> int:
    settings = LocalSettings.from_env()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    bindir = Path(sys.executable).parent
    if not (bindir / "configurable-http-proxy").exists() and not shutil.which(
        "configurable-http-proxy"
    ):
        print(
            "configurable-http-proxy is missing: run scripts/local.sh, or "
            f"npm install -g --prefix {bindir.parent} configurable-http-proxy",
            file=sys.stderr,
        )
        return 2
    env = os.environ.copy()
    env["MAAS_LOCAL_STATE_DIR"] = str(settings.state_dir)
    env["MAAS_LOCAL_PASSWORD"] = password = shared_password(settings.state_dir)
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    hub = subprocess.Popen(
        [str(bindir / "jupyterhub"), "-f", str(HERE / "jupyterhub_config.py")],
        cwd=settings.state_dir,
        env=env,
    )
    url = f"http://127.0.0.1:{settings.hub_port}"
    try:
        if wait_for_url(f"{url}/hub/health", hub, timeout=120) and wait_for_url(
            f"{settings.gateway_url}/health/liveliness", hub, timeout=180
        ):
            print(
                f"\n  JupyterHub with Model-as-a-Service is running at {url}\n"
                f"  Log in with any user name and the password: {password}\n"
                "  (user 'admin' is a hub admin). In a notebook, OpenAI() just works:\n"
                "  from openai import OpenAI; OpenAI().chat.completions.create("
                'model="smollm2-135m", ...)\n'
                "  Press Ctrl-C to stop everything.\n",
                flush=True,
            )
        return hub.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to the hub as well; give it time to stop servers,
        # services and the proxy, then make sure.
        try:
            hub.send_signal(signal.SIGINT)
            return hub.wait(timeout=60)
        except subprocess.TimeoutExpired:
            hub.kill()
            return hub.wait()


if __name__ == "__main__":
    sys.exit(main())
