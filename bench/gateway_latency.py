"""Gateway overhead of our plugin, and of the whole gateway: the same load, in the same
run, through LiteLLM with our auth + usage plugin, through LiteLLM with only a master
key, and straight to the backend (``bench/mockbackend.py``, an HTTP server that answers
at once), which is the floor.

    .venv/bin/python bench/gateway_latency.py [--requests 2000] [--concurrency 8]
        [--users 10000] [--models 50] [--profiles 10] [--history 90000] [--days 90]

The database holds ``--users`` users (each with a key, spread over ``--profiles``
profiles with budgets and rate limits, a fifth of them in groups with overrides),
``--models`` catalog models and ``--history`` usage rows spread over ``--days`` days;
requests go round-robin through every user's key, so each one exercises the key,
policy and spend lookups. Prints p50, p99 and requests/s for each and the ratios: ours
over LiteLLM alone (targets: p50 <= 1.10, p99 <= 1.20, requests/s >= 0.90), and each
gateway over no gateway, with what it adds per percentile in milliseconds; and each
gateway's resident memory once every key has been used and again after the load. Load
alternates between the three in rounds, so drift on a shared machine hits all alike.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from sqlalchemy import insert

from hub_service import catalog, db, keys
from hub_service.gateway.app import spawn

MODEL = "bench-mock"


def seed_database(
    sessions, users: int, models: int, profiles: int, history: int, days: int, backend: str
) -> list[str]:
    """Fill the catalog, profiles, groups, overrides and usage history; return one key
    per user."""
    names = [MODEL] + [f"bench-mock-{i}" for i in range(1, models)]
    catalog_rows = [
        {
            "name": name,
            "provider_model": f"openai/{name}",
            "api_base": backend,
            "input_cost_per_token": 1e-06,
            "output_cost_per_token": 2e-06,
        }
        for name in names
    ]
    profile_rows = [
        {
            "slug": f"profile-{p}",
            "display_name": f"Profile {p}",
            "is_default": p == 0,
            "models": [MODEL, *names[1 + p * 3 : 4 + p * 3]],
            # budgets high enough never to run out, so every request checks one
            "budgets": [{"window": "month", "usd": 1_000_000.0}],
            "rpm_limit": None if os.environ.get("BENCH_NO_RPM") else 1_000_000,
        }
        for p in range(profiles)
    ]
    now = db.utcnow()
    keys_out = []
    with db.session_scope(sessions) as s:
        catalog.seed(s, catalog_rows, profile_rows)
        for g in range(max(1, users // 50)):
            s.add(
                db.PolicyOverride(
                    kind="group",
                    name=f"group-{g}",
                    extra_models=names[-2:],
                    budgets=[{"window": "month", "usd": 2_000_000.0}],
                )
            )
        for u in range(users):
            user = f"user-{u:04d}"
            if u % 5 == 0:
                s.add(db.UserGroup(user=user, group=f"group-{u % max(1, users // 50)}"))
            _, key = keys.issue(
                s,
                user=user,
                server_name="",
                name="bench",
                profile_slug=f"profile-{u % profiles}",
                lifetime=dt.timedelta(hours=4),
                now=now,
            )
            keys_out.append(key)
    if not history:
        return keys_out
    with sessions() as s:
        s.execute(
            insert(db.Usage),
            [
                {
                    "user": f"user-{i % users:04d}",
                    "model": names[i % models],
                    "ts": now - dt.timedelta(minutes=i * days * 24 * 60 // history),
                    "prompt_tokens": 10,
                    "completion_tokens": 20,
                    "cost_usd": 5e-05,
                    "latency_ms": 10.0,
                    "status_code": 200,
                }
                for i in range(history)
            ],
        )
        s.commit()
    return keys_out


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(db_url: str, plugin: bool, log: Path, env: dict) -> tuple[subprocess.Popen, str]:
    try:
        return spawn(db_url, free_port(), log, plugin=plugin, env=env)
    except RuntimeError as e:
        raise SystemExit(str(e)) from None


def start_backend(log: Path) -> tuple[subprocess.Popen, str]:
    """``bench/mockbackend.py`` under uvicorn on a free port; its /v1 URL once it answers."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent)]
        + ["mockbackend:app", "--port", str(port), "--log-level", "warning", "--no-access-log"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.post(f"{url}/chat/completions", json={}, timeout=1).raise_for_status()
            return proc, url
        except httpx.HTTPError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"the mock backend did not start: see {log}") from None
            time.sleep(0.1)


