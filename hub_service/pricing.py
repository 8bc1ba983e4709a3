"""Pricing self-hosted models: per-token prices from what an instance costs.

Two methods:

- **seed**: a rule of thumb from the hourly price,
  ``cost per 1M tokens = hourly / (tok/s x 3600) x 1e6``, split 25 % input / 75 % output,
  optionally at the spot factor. The total and the input share are rounded to the cent,
  the output is the rest of the total.
- **measured**: benchmark a live OpenAI-compatible endpoint with streaming at several
  concurrency levels. Prefill throughput = prompt tokens over time to first token,
  decode throughput = completion tokens over generation time, each summed over the
  requests running at once. A token then costs the machine time it takes:
  ``input = hourly / 3600 / utilisation / prefill tok/s`` and
  ``output = hourly / 3600 / utilisation / decode tok/s`` at the best level.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from importlib.resources import files
from pathlib import Path

CENT = Decimal("0.01")


def load_instance_prices(path: str | Path | None = None) -> dict:
    """The instance price table: ours (with its date) or one given as a JSON file of the
    same shape."""
    text = (
        Path(path).read_text()
        if path
        else files("hub_service").joinpath("data/instance_prices.json").read_text()
    )
    data = json.loads(text)
    if "instances" not in data:
        raise ValueError("an instance price file needs an 'instances' object")
    return data


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Prices:
    total_per_million: Decimal
    input_per_million: Decimal
    output_per_million: Decimal

    @property
    def input_cost_per_token(self) -> float:
        return float(self.input_per_million / Decimal(1_000_000))

    @property
    def output_cost_per_token(self) -> float:
        return float(self.output_per_million / Decimal(1_000_000))


def seed_prices(
    hourly: float,
    tokens_per_second: float,
    input_share: float = 0.25,
    spot_factor: float | None = None,
) -> Prices:
    """The seed method's prices: the total and the input share to the cent, the output
    the rest of the total."""
    if hourly <= 0 or tokens_per_second <= 0:
        raise ValueError("hourly cost and throughput must be positive")
    if not 0 < input_share < 1:
        raise ValueError("the input share must be between 0 and 1")
    cost = Decimal(str(hourly))
    if spot_factor is not None:
        cost *= Decimal(str(spot_factor))
    total = cost / (Decimal(str(tokens_per_second)) * 3600) * 1_000_000
    input_part = _cents(total * Decimal(str(input_share)))
    total = _cents(total)
    return Prices(total, input_part, total - input_part)


@dataclass(frozen=True)
class LevelResult:
    concurrency: int
    requests: int
    prompt_tokens: int
    completion_tokens: int
    ttft_s: float  # median time to first token
    prefill_tps: float  # aggregate over concurrent requests
    decode_tps: float
    wall_s: float


async def _one_request(
    client, url, headers, model, prompt, max_tokens
) -> tuple[int, int, float, float]:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    t0 = time.perf_counter()
    first = last = None
    chunks = 0
    usage = None
    async with client.stream("POST", url, json=body, headers=headers) as r:
        if r.status_code != 200:
            text = (await r.aread()).decode(errors="replace")[:300]
            raise RuntimeError(f"the endpoint answered HTTP {r.status_code}: {text}")
        async for line in r.aiter_lines():
            if not line.startswith("data: ") or line.strip() == "data: [DONE]":
                continue
            data = json.loads(line[6:])
            if data.get("usage"):
                usage = data["usage"]
            for choice in data.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    now = time.perf_counter()
                    first = first or now
                    last = now
                    chunks += 1
    if first is None:
        raise RuntimeError("the endpoint streamed no content")
    prompt = int((usage or {}).get("prompt_tokens") or 0)
    completion = int((usage or {}).get("completion_tokens") or chunks)
    if not prompt:
        prompt = max(1, len(prompt_text_tokens(body)))
    return prompt, completion, first - t0, max(last - first, 1e-6)


def prompt_text_tokens(body: dict) -> list[str]:
    """A rough token count when the server reports no usage: words and punctuation."""
    return " ".join(m["content"] for m in body["messages"]).split()


DEFAULT_PROMPT = (
    "You are helping a data scientist. Explain in a few sentences what a confusion "
    "matrix is, how precision and recall are read from it, and when accuracy misleads."
)


async def measure(
    base_url: str,
    model: str,
    api_key: str = "none",
    concurrency: tuple[int, ...] = (1, 2, 4),
    requests_per_level: int = 8,
    max_tokens: int = 128,
    prompt: str = DEFAULT_PROMPT,
) -> list[LevelResult]:
    """Stream ``requests_per_level`` completions at each concurrency level."""
    import httpx

    url = base_url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {api_key}"}
    results = []
    async with httpx.AsyncClient(timeout=600) as client:
        await _one_request(client, url, headers, model, prompt, 8)  # warm up
        for level in concurrency:
            done: list[tuple[int, int, float, float]] = []
            pending = list(range(requests_per_level))

            async def worker(pending: list, done: list):
                while pending:
                    pending.pop()
                    done.append(await _one_request(client, url, headers, model, prompt, max_tokens))

            t0 = time.perf_counter()
            await asyncio.gather(*(worker(pending, done) for _ in range(level)))
            wall = time.perf_counter() - t0
            prompt_tokens = sum(d[0] for d in done)
            completion_tokens = sum(d[1] for d in done)
            # per-request rates, times the number of requests in flight together
            prefill = statistics.median(d[0] / d[2] for d in done) * level
            decode = completion_tokens / wall
            results.append(
                LevelResult(
                    concurrency=level,
                    requests=len(done),
                    prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens,
                    ttft_s=statistics.median(d[2] for d in done),
                    prefill_tps=prefill,
                    decode_tps=decode,
                    wall_s=wall,
                )
            )
    return results


def measured_prices(
    results: list[LevelResult], hourly: float, utilisation: float = 0.6
) -> tuple[LevelResult, float, float]:
    """Per-token input and output prices from the level with the best decode rate."""
    if not 0 < utilisation <= 1:
        raise ValueError("utilisation must be in (0, 1]")
    best = max(results, key=lambda r: r.decode_tps)
    per_second = hourly / 3600 / utilisation
    return best, per_second / best.prefill_tps, per_second / best.decode_tps
