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


def test_a_console_that_goes_stops_the_copy_not_the_process_or_its_log(tmp_path):
    """--tee into a pipe whose reader leaves (EPIPE): the process runs on to its end,
    everything reaches the log, and how it ended is noted."""
    log = tmp_path / "maas.log"
    code = (
        "import sys; print('first', flush=True); sys.stdin.readline()\n"
        "for i in range(2000): print('line', i, flush=True)\n"
        "sys.exit(3)"
    )
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "hub_service.local.logged", "--tee", str(log), "--",
            sys.executable, "-c", code,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout.readline() == b"first\n"
    proc.stdout.close()  # the console goes
    proc.stdin.write(b"go on\n")
    proc.stdin.close()
    assert proc.wait(timeout=60) == 3
    text = log.read_text()
    assert "line 1999\n" in text and "exited with status 3" in text
    assert json.loads((tmp_path / "maas.log.exit").read_text())["returncode"] == 3