async def load(url: str, keys_: list[str], n: int, concurrency: int) -> list[float]:
    """``n`` chat completions at ``concurrency``, cycling through ``keys_``."""
    latencies: list[float] = []
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    cycle = itertools.cycle(keys_)
    async with httpx.AsyncClient(timeout=60) as client:

        async def worker():
            while True:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                headers = {"Authorization": f"Bearer {next(cycle)}"}
                t0 = time.perf_counter()
                r = await client.post(f"{url}/v1/chat/completions", json=body, headers=headers)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {r.status_code} {r.text[:200]}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def rss_mib(proc: subprocess.Popen) -> float:
    return psutil.Process(proc.pid).memory_info().rss / 2**20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per gateway")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--profiles", type=int, default=10)
    parser.add_argument("--history", type=int, default=90_000, help="usage rows")
    parser.add_argument("--days", type=int, default=90, help="the usage rows' time span")
    parser.add_argument("--out", default="bench/results/gateway_latency.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="maas-bench-"))
    db_url = f"sqlite:///{work / 'maas.sqlite'}"
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    sessions = db.make_session_factory(engine)
    t0 = time.perf_counter()
    backend, backend_url = start_backend(work / "backend.log")
    maas_keys = seed_database(
        sessions, args.users, args.models, args.profiles, args.history, args.days, backend_url
    )
    print(
        f"seeded {args.users} users, {args.models} models, {args.profiles} profiles, "
        f"{args.history} usage rows over {args.days} days in {time.perf_counter() - t0:.1f} s"
    )
    with sessions() as s:
        before = s.query(db.Usage).count()
    master_key = "sk-" + secrets.token_hex(32)

    ours, ours_url = start(db_url, True, work / "plugin.log", {})
    base, base_url = start(db_url, False, work / "master.log", {"LITELLM_MASTER_KEY": master_key})
    try:
        targets = {
            "plugin": (ours_url, maas_keys),
            "master_key": (base_url, [master_key]),
            # the same requests, no gateway: the backend's URL is .../v1
            "direct": (backend_url.removesuffix("/v1"), ["none"]),
        }
        for url, keys_ in targets.values():  # warm up: every key once
            asyncio.run(load(url, keys_, max(50, len(keys_)), args.concurrency))
        procs = {"plugin": ours, "master_key": base, "direct": backend}
        rss_warm = {name: rss_mib(proc) for name, proc in procs.items()}
        per_round = max(1, args.requests // args.rounds)
        lat: dict[str, list[float]] = {name: [] for name in targets}
        elapsed: dict[str, float] = dict.fromkeys(targets, 0.0)
        for _ in range(args.rounds):
            for name, (url, keys_) in targets.items():
                t0 = time.perf_counter()
                lat[name] += asyncio.run(load(url, keys_, per_round, args.concurrency))
                elapsed[name] += time.perf_counter() - t0
        rss_end = {name: rss_mib(proc) for name, proc in procs.items()}
    finally:
        for proc in (ours, base, backend):
            proc.terminate()
            proc.wait(timeout=60)

    with sessions() as s:
        recorded = s.query(db.Usage).count() - before

    result = {
        name: {
            "requests": len(values),
            "p50_ms": 1000 * statistics.median(values),
            "p99_ms": 1000 * pct(values, 0.99),
            "rps": len(values) / elapsed[name],
            "rss_mib_after_warm_up": rss_warm[name],
            "rss_mib_after_load": rss_end[name],
        }
        for name, values in lat.items()
    }
    ratios = {
        "p50": result["plugin"]["p50_ms"] / result["master_key"]["p50_ms"],
        "p99": result["plugin"]["p99_ms"] / result["master_key"]["p99_ms"],
        "rps": result["plugin"]["rps"] / result["master_key"]["rps"],
    }
    over_direct = {
        name: {
            q: {
                "ratio": result[name][f"{q}_ms"] / result["direct"][f"{q}_ms"],
                "added_ms": result[name][f"{q}_ms"] - result["direct"][f"{q}_ms"],
            }
            for q in ("p50", "p99")
        }
        for name in ("plugin", "master_key")
    }
    print(
        f"concurrency {args.concurrency}, {args.requests} requests per target, "
        f"{args.rounds} alternating rounds, an HTTP backend that answers at once"
    )
    print(f"{'gateway':<12}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}{'RSS MiB':>16}")
    for name, r in result.items():
        print(
            f"{name:<12}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['rps']:>10.1f}"
            f"{r['rss_mib_after_warm_up']:>8.0f} ->{r['rss_mib_after_load']:>5.0f}"
        )
    print(
        f"{'ratio':<12}{ratios['p50']:>10.3f}{ratios['p99']:>10.3f}{ratios['rps']:>10.3f}"
        "   (plugin / master key; targets p50 <= 1.10, p99 <= 1.20, req/s >= 0.90)"
    )
    for name, by_q in over_direct.items():
        print(
            f"{name + ' / direct':<20}"
            + "".join(
                f"{q} {v['ratio']:.2f} x (+{v['added_ms']:.2f} ms)   " for q, v in by_q.items()
            )
        )
    print("RSS: after every key was used once -> after the load (direct: the backend's)")
    print(f"usage rows recorded by the plugin: {recorded} (warm-up included)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "result": result,
                "ratios": ratios,
                "over_direct": over_direct,
                "usage_rows": recorded,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
