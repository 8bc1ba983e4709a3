"""Fault injection on the real local stack: the model killed mid-stream, the gateway
killed under load, the MaaS service stopped, the hub restarted. Each part fails alone
and comes back; what was promised keeps working.

The hub restarts a managed service that dies when it next polls it (every 30 s)."""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
import time

import psutil
import pytest
import requests
from hubclient import KernelError
from sqlalchemy.orm import sessionmaker
from waiting import until

from hub_service import db, keys
from hub_service.local import HERE

HUB_CONFIG = str(HERE / "jupyterhub_config.py")

RESTART = 90  # seconds a killed service may take to come back (the hub polls every 30 s)


def process(stack, *words: str) -> psutil.Process:
    """The stack's process whose command line holds ``words`` (or programs by that
    name), not our wrapper."""
    for p in psutil.Process(stack.proc.pid).children(recursive=True):
        try:
            cmdline = p.cmdline()
        except psutil.NoSuchProcess:
            continue
        if all(names(cmdline, w) for w in words) and not names(cmdline, "hub_service.local.logged"):
            return p
    raise LookupError(words)


def names(cmdline: list[str], word: str) -> bool:
    return any(c == word or c.endswith("/" + word) for c in cmdline)


@pytest.fixture(scope="module")
def sessions(stack):
    engine = db.make_engine(stack.db_url)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def personal_key(stack, sessions, user: str, profile: str = "gpu-ml-ai") -> str:
    """A key of a new hub user (signed in once), written into the stack's database as
    the service issues it."""
    stack.user(user)
    with db.session_scope(sessions) as s:
        _, key = keys.issue(
            s,
            user=user,
            server_name=None,
            profile_slug=profile,
            name="fault test",
            lifetime=dt.timedelta(hours=1),
            now=db.utcnow(),
        )
    return key


def test_the_model_killed_mid_stream_errors_fast_and_comes_back(stack, sessions):
    key = personal_key(stack, sessions, "faye")
    model = process(stack, "llama_cpp.server")
    r = requests.post(
        f"{stack.gateway_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "model": "smollm2-135m",
            "stream": True,
            "max_tokens": 1000,
            "messages": [{"role": "user", "content": "Write a long story about the sea."}],
        },
        stream=True,
        timeout=60,
    )
    lines = r.iter_lines()
    until(lambda: next(lines).startswith(b"data: {"), 60, "the first token")
    model.kill()  # kill -9, mid-stream
    killed = time.monotonic()
    rest = [line for line in lines if line.startswith(b"data: ")]
    assert time.monotonic() - killed < 10, "the stream did not end promptly"
    assert any(b'"error"' in line for line in rest[-2:]), rest[-2:]
    assert stack.chat(key, model="echo-large").status_code == 200  # others still answer
    until(lambda: stack.chat(key).status_code == 200, RESTART, "SmolLM2's restart")
    assert process(stack, "llama_cpp.server").pid != model.pid


def test_the_gateway_killed_under_load_keeps_every_finished_requests_usage(stack, sessions):
    user = "gwen"
    key = personal_key(stack, sessions, user)
    done: list[tuple[float, int]] = []
    stop = threading.Event()

    def load():
        with requests.Session() as http:
            while not stop.is_set():
                try:
                    r = http.post(
                        f"{stack.gateway_url}/v1/chat/completions",
                        headers={"Authorization": f"Bearer {key}"},
                        json={
                            "model": "echo-large",
                            "messages": [{"role": "user", "content": "hi"}],
                        },
                        timeout=10,
                    )
                    done.append((time.monotonic(), r.status_code))
                except requests.RequestException:
                    time.sleep(0.2)  # the gateway is down: try again

    worker = threading.Thread(target=load)
    worker.start()
    try:
        until(lambda: len(done) > 10 and done[-1][0] - done[0][0] > 3, 60, "3 s of load")
        gateway = process(stack, "hub_service.gateway.run")
        gateway.kill()
        gateway.wait(timeout=10)
        killed = time.monotonic()
        until(
            lambda: process_or_none(stack, "hub_service.gateway.run", other_than=gateway.pid),
            RESTART,
            "the hub to restart the gateway",
        )
        back = time.monotonic()
        until(lambda: any(t > back and s == 200 for t, s in done), 60, "the new gateway")
    finally:
        stop.set()
        worker.join(timeout=30)
    finished = sum(1 for t, s in done if s == 200 and t <= killed - 1)
    rows = until(lambda: len(r := stack.usage_rows(user)) >= finished and r, 30, "the rows")
    assert len(rows) >= finished > 0


