"""The lab extension's cost: server start time with it against without it, and the size
of its built JavaScript.

    .venv/bin/python bench/lab_extension.py [--runs 5] [--no-stack]

Start time is from launching ``jupyter server`` to its first answer on /api/status,
median of ``--runs``, measured in the same run for: the extension off (baseline); on
with the real service up (the local stack: hub, service, gateway, SmolLM2, started
here; the server runs as a hub user's server would, with a token scoped to that user's
running server, and the extension must report "ready" with a key); on with no MaaS
service configured; on with the service refusing connections; and on with a service
that accepts connections but never answers (the first attempt's timeout,
MaaSExtension.timeout = 1.5 s, is the most the extension may add).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from pg import free_port  # noqa: E402 - the tests' helpers, on the path just above


def get(url: str, token: str, timeout: float = 1) -> dict:
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})  # noqa: S310
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read() or b"{}")


def start_time(env: dict, enabled: bool, expect_state: str | None = None) -> float:
    """Seconds from launch to the first answer; with ``expect_state``, the extension
    must then report that state (else the figure would measure something else)."""
    port = free_port()
    token = "bench-token"
    argv = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        "--allow-root",
        f"--ServerApp.root_dir={tempfile.mkdtemp()}",
    ]
    if not enabled:
        argv.append('--ServerApp.jpserver_extensions={"jupyterlab_maas": False}')
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                get(f"http://127.0.0.1:{port}/api/status", token)
                elapsed = time.perf_counter() - t0
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit("jupyter server exited") from None
                time.sleep(0.02)
        if expect_state:
            status = get(f"http://127.0.0.1:{port}/jupyterlab-maas/status", token)
            if status["state"] != expect_state:
                raise SystemExit(f"the extension says {status['state']}: {status['message']}")
        return elapsed
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def start_stack() -> dict:
    """The local stack, a hub user "bench" with a running server, and the environment
    the hub gives such a server: a token scoped to that server, and the service URL."""
    from hubclient import HubUser
    from localstack import launch

    state = Path(tempfile.mkdtemp(prefix="maas-bench-"))
    print(f"starting the local stack (log: {state / 'stack.log'}) ...", flush=True)
    stack = launch(state, state / "stack.log", "bench-password")
    user = HubUser(stack["hub_url"], "bench", "bench-password").login()
    user.start_server()  # the service issues keys to running servers only
    token = user.create_token(
        "lab extension bench",
        scopes=["access:servers!server=bench/", "access:services!service=maas"],
    )
    stack["server_env"] = {
        "JUPYTERHUB_API_TOKEN": token,
        "JUPYTERHUB_USER": "bench",
        "JUPYTERHUB_SERVER_NAME": "",
        "MAAS_SERVICE_URL": stack["service_url"],
    }
    return stack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--no-stack", action="store_true", help="skip the service-up case (no local stack)"
    )
    args = parser.parse_args()

    base = {k: v for k, v in os.environ.items() if not k.startswith(("MAAS_", "JUPYTERHUB_"))}
    hub = {"JUPYTERHUB_API_TOKEN": "t", "JUPYTERHUB_USER": "bench"}
    refused = f"http://127.0.0.1:{free_port()}/services/maas/"
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts into the backlog, never answers
    unresponsive = f"http://127.0.0.1:{silent.getsockname()[1]}/services/maas/"
    stack = None if args.no_stack else start_stack()
    scenarios = {"extension off": (base, False, None)}
    if stack:
        scenarios["on, service up"] = ({**base, **stack["server_env"]}, True, "ready")
    scenarios |= {
        "on, no service configured": (base, True, None),
        "on, service refusing": ({**base, **hub, "MAAS_SERVICE_URL": refused}, True, None),
        "on, service not answering": (
            {**base, **hub, "MAAS_SERVICE_URL": unresponsive},
            True,
            None,
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in scenarios}
    try:
        for _ in range(args.runs):  # interleaved, so drift hits all alike
            for name, (env, enabled, state) in scenarios.items():
                times[name].append(start_time(env, enabled, state))
    finally:
        silent.close()
        if stack:
            stack["proc"].send_signal(signal.SIGINT)
            stack["proc"].wait(timeout=90)

    baseline = statistics.median(times["extension off"])
    print(f"server start, median of {args.runs}:")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<28}{median * 1000:8.0f} ms   {(median - baseline) * 1000:+7.0f} ms")

    static = ROOT / "jupyterlab_maas" / "labextension" / "static"
    ours = sum(p.stat().st_size for p in static.glob("*.js"))
    print(
        f"built labextension JavaScript: {ours / 1024:.1f} KB in {len(list(static.glob('*.js')))} "
        "files (target <= 150 KB; the JupyterLab packages are shared, not bundled)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
