"""The MaaS service's load on a real JupyterHub with many running servers, the delay
between a server's stop and its key's revocation, and a burst of servers asking for
their keys at once.

    .venv/bin/python bench/hub_load.py [--servers 2000] [--window 60] [--burst 200]

A real JupyterHub (with configurable-http-proxy) runs the MaaS service as a managed
service; its spawner registers servers without starting processes (they all point at
one small HTTP server, which answers the hub's checks), so thousands fit on 2 cores.
Each run starts ``--servers`` servers, then for ``--window`` seconds of quiet measures
the hub's CPU time and the requests the service made to the hub, then stops 20 servers
one by one and times how long each key takes to be revoked, then has ``--burst``
servers ask the service for their keys at once (with their own tokens, as the lab
extension does). Three runs:

- ``poll/sqlite``: the service checks all users and servers every 2 s (before),
- ``hooks/sqlite``: the hub's hooks report stops; the check runs every 60 s (after),
- ``hooks/postgresql``: the same on PostgreSQL.

Prints one table and writes bench/results/hub_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psutil
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from pg import PostgresServer, free_port  # noqa: E402

from hub_service import db  # noqa: E402
from hub_service.local import wait_for_url  # noqa: E402

CONFIG = '''
import asyncio, os, json, sys
from pathlib import Path
from jupyterhub.spawner import Spawner
from hub_service.hub_hooks import NotifyMaaS

s = json.loads(os.environ["BENCH_SETTINGS"])
tokens = Path(s["tokens"])

class RegisteredSpawner(Spawner):
    """A server the hub believes runs: no process, one shared HTTP endpoint."""
    async def start(self):
        # a server's process takes a moment to start (class_start.py: --start-delay)
        await asyncio.sleep(s.get("start_delay", 0))
        (tokens / f"{self.user.name}").write_text(self.api_token)
        return s["server_url"]
    async def poll(self):
        return None
    async def stop(self, now=False):
        pass
    def get_state(self):
        return {"up": True}

c.JupyterHub.spawner_class = RegisteredSpawner
c.JupyterHub.bind_url = f"http://127.0.0.1:{s['hub_port']}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{s['hub_api_port']}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [s["chp"]]
c.JupyterHub.db_url = f"sqlite:///{s['state']}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{s['state']}/cookie_secret"
c.JupyterHub.concurrent_spawn_limit = 0
c.JupyterHub.active_server_limit = 0
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.log_level = "WARN"
c.JupyterHub.services = [
    {"name": "bench", "api_token": s["bench_token"]},
    {
        "name": "maas",
        "url": s["service_url"],
        "api_token": s["service_token"],
        "command": [sys.executable, "-m", "hub_service",
                    f"--MaaSService.reconcile_interval={s['reconcile']}",
                    "--MaaSService.group_sync_interval=3600"],
        "environment": {"MAAS_DB_URL": s["db_url"], "PATH": os.environ["PATH"],
                        "HOME": s["state"]},
    },
]
c.JupyterHub.load_roles = [
    {"name": "bench", "scopes": ["admin:users", "admin:servers", "list:users", "tokens",
     "custom:maas:metrics", "access:services!service=maas"], "services": ["bench"]},
    {"name": "maas-service", "scopes": ["list:users", "read:users", "read:servers",
     "list:groups", "read:groups", "access:services!service=maas"], "services": ["maas"]},
    {"name": "user", "scopes": ["self", "access:services!service=maas"]},
    {"name": "server", "scopes": ["users:activity!user", "access:servers!server",
     "access:services!service=maas"]},
]
c.JupyterHub.custom_scopes = {"custom:maas:metrics": {"description": "metrics"}}
if s["hooks"]:
    notify = NotifyMaaS(s["service_url"] + "/services/maas/", s["service_token"])
    c.Spawner.pre_spawn_hook = notify.pre_spawn_hook
    c.Spawner.post_stop_hook = notify.post_stop_hook
'''


class Answers(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Hub:
    def __init__(
        self, work: Path, db_url: str, hooks: bool, reconcile: float, start_delay: float = 0.0
    ):
        work.mkdir(parents=True)
        self.work = work
        self.db_url = db_url
        self.tokens = work / "tokens"
        self.tokens.mkdir()
        self.answers = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
        threading.Thread(target=self.answers.serve_forever, daemon=True).start()
        self.bench_token = secrets.token_hex(32)
        hub_port = free_port()
        settings = {
            "tokens": str(self.tokens),
            "server_url": f"http://127.0.0.1:{self.answers.server_address[1]}",
            "hub_port": hub_port,
            "hub_api_port": free_port(),
            "proxy_api_port": free_port(),
            "chp": str(Path(sys.executable).parent / "configurable-http-proxy"),
            "state": str(work),
            "bench_token": self.bench_token,
            "service_token": secrets.token_hex(32),
            "service_url": f"http://127.0.0.1:{free_port()}",
            "db_url": db_url,
            "reconcile": reconcile,
            "hooks": hooks,
            "start_delay": start_delay,
        }
        self.api = f"http://127.0.0.1:{settings['hub_api_port']}/hub/api"
        self.service = settings["service_url"] + "/services/maas/api/v1"
        self.metrics_url = settings["service_url"] + "/services/maas/metrics"
        (work / "config.py").write_text(CONFIG)
        env = {**os.environ, "BENCH_SETTINGS": json.dumps(settings)}
        env.pop("MAAS_DB_URL", None)
        self.proc = subprocess.Popen(  # noqa: S603 - the hub of this environment
            [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(work / "config.py")],
            cwd=work,
            env=env,
            stdout=open(work / "hub.log", "w"),  # noqa: SIM115 - the process owns it
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if not wait_for_url(f"{self.api}/", self.proc, timeout=120):
            raise SystemExit(f"the hub did not start; see {work / 'hub.log'}")
        if not wait_for_url(f"{self.service}/health", timeout=120):
            raise SystemExit(f"the MaaS service did not start; see {work / 'hub.log'}")
        self.headers = {"Authorization": f"token {self.bench_token}"}

    async def start_servers(self, count: int) -> None:
        names = [f"u{i:05d}" for i in range(count)]
        async with httpx.AsyncClient(timeout=300, headers=self.headers) as http:
            r = await http.post(f"{self.api}/users", json={"usernames": names})
            r.raise_for_status()
            gate = asyncio.Semaphore(32)

            async def one(name):
                async with gate:
                    (await http.post(f"{self.api}/users/{name}/server")).raise_for_status()

            await asyncio.gather(*(one(n) for n in names))
        deadline = time.monotonic() + 600
        while len(list(self.tokens.iterdir())) < count:
            if time.monotonic() > deadline:
                raise SystemExit("the servers did not all start")
            await asyncio.sleep(0.5)

    def service_hub_requests(self) -> float:
        text = httpx.get(self.metrics_url, headers=self.headers, timeout=30).text
        for line in text.splitlines():
            if line.startswith("maas_service_hub_requests "):
                return float(line.split()[1])
        raise SystemExit("the service's metrics have no maas_service_hub_requests")

    def cpu(self) -> float:
        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system

    async def burst(self, names: list[str]) -> tuple[list[float], int, dict]:
        """Every server in ``names`` asks for its key at once; (latencies, errors, keys)."""
        latencies: list[float] = []
        errors = 0
        issued: dict[str, str] = {}
        limits = httpx.Limits(max_connections=len(names))
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:

            async def one(name):
                nonlocal errors
                token = (self.tokens / name).read_text()
                t0 = time.perf_counter()
                r = await http.post(
                    f"{self.service}/users/{name}/keys",
                    json={"server_name": ""},
                    headers={"Authorization": f"token {token}"},
                )
                latencies.append(time.perf_counter() - t0)
                if r.status_code == 201:
                    issued[name] = r.json()["id"]
                else:
                    errors += 1
                    if errors == 1:
                        print(f"  a failed key request: HTTP {r.status_code} {r.text[:200]}")

            await asyncio.gather(*(one(n) for n in names))
        return latencies, errors, issued

    async def revocation_delays(self, issued: dict[str, str], count: int) -> list[float]:
        """Stop ``count`` servers one by one; seconds until each one's key is revoked."""
        engine = db.make_engine(self.db_url)
        delays = []
        async with httpx.AsyncClient(timeout=60, headers=self.headers) as http:
            for name, key_id in list(issued.items())[:count]:
                t0 = time.monotonic()
                (await http.delete(f"{self.api}/users/{name}/server")).raise_for_status()
                while True:
                    with engine.connect() as conn:
                        revoked = conn.scalar(
                            select(db.ApiKey.revoked_at).where(db.ApiKey.id == key_id)
                        )
                    if revoked is not None:
                        break
                    if time.monotonic() - t0 > 120:
                        raise SystemExit(f"{name}'s key was not revoked within 120 s")
                    await asyncio.sleep(0.02)
                delays.append(time.monotonic() - t0)
        engine.dispose()
        return delays

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        for p in psutil.process_iter(["environ"]):
            try:
                if (p.info["environ"] or {}).get("MAAS_DB_URL") == self.db_url:
                    p.kill()
            except psutil.Error:
                pass
        self.answers.shutdown()


