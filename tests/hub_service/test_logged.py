"""The local demo's process wrapper: output to the process's own log, and how it ended
(the launcher reads this to say which process failed)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys


def run_logged(log, code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "hub_service.local.logged",
            str(log),
            "--",
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        timeout=60,
    )


def test_a_process_killed_by_sigill_is_named_with_its_signal(tmp_path):
    log = tmp_path / "logs" / "smollm2.log"
    r = run_logged(log, "import os, signal; print('loading'); os.kill(os.getpid(), signal.SIGILL)")
    assert r.returncode == 128 + signal.SIGILL
    ended = json.loads((tmp_path / "logs" / "smollm2.log.exit").read_text())
    assert ended["how"] == "was killed by SIGILL (illegal instruction)"
    assert ended["returncode"] == -signal.SIGILL
    text = log.read_text()
    assert text.startswith("loading") and "was killed by SIGILL" in text


def test_an_exit_status_and_the_output_are_kept(tmp_path):
    log = tmp_path / "server-{user}-{server}.log"
    r = subprocess.run(
        [
            sys.executable, "-m", "hub_service.local.logged", str(log), "--",
            sys.executable, "-c", "import sys; print('bye'); sys.exit(3)",
        ],
        capture_output=True,
        timeout=60,
        env={"JUPYTERHUB_USER": "ann", "JUPYTERHUB_SERVER_NAME": ""},
    )  # fmt: skip
    assert r.returncode == 3 and r.stdout == b""
    written = tmp_path / "server-ann-default.log"
    assert written.read_text().startswith("bye") and "exited with status 3" in written.read_text()
