"""The local demo's launcher (``python -m hub_service.local``), each test with a stack of
its own: however it is asked to stop, and whatever happened to its console, nothing is
left running; when the model cannot answer, it says which process failed and how,
instead of saying it runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from hubclient import HubUser
from localstack import launch, start

PASSWORD = "launcher-test-password"


def tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def stopped(processes: list[psutil.Process], timeout: float = 90) -> list[int]:
    """The pids still alive after ``timeout`` (the processes are then killed)."""
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    for p in alive:
        p.kill()
    return [p.pid for p in alive]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_the_hub_its_services_and_servers(tmp_path, log_dir, signum):
    name = signal.Signals(signum).name
    stack = launch(tmp_path, log_dir / f"launcher-{name}.log", PASSWORD)
    user = HubUser(stack["hub_url"], "tess", PASSWORD).login()
    user.start_server()
    processes = tree(stack["proc"].pid)
    commands = " ".join(" ".join(p.cmdline()) for p in processes)
    assert "jupyterhub-singleuser" in commands and "llama_cpp.server" in commands
    stack["proc"].send_signal(signum)  # the launcher alone, as `kill` would
    assert stack["proc"].wait(timeout=90) == 0
    assert stopped(processes, timeout=10) == []
    assert f"Stopping (signal {name})" in stack["log_path"].read_text()


# Copies the launcher's console (a path, or an inherited file descriptor) to a log until
# the launcher says it is running, then exits: the console is gone.
READER = """
import sys
console = sys.argv[1]
with open(int(console) if console.isdigit() else console, "rb") as console:
    with open(sys.argv[2], "wb") as log:
        try:
            for line in console:
                log.write(line)
                log.flush()
                if b"is running at" in line:
                    break
        except OSError:  # a terminal whose other end closed
            pass
"""


def console_that_goes(kind: str, tmp_path, log) -> tuple[Path, subprocess.Popen]:
    """A console for the launcher (the path ``start`` opens for its output) and the
    process that reads it and exits once the demo runs. ``pipe``: a pipe (a FIFO), its
    reader gone as ``| tee`` is after Ctrl-C (EPIPE). ``terminal``: a pseudo-terminal,
    closed as a terminal window is (EIO)."""
    if kind == "pipe":
        path = tmp_path / "console"
        os.mkfifo(path)
        return path, subprocess.Popen([sys.executable, "-c", READER, str(path), str(log)])
    terminal, end = os.openpty()
    path = Path(os.ttyname(end))
    os.close(end)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(terminal), str(log)], pass_fds=[terminal]
    )
    os.close(terminal)  # the reader holds the terminal's only handle
    return path, reader


@pytest.mark.parametrize(
    ("kind", "signum"),
    [("pipe", signal.SIGINT), ("terminal", signal.SIGHUP)],
    ids=["pipe-SIGINT", "terminal-SIGHUP"],
)
def test_a_console_that_is_gone_does_not_keep_anything_running(tmp_path, log_dir, kind, signum):
    """`bash scripts/local.sh | tee run.log` and Ctrl-C (tee ends first, and the SIGINT
    reaches the launcher's whole process group, as a terminal sends it), or a terminal
    closed (SIGHUP, to the launcher): the console goes once the demo runs, a user's
    server starts (the hub's lines find no console), then the signal comes: everything
    stops, the launcher too, with status 0."""
    log = log_dir / f"launcher-{kind}-{signal.Signals(signum).name}.log"
    console, reader = console_that_goes(kind, tmp_path, log)
    stack = start(tmp_path / "state", console, PASSWORD)
    processes: list[psutil.Process] = []
    try:
        reader.wait(timeout=300)
        assert "is running at" in log.read_text(), "the launcher did not start"
        HubUser(stack["hub_url"], "pat", PASSWORD).login().start_server()
        processes = tree(stack["proc"].pid)
        commands = " ".join(" ".join(p.cmdline()) for p in processes)
        for started in ("jupyterhub-singleuser", "configurable-http-proxy", "llama_cpp.server"):
            assert started in commands
        if signum == signal.SIGINT:
            os.killpg(stack["proc"].pid, signum)  # Ctrl-C: the foreground group
        else:
            stack["proc"].send_signal(signum)
        assert stack["proc"].wait(timeout=90) == 0
        assert stopped(processes, timeout=10) == []
    finally:  # after a failure, nothing is left running for the next test
        reader.kill()
        if stack["proc"].poll() is None:
            processes = processes or tree(stack["proc"].pid)
            stack["proc"].kill()
        stopped(processes, timeout=0)


def test_processes_orphaned_by_a_dead_hub_are_stopped_too(tmp_path, log_dir):
    """The hub is killed outright (it stops nothing); the launcher, their subreaper,
    still stops its services on SIGTERM."""
    stack = launch(tmp_path, log_dir / "launcher-orphans.log", PASSWORD)
    processes = tree(stack["proc"].pid)
    [hub] = [p for p in processes if p.cmdline()[1:2] and p.cmdline()[1].endswith("/jupyterhub")]
    hub.kill()
    hub.wait(timeout=30)
    stack["proc"].send_signal(signal.SIGTERM)
    stack["proc"].wait(timeout=90)
    assert stopped(processes, timeout=10) == []
    assert "process(es) the hub left behind" in stack["log_path"].read_text()


def test_a_model_that_cannot_start_is_named_and_nothing_runs_on(tmp_path, log_dir):
    log = log_dir / "launcher-broken-model.log"
    stack = start(tmp_path, log, PASSWORD, MAAS_LOCAL_MODEL_FILE=str(tmp_path / "none.gguf"))
    deadline = time.monotonic() + 240
    processes: list[psutil.Process] = []
    while stack["proc"].poll() is None:
        assert time.monotonic() < deadline, "the launcher neither failed nor started"
        try:
            processes = tree(stack["proc"].pid)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.5)
    stack["proc"].wait(timeout=60)
    output = log.read_text()
    assert stack["proc"].returncode == 1
    assert "is running at" not in output
    assert "The local MaaS did not start: SmolLM2 (llama_cpp.server) stopped" in output
    assert "SmolLM2 (llama_cpp.server) exited with status 1." in output
    assert f"Each process's log is in {tmp_path}/logs/" in output
    assert stopped(processes, timeout=10) == []