async def run(name: str, hub: Hub, args) -> dict:
    t0 = time.monotonic()
    await hub.start_servers(args.servers)
    started = time.monotonic() - t0
    await asyncio.sleep(5)  # let the spawns' own work settle before the quiet window
    requests0, cpu0, w0 = hub.service_hub_requests(), hub.cpu(), time.monotonic()
    await asyncio.sleep(args.window)
    minutes = (time.monotonic() - w0) / 60
    load = {
        "hub_requests_per_minute": (hub.service_hub_requests() - requests0) / minutes,
        "hub_cpu_seconds_per_minute": (hub.cpu() - cpu0) / minutes,
    }
    latencies, errors, issued = await hub.burst([f"u{i:05d}" for i in range(args.burst)])
    delays = await hub.revocation_delays(issued, 20)
    result = {
        "servers": args.servers,
        "start_seconds": started,
        **load,
        "burst": args.burst,
        "burst_p50_ms": 1000 * statistics.median(latencies),
        "burst_p99_ms": 1000 * pct(latencies, 0.99),
        "burst_errors": errors,
        "revocation_p50_s": statistics.median(delays),
        "revocation_max_s": max(delays),
    }
    print(f"{name}: {json.dumps({k: round(v, 3) for k, v in result.items()})}", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=2000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds of quiet measured")
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--out", default="bench/results/hub_load.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="maas-hub-load-"))
    results = {}
    postgres = PostgresServer().start()
    try:
        runs = [
            ("poll/sqlite", f"sqlite:///{work / 'poll.sqlite'}", False, 2.0),
            ("hooks/sqlite", f"sqlite:///{work / 'hooks.sqlite'}", True, 60.0),
            ("hooks/postgresql", postgres.create_database("hubload"), True, 60.0),
        ]
        for name, db_url, hooks, reconcile in runs:
            hub = Hub(work / name.replace("/", "-"), db_url, hooks, reconcile)
            try:
                results[name] = asyncio.run(run(name, hub, args))
            finally:
                hub.stop()
    finally:
        postgres.stop()
    keys = [
        ("hub_requests_per_minute", "hub req/min", "{:.0f}"),
        ("hub_cpu_seconds_per_minute", "hub CPU s/min", "{:.2f}"),
        ("revocation_p50_s", "revoke p50 s", "{:.2f}"),
        ("revocation_max_s", "revoke max s", "{:.2f}"),
        ("burst_p50_ms", "burst p50 ms", "{:.0f}"),
        ("burst_p99_ms", "burst p99 ms", "{:.0f}"),
        ("burst_errors", "errors", "{:.0f}"),
    ]
    print(f"\n{args.servers} running servers, {args.window:.0f} s window, burst of {args.burst}")
    print(f"{'run':<18}" + "".join(f"{label:>15}" for _, label, _ in keys))
    for name, r in results.items():
        print(f"{name:<18}" + "".join(f"{fmt.format(r[k]):>15}" for k, _, fmt in keys))
    before, after = results["poll/sqlite"], results["hooks/sqlite"]
    print(
        "after / before: hub requests "
        f"{after['hub_requests_per_minute'] / max(before['hub_requests_per_minute'], 1e-9):.3f}, "
        f"hub CPU {after['hub_cpu_seconds_per_minute'] / before['hub_cpu_seconds_per_minute']:.3f}"
        "   (targets: revocation <= 2 s; burst p99 <= 250 ms, 0 errors)"
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
