"""Legitimate traffic during a flood of made-up keys: the same gateway (LiteLLM with our
gate, mock backend), measured in the same run, quiet and while other clients send
requests with random ``sk-maas-`` keys at a steady rate (each a key never seen).

    .venv/bin/python bench/unknown_keys.py [--requests 1000] [--concurrency 4]
        [--flooders 200] [--flood-rate 200] [--users 1000] [--rounds 5]

Prints p50 and p99 of the legitimate requests quiet and flooded, their ratios (target:
p99 flooded / quiet <= 1.20), the flood's rate and how it was answered, and how many
keys the gateway looked up in its database (``maas_gateway_key_lookups``): at most
``snapshot.KEY_LOOKUP_RATE`` a second after a burst of ``KEY_LOOKUP_BURST``, the rest
refused at once with a 503 and Retry-After (no query, no wait). Rounds alternate quiet and
flooded, so drift on a shared machine hits both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway_latency import load, pct, seed_database, start  # noqa: E402

from hub_service import db  # noqa: E402


async def flood(url: str, stop: asyncio.Event, flooders: int, rate: float, statuses):
    """Requests with made-up keys from ``flooders`` clients, ``rate`` a second in all,
    until ``stop``; their statuses counted in ``statuses``."""
    body = {"model": "bench-mock", "messages": [{"role": "user", "content": "hello"}]}
    every = flooders / rate
    limits = httpx.Limits(max_connections=flooders, max_keepalive_connections=flooders)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one():
            loop = asyncio.get_running_loop()
            next_at = loop.time()
            while not stop.is_set():
                headers = {"Authorization": f"Bearer sk-maas-{secrets.token_urlsafe(32)}"}
                try:
                    r = await client.post(f"{url}/v1/chat/completions", json=body, headers=headers)
                    statuses[r.status_code] += 1
                except httpx.TransportError:  # a kept-alive connection the server closed
                    statuses["connection closed"] += 1
                next_at += every
                await asyncio.sleep(max(0.0, next_at - loop.time()))

        await asyncio.gather(*(one() for _ in range(flooders)))


def flood_process(url: str, flooders: int, rate: float, out: Path) -> subprocess.Popen:
    """The flood in a process of its own (its event loop must not delay the measured
    requests'), until terminated; it writes its answers' statuses to ``out``."""
    return subprocess.Popen(
        [sys.executable, __file__, "--flood-only", url, str(flooders), str(rate), str(out)]
    )


def run_flood(url: str, flooders: int, rate: float, out: Path) -> None:
    statuses: collections.Counter = collections.Counter()
    stop = asyncio.Event()

    def finish(*_):
        stop.set()

    async def go():
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, finish)
        await flood(url, stop, flooders, rate, statuses)

    asyncio.run(go())
    out.write_text(json.dumps(statuses))


def flooded_load(url, keys_, n, concurrency, flooders, rate, statuses, work) -> list[float]:
    out = work / f"flood-{time.monotonic_ns()}.json"
    proc = flood_process(url, flooders, rate, out)
    time.sleep(1.0)  # the flood is on before the measured requests start
    try:
        return asyncio.run(load(url, keys_, n, concurrency))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        statuses.update(json.loads(out.read_text()))


def lookups(url: str, token: str) -> dict[str, float]:
    """The gateway's counts of keys not in memory, by what became of them (a database
    query each for found and unknown)."""
    text = httpx.get(
        f"{url}/maas/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).text
    series = r'^maas_gateway_key_lookups_total\{result="(\w+)"\} (\S+)$'
    return {m[1]: float(m[2]) for m in re.finditer(series, text, re.M)}


def main() -> int:
    if sys.argv[1:2] == ["--flood-only"]:
        url, flooders, rate, out = sys.argv[2:6]
        run_flood(url, int(flooders), float(rate), Path(out))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="legitimate, per phase")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--flooders",
        type=int,
        default=200,
        help="clients sending random keys (a refused key may wait for a refresh)",
    )
    parser.add_argument("--flood-rate", type=float, default=200.0, help="their requests/s")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="bench/results/unknown_keys.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="maas-bench-"))
    db_url = f"sqlite:///{work / 'maas.sqlite'}"
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    maas_keys = seed_database(db.make_session_factory(engine), args.users, 5, 2, 0, 1)
    metrics_token = secrets.token_hex(16)
    proc, url = start(db_url, True, work / "gateway.log", {"MAAS_METRICS_TOKEN": metrics_token})
    try:
        asyncio.run(load(url, maas_keys, max(50, len(maas_keys)), args.concurrency))  # warm
        before = lookups(url, metrics_token)
        per_round = max(1, args.requests // args.rounds)
        lat: dict[str, list[float]] = {"quiet": [], "flooded": []}
        statuses: collections.Counter = collections.Counter()
        flood_seconds = 0.0
        for _ in range(args.rounds):
            lat["quiet"] += asyncio.run(load(url, maas_keys, per_round, args.concurrency))
            t0 = time.perf_counter()
            lat["flooded"] += flooded_load(
                url,
                maas_keys,
                per_round,
                args.concurrency,
                args.flooders,
                args.flood_rate,
                statuses,
                work,
            )
            flood_seconds += time.perf_counter() - t0
        after = lookups(url, metrics_token)
    finally:
        proc.terminate()
        proc.wait(timeout=60)

    result = {
        phase: {"p50_ms": 1000 * statistics.median(v), "p99_ms": 1000 * pct(v, 0.99)}
        for phase, v in lat.items()
    }
    ratios = {q: result["flooded"][f"{q}_ms"] / result["quiet"][f"{q}_ms"] for q in ("p50", "p99")}
    sent = sum(statuses.values())
    looked_up = {k: after.get(k, 0) - before.get(k, 0) for k in ("found", "unknown", "busy")}
    print(
        f"{args.requests} legitimate requests per phase at concurrency {args.concurrency}, "
        f"{args.rounds} alternating rounds, {args.users} users' keys, mock backend"
    )
    print(f"{'phase':<10}{'p50 ms':>10}{'p99 ms':>10}")
    for phase, r in result.items():
        print(f"{phase:<10}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}")
    print(
        f"flood: {sent} requests with made-up keys from {args.flooders} clients, "
        f"{sent / flood_seconds:.0f}/s, answered {dict(sorted(statuses.items()))}"
    )
    print(
        f"keys not in memory during the rounds: {looked_up['unknown']:.0f} unknown and "
        f"{looked_up['found']:.0f} found (a query each), {looked_up['busy']:.0f} refused "
        "for now (503, no query)"
    )
    print(
        f"{'ratio':<10}{ratios['p50']:>10.3f}{ratios['p99']:>10.3f}"
        "   (flooded / quiet; target p99 <= 1.20)"
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {"result": result, "ratios": ratios, "flood": dict(statuses), "lookups": looked_up},
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
