"""The lab extension's cost: server start time with it against without it, and the size
of its built JavaScript.

    .venv/bin/python bench/lab_extension.py [--runs 5]

Start time is from launching ``jupyter server`` to its first answer on /api/status,
median of ``--runs``, measured in the same run for: the extension off (baseline), on
with no MaaS service configured, on with the service refusing connections, and on with
a service that accepts connections but never answers (the first attempt's timeout,
MaaSExtension.timeout = 1.5 s, is the most the extension may add). The service-up case
runs in tests/stack against the real service.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_time(env: dict, enabled: bool) -> float:
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
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/status",
                    headers={"Authorization": f"token {token}"},
                )
                with urllib.request.urlopen(req, timeout=1):  # noqa: S310 - loopback
                    return time.perf_counter() - t0
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit("jupyter server exited") from None
                time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    base = {k: v for k, v in os.environ.items() if not k.startswith(("MAAS_", "JUPYTERHUB_"))}
    hub = {"JUPYTERHUB_API_TOKEN": "t", "JUPYTERHUB_USER": "bench"}
    refused = f"http://127.0.0.1:{free_port()}/services/maas/"
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts into the backlog, never answers
    unresponsive = f"http://127.0.0.1:{silent.getsockname()[1]}/services/maas/"
    scenarios = {
        "extension off": (base, False),
        "on, no service configured": (base, True),
        "on, service refusing": ({**base, **hub, "MAAS_SERVICE_URL": refused}, True),
        "on, service not answering": ({**base, **hub, "MAAS_SERVICE_URL": unresponsive}, True),
    }
    times: dict[str, list[float]] = {name: [] for name in scenarios}
    for _ in range(args.runs):  # interleaved, so drift hits all alike
        for name, (env, enabled) in scenarios.items():
            times[name].append(start_time(env, enabled))
    silent.close()

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
