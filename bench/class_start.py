"""A lecture starts: a class's servers start within a minute and each asks for its key;
then the class asks for personal keys all at once.

    .venv/bin/python bench/class_start.py [--students 300] [--within 60] [--burst 200]

A real JupyterHub (with configurable-http-proxy) runs the MaaS service, as
``bench/hub_load.py`` does: its spawner registers servers without processes (each
"starts" in ``--start-delay`` seconds, as a server's process takes a moment), so
hundreds fit on 2 cores. Two scenarios, each on SQLite and on PostgreSQL:

- **class start**: ``--students`` servers are started evenly over ``--within`` seconds
  through the hub's REST API; each, as soon as it runs, asks the service for its key
  with its own token, as the lab extension does. Reported: each key's latency (p50,
  p99), errors, and the hub's own API latency meanwhile (a probe asks it every 100 ms).
  Run twice: ``hub`` (the service asks the hub who each server's token is: before) and
  ``registered`` (the hub's pre-spawn hook told the service the token's hash: after).
- **personal-key burst**: ``--burst`` users, each with a hub token the service has never
  seen, ask for a personal key at the same moment. The floor is the hub's own token
  check, measured in the same run: as many fresh tokens of the same users, each sent
  once to ``GET /hub/api/user`` at the same moment. Reported: both, and their ratio.

Prints a table, the targets, and writes bench/results/class_start.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub_load import ROOT, Hub, pct  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from pg import PostgresServer  # noqa: E402


def summary(latencies: list[float]) -> dict:
    return {
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * pct(latencies, 0.99),
    }


async def probe(hub: Hub, stop: asyncio.Event, latencies: list[float]) -> None:
    """Ask the hub's API something every 100 ms until ``stop``: its responsiveness."""
    async with httpx.AsyncClient(timeout=60, headers=hub.headers) as http:
        while not stop.is_set():
            t0 = time.perf_counter()
            (await http.get(f"{hub.api}/users/u00000")).raise_for_status()
            latencies.append(time.perf_counter() - t0)
            await asyncio.sleep(0.1)


async def class_start(hub: Hub, students: int, within: float) -> dict:
    """Start ``students`` servers evenly over ``within`` seconds; each asks for its key
    as soon as it runs. (key latencies, errors, the hub's API latencies meanwhile)."""
    names = [f"u{i:05d}" for i in range(students)]
    latencies: list[float] = []
    hub_api: list[float] = []
    errors: list[str] = []
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=students + 10)
    async with (
        httpx.AsyncClient(timeout=300, headers=hub.headers) as admin,
        httpx.AsyncClient(timeout=60, limits=limits) as http,
    ):
        (await admin.post(f"{hub.api}/users", json={"usernames": names})).raise_for_status()
        watcher = asyncio.create_task(probe(hub, stop, hub_api))

        async def student(i: int, name: str) -> None:
            await asyncio.sleep(i * within / students)
            r = await admin.post(f"{hub.api}/users/{name}/server")
            if r.status_code not in (201, 202):
                errors.append(f"start {name}: HTTP {r.status_code}")
                return
            token_file = hub.tokens / name
            while not token_file.exists():  # the server runs once its token is written
                await asyncio.sleep(0.02)
            token = token_file.read_text()
            t0 = time.perf_counter()
            r = await http.post(
                f"{hub.service}/users/{name}/keys",
                json={"server_name": ""},
                headers={"Authorization": f"token {token}"},
            )
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 201:
                errors.append(f"key {name}: HTTP {r.status_code} {r.text[:160]}")

        t0 = time.monotonic()
        await asyncio.gather(*(student(i, n) for i, n in enumerate(names)))
        took = time.monotonic() - t0
        stop.set()
        await watcher
    if errors:
        print(f"  {len(errors)} error(s), the first: {errors[0]}")
    return {
        "students": students,
        "seconds": took,
        **{f"key_{k}": v for k, v in summary(latencies).items()},
        "errors": len(errors),
        **{f"hub_api_{k}": v for k, v in summary(hub_api).items()},
    }