def test_a_stopped_service_keeps_the_gateway_and_servers_going(stack, sessions):
    """The service is frozen (SIGSTOP): known keys still work, a server still starts,
    and the key of a server stopped in the meantime is revoked within 10 s of the
    service's return (server keys live 20 s in this stack, so it may expire first)."""
    hana = stack.user("hana-f")
    hana.start_server()
    hana.kernel = hana.start_kernel()
    key = hana.execute(hana.kernel, "import os; print(os.environ['OPENAI_API_KEY'])").strip()
    stack.issued_keys.append(key)
    service = process(stack, "hub_service", "--config")
    service.send_signal(signal.SIGSTOP)
    try:
        assert stack.chat(key).status_code == 200
        ivy = stack.user("ivy-f")
        ivy.start_server()  # the lab extension retries in the background
        status = ivy.server_api("GET", "jupyterlab-maas/status").json()
        assert status["state"] != "ready"
        hana.stop_server()  # nobody can revoke its key now
    finally:
        service.send_signal(signal.SIGCONT)
    back = time.monotonic()

    def revoked():
        r = stack.chat(key)
        return r.status_code == 401 and "revoked (server stopped)" in r.json()["error"]["message"]

    until(revoked, 10, "the revocation")
    assert time.monotonic() - back <= 10
    until(
        lambda: ivy.server_api("GET", "jupyterlab-maas/status").json()["state"] == "ready",
        120,
        "ivy's server to get its key",
    )


def test_a_restarted_hub_keeps_servers_keys_and_kernels(stack, sessions):
    jo = stack.user("jo-f")
    jo.start_server(profile="gpu-ml-ai")
    jo.kernel = jo.start_kernel()
    code = (
        "from openai import OpenAI\n"
        "print(OpenAI().chat.completions.create(model='echo-large', "
        "messages=[{'role': 'user', 'content': 'hi'}]).choices[0].message.content)"
    )
    assert jo.execute(jo.kernel, code).strip() == "echo"
    key = jo.execute(jo.kernel, "import os; print(os.environ['OPENAI_API_KEY'])").strip()
    stack.issued_keys.append(key)
    hub = process(stack, "-f", HUB_CONFIG)
    server = process(stack, "jupyterhub-singleuser")
    hub.send_signal(signal.SIGTERM)  # an admin restarting the hub
    hub.wait(timeout=60)
    until(lambda: process_or_none(stack, "-f", HUB_CONFIG, other_than=hub.pid), 60, "a new hub")
    until(lambda: hub_health(stack), 120, "the new hub")
    until(lambda: answers(f"{stack.gateway_url}/health/liveliness"), 120, "its services")
    assert server.is_running()  # the server was left running, and taken back
    # same kernel, same key: renewed by its server once the service is back, even if
    # it expired meanwhile (server keys live 20 s in this stack)
    until(lambda: works(jo, code), 90, "the kernel's key to work again")
    assert stack.chat(key, model="echo-large").status_code == 200
    assert json.loads(jo.hub_api("GET", "users/jo-f").text)["servers"][""]["ready"]


def works(user, code: str) -> bool:
    try:
        return user.execute(user.kernel, code).strip() == "echo"
    except KernelError:  # 401 while the key is expired
        return False


def process_or_none(stack, *words: str, other_than: int):
    try:
        found = process(stack, *words)
    except LookupError:
        return None
    return found if found.pid != other_than else None


def hub_health(stack) -> bool:
    return answers(f"{stack.hub_url}/hub/api/")


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).ok
    except requests.RequestException:
        return False
