"""The lecture-hall benches run, small (their full runs are not part of CI: see
docs/benchmarks.md): each finishes, meets its target at this size, and prints its
figures last, as a person re-running it reads them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(script: str, *args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_class_start_runs_small(tmp_path):
    out = tmp_path / "class_start.json"
    printed = run(
        "class_start.py",
        *("--students", "6", "--within", "3", "--burst", "5", "--start-delay", "0.2"),
        *("--only", "registered/sqlite", "--out", str(out)),
    )
    result = json.loads(out.read_text())["registered/sqlite"]
    assert result["class_start"]["errors"] == 0 and result["personal_burst"]["keys_errors"] == 0
    assert result["class_start"]["key_p99_ms"] <= 250
    assert printed.strip().splitlines()[-1].startswith("registered class start p99")


def test_usage_scale_runs_small(tmp_path):
    out = tmp_path / "usage_scale.json"
    printed = run(
        "usage_scale.py", "--rows", "20000", "--days", "10", "--runs", "1", "--out", str(out)
    )
    result = json.loads(out.read_text())
    assert set(result["answers"]) >= {"usage page, 90 days", "team roster", "chargeback by group"}
    assert all(a["p95_ms"] <= 500 for a in result["answers"].values())  # at this size
    assert printed.strip().splitlines()[-1].startswith("target: every answer's p95 <= 500 ms")