async def personal_burst(hub: Hub, count: int) -> dict:
    """``count`` users with fresh tokens ask for a personal key at once; the floor: as
    many fresh tokens, each checked once by the hub at once."""
    names = [f"p{i:05d}" for i in range(count)]
    async with httpx.AsyncClient(timeout=300, headers=hub.headers) as admin:
        (await admin.post(f"{hub.api}/users", json={"usernames": names})).raise_for_status()

        async def fresh(name: str) -> str:
            r = await admin.post(f"{hub.api}/users/{name}/tokens", json={"note": "bench"})
            r.raise_for_status()
            return r.json()["token"]

        gate = asyncio.Semaphore(16)

        async def fresh_tokens() -> list[str]:
            async def one(name):
                async with gate:
                    return await fresh(name)

            return await asyncio.gather(*(one(n) for n in names))

        for_floor, for_keys = await fresh_tokens(), await fresh_tokens()
    limits = httpx.Limits(max_connections=count + 10)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:

        async def timed(coro) -> tuple[float, int]:
            t0 = time.perf_counter()
            r = await coro
            return time.perf_counter() - t0, r.status_code

        floor = await asyncio.gather(
            *(
                timed(http.get(f"{hub.api}/user", headers={"Authorization": f"token {t}"}))
                for t in for_floor
            )
        )
        burst = await asyncio.gather(
            *(
                timed(
                    http.post(
                        f"{hub.service}/users/{name}/keys",
                        json={"name": "bench"},
                        headers={"Authorization": f"token {token}"},
                    )
                )
                for name, token in zip(names, for_keys, strict=True)
            )
        )
    floor_s, burst_s = summary([t for t, _ in floor]), summary([t for t, _ in burst])
    return {
        "users": count,
        **{f"hub_floor_{k}": v for k, v in floor_s.items()},
        "hub_floor_errors": sum(code != 200 for _, code in floor),
        **{f"keys_{k}": v for k, v in burst_s.items()},
        "keys_errors": sum(code != 201 for _, code in burst),
        "p99_ratio": burst_s["p99_ms"] / floor_s["p99_ms"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--within", type=float, default=60.0, help="seconds the starts span")
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--start-delay", type=float, default=1.0, help="a server's start, s")
    parser.add_argument(
        "--only", default="", help="comma-separated runs (e.g. registered/sqlite); all if empty"
    )
    parser.add_argument("--out", default="bench/results/class_start.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="maas-class-start-"))
    results: dict = {}
    postgres = PostgresServer().start()
    try:
        runs = [
            ("hub/sqlite", f"sqlite:///{work / 'hub.sqlite'}", False),
            ("registered/sqlite", f"sqlite:///{work / 'registered.sqlite'}", True),
            ("hub/postgresql", postgres.create_database("classhub"), False),
            ("registered/postgresql", postgres.create_database("classreg"), True),
        ]
        only = [r for r in args.only.split(",") if r]
        for name, db_url, hooks in runs:
            if only and name not in only:
                continue
            hub = Hub(work / name.replace("/", "-"), db_url, hooks, 60.0, args.start_delay)
            try:
                started = asyncio.run(class_start(hub, args.students, args.within))
                burst = asyncio.run(personal_burst(hub, args.burst)) if hooks else None
            finally:
                hub.stop()
            results[name] = {"class_start": started, "personal_burst": burst}
            print(f"{name}: {json.dumps(results[name])}", flush=True)
    finally:
        postgres.stop()
    print(
        f"\nclass start: {args.students} servers over {args.within:.0f} s, each asking for "
        f"its key ({args.start_delay:g} s to start)"
    )
    print(f"{'run':<24}{'key p50 ms':>12}{'key p99 ms':>12}{'errors':>8}{'hub API p99 ms':>16}")
    for name, r in results.items():
        c = r["class_start"]
        print(
            f"{name:<24}{c['key_p50_ms']:>12.0f}{c['key_p99_ms']:>12.0f}{c['errors']:>8}"
            f"{c['hub_api_p99_ms']:>16.0f}"
        )
    print(f"\npersonal-key burst: {args.burst} users with fresh tokens at once")
    print(
        f"{'run':<24}{'hub floor p99':>14}{'keys p50':>10}{'keys p99':>10}{'errors':>8}{'ratio':>8}"
    )
    for name, r in results.items():
        b = r["personal_burst"]
        if b:
            print(
                f"{name:<24}{b['hub_floor_p99_ms']:>14.0f}{b['keys_p50_ms']:>10.0f}"
                f"{b['keys_p99_ms']:>10.0f}{b['keys_errors']:>8}{b['p99_ratio']:>8.2f}"
            )
    print("targets: class start key p99 <= 250 ms, 0 errors; burst p99 <= 1.2 x the floor's")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    worst = max(
        (r["class_start"]["key_p99_ms"] for n, r in results.items() if "registered" in n),
        default=float("nan"),
    )
    ratio = max(
        (r["personal_burst"]["p99_ratio"] for r in results.values() if r["personal_burst"]),
        default=float("nan"),
    )
    print(f"registered class start p99 {worst:.0f} ms; personal burst p99 ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
