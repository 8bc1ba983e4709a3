"""The local demo's launcher (``python -m hub_service.local``), each test with a stack of
its own: however it is asked to stop, nothing is left running; when the model cannot
answer, it says which process failed and how, instead of saying it runs."""

from __future__ import annotations

import signal
import time

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
