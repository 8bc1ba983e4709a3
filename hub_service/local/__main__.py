"""Run the local demo: ``python -m hub_service.local [--debug]``.

The hub starts the MaaS service, the gateway and SmolLM2 as managed services, each
with its output in its own file under ``<state>/logs/`` (servers too). The console
shows the hub's lines and ours; ``--debug`` shows every process's output there as well.

Before saying it is running, the launcher asks SmolLM2 one real question through the
gateway; if no answer comes, it says which process failed and how, and stops.

SIGINT (Ctrl-C), SIGTERM and SIGHUP (a closed terminal) all stop everything: the hub is
asked to stop its services and proxy, then the servers it leaves running, and anything
else left (the launcher is the subreaper of them all, so orphans come back to it), are
terminated. So does any error of the launcher's own. A console that goes away (``| tee``
stopped by the same Ctrl-C, a closed terminal) only stops the output to it: the logs go
on, and the stop still happens. A hub that ends on its own while the demo runs (an admin
restarting it) is started again and takes its running servers back.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import HERE, LocalSettings, kept_secret
from .logged import describe, echo

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_CHILD_SUBREAPER = 36
# The local processes and what to do when one fails to start or dies.
PROCESSES = {
    "smollm2": (
        "SmolLM2 (llama_cpp.server)",
        "If it was killed by SIGILL, llama-cpp-python was built for another CPU: rebuild "
        "it with `rm .venv/.stamp-llama && bash scripts/setup.sh` (a portable build).",
    ),
    "maas-gateway": ("the MaaS gateway (LiteLLM)", "Its log says why."),
    "maas": ("the MaaS service", "Its log says why."),
}


class Stop(Exception):
    """A stop signal arrived, or the hub ended."""


class Failed(Exception):
    """A process died while the demo was starting."""


def shared_password(state_dir: Path) -> str:
    """The demo's shared password: $MAAS_LOCAL_PASSWORD, else one kept in the state dir."""
    return kept_secret(state_dir, "password", "MAAS_LOCAL_PASSWORD")


def become_subreaper() -> None:
    """Orphaned descendants (a server whose hub died, say) become our children, so
    they can be found and stopped at the end (Linux; elsewhere nothing happens)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def children() -> list[int]:
    """This process's children (from /proc)."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:
            found.append(int(entry.name))
    return found


def stop_leftovers(grace: float = 10.0) -> list[int]:
    """Terminate every remaining descendant (they are our children as subreaper),
    then kill what is still there; return the pids that were left."""
    left: list[int] = []
    deadline = time.monotonic() + grace
    while pids := children():
        for pid in pids:
            if pid not in left:
                left.append(pid)
            sig = signal.SIGTERM if time.monotonic() < deadline else signal.SIGKILL
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
        while True:  # reap
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
    return left


class Console(threading.Thread):
    """Copies the hub's output to ``logs/hub.log``, and to the console unless it is
    the proxy's routine chatter (everything, with --debug). It reads on when the console
    has gone, or the hub would block on a full pipe."""

    def __init__(self, stream, path: Path, debug: bool):
        super().__init__(name="hub-output", daemon=True)
        self.stream, self.path, self.debug = stream, path, debug

    def run(self) -> None:
        with open(self.path, "ab") as log:
            for line in iter(self.stream.readline, b""):
                log.write(line)
                log.flush()
                if self.debug or b"[ConfigProxy]" not in line:
                    echo(line)


class Launcher:
    def __init__(self, settings: LocalSettings, debug: bool):
        self.settings = settings
        self.debug = debug
        self.logs = settings.state_dir / "logs"
        self.signal: int | None = None
        self.hub: subprocess.Popen | None = None
        self.starting = True
        self.env: dict = {}

    # -- waiting, interruptibly --------------------------------------------------

    def on_signal(self, signum, _frame) -> None:
        self.signal = signum

    def until(self, condition, timeout: float, what: str) -> bool:
        """Poll ``condition`` until it holds (True) or ``timeout`` passes (False);
        raise Stop when a stop signal arrives or the hub ends, Failed when one of the
        processes dies while we wait."""
        deadline = time.monotonic() + timeout
        while True:
            if self.signal is not None or self.hub.poll() is not None:
                raise Stop(what)
            for name, (process, _) in PROCESSES.items():
                if self.starting and (self.logs / f"{name}.log.exit").exists():
                    raise Failed(f"{process} stopped while the demo was starting.")
            if condition():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.3)

    # -- the run -------------------------------------------------------------------

    def start_hub(self, env: dict) -> None:
        bindir = Path(sys.executable).parent
        argv = [str(bindir / "jupyterhub"), "-f", str(HERE / "jupyterhub_config.py")]
        if self.debug:
            argv.append("--debug")
        self.hub = subprocess.Popen(  # noqa: S603 - the hub of this environment
            argv,
            cwd=self.settings.state_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the terminal's Ctrl-C reaches us, and we pass it on
        )
        Console(self.hub.stdout, self.logs / "hub.log", self.debug).start()

    def wait_until_ready(self, url: str) -> str | None:
        """None once a real answer came through the gateway, else what went wrong."""
        s = self.settings
        service = f"{s.service_url}/services/maas/api/v1/health"
        for check, timeout, what in (
            (lambda: answers(f"http://127.0.0.1:{s.hub_api_port}/hub/health"), 120, "the hub"),
            (lambda: answers(service), 120, "the MaaS service"),
            (lambda: answers(f"{s.gateway_url}/health/liveliness"), 180, "the MaaS gateway"),
            (lambda: answers(f"{url}/hub/health"), 60, "the hub's proxy"),
        ):
            if not self.until(check, timeout, what):
                return f"{what} did not start within {timeout} s."
        return self.self_test()

    def self_test(self) -> str | None:
        """One real completion through the gateway, with a two-minute personal key of
        the hub's ``admin`` (revoked at once)."""
        key, key_id = issue_selftest_key(self.settings.db_url)
        if key is None:
            return None  # no profile allows SmolLM2: nothing to test
        last = ""

        def answered() -> bool:
            nonlocal last
            status, last = complete(self.settings.gateway_url, key)
            return status == 200

        try:
            if self.until(answered, 180, "SmolLM2"):
                return None
            return f"SmolLM2 gave no answer through the gateway within 180 s: {last}"
        finally:
            revoke(self.settings.db_url, key_id)

    def diagnose(self, problem: str) -> str:
        lines = [f"  The local MaaS did not start: {problem}"]
        for name, (what, advice) in PROCESSES.items():
            status = self.logs / f"{name}.log.exit"
            if status.exists():
                ended = json.loads(status.read_text())
                lines.append(f"  {what} {ended['how']}. {advice}")
        lines.append(f"  Each process's log is in {self.logs}/.")
        return "\n".join(lines)

    def run(self) -> int:
        s = self.settings
        for sig in STOP_SIGNALS:
            signal.signal(sig, self.on_signal)
        become_subreaper()
        self.logs.mkdir(parents=True, exist_ok=True)
        for stale in self.logs.glob("*.exit"):
            stale.unlink()
        bindir = Path(sys.executable).parent
        env = os.environ.copy()
        env["MAAS_LOCAL_STATE_DIR"] = str(s.state_dir)
        env["MAAS_LOCAL_PASSWORD"] = password = shared_password(s.state_dir)
        # the gateway's /maas/metrics answers the bearer of this token
        env["MAAS_METRICS_TOKEN"] = kept_secret(
            s.state_dir, "metrics-token", "MAAS_METRICS_TOKEN", 24
        )
        env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
        env["MAAS_LOCAL_DEBUG"] = "1" if self.debug else ""
        self.env = env
        url = f"http://127.0.0.1:{s.hub_port}"
        say(f"Starting JupyterHub with the MaaS service, gateway and SmolLM2 (logs: {self.logs}/)")
        code = 1
        try:
            self.start_hub(env)
            code = self.serve(url, password)
        finally:
            # whatever ended the run, a signal, a failure or an error of ours
            self.shutdown()
        return code

    def serve(self, url: str, password: str) -> int:
        """Start, say so, and run until a stop signal; the launcher's exit status."""
        try:
            try:
                problem = self.wait_until_ready(url)
            except Failed as e:
                problem = str(e)
            if problem is not None:
                say(self.diagnose(problem))
                return 1
            say(
                f"\n  JupyterHub with Model-as-a-Service is running at {url}\n"
                f"  Log in with any user name and the password: {password}\n"
                "  (user 'admin' is a hub admin). In a notebook, OpenAI() just works:\n"
                "  from openai import OpenAI; OpenAI().chat.completions.create("
                'model="smollm2-135m", ...)\n'
                f"  Logs: {self.logs}/ (hub.log, maas.log, maas-gateway.log, smollm2.log, "
                "server-<user>-<server>.log)\n"
                "  Press Ctrl-C to stop everything.\n"
            )
            self.starting = False
            self.supervise()
        except Stop:
            pass
        return self.hub.poll() or 0

    def supervise(self) -> None:
        """Run until a stop signal; a hub that ends on its own (an admin restarting it)
        is started again: its servers keep running and it takes them back. Three ends
        in five minutes, and everything stops."""
        ends: list[float] = []
        while True:
            try:
                self.until(lambda: False, float("inf"), "running")
            except Stop:
                if self.signal is not None:
                    raise
            now = time.monotonic()
            ends = [t for t in ends if now - t < 300] + [now]
            if len(ends) >= 3:
                say("  The hub stopped three times in five minutes; stopping everything.")
                raise Stop("the hub keeps stopping")
            say(f"  The hub {describe(self.hub.returncode)}; starting it again.")
            self.start_hub(self.env)

    def shutdown(self) -> None:
        """Stop the hub (it stops its services and proxy), then whatever is left: the
        servers it leaves running, orphans of a hub that died."""
        if self.signal is not None:
            say(f"Stopping (signal {signal.Signals(self.signal).name})...")
        if self.hub is not None and self.hub.poll() is None:
            self.hub.send_signal(signal.SIGTERM)
            try:
                self.hub.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.hub.kill()
                self.hub.wait()
        left = stop_leftovers()
        if left:
            say(f"Stopped {len(left)} process(es) the hub left behind.")


def say(text: str) -> None:
    """A line on the console, if there still is one."""
    echo(f"{text}\n".encode())


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our loopback URLs
            return True
    except OSError:
        return False


def complete(gateway_url: str, key: str) -> tuple[int, str]:
    """(HTTP status, what it said) of a short completion through the gateway."""
    body = json.dumps(
        {
            "model": "smollm2-135m",
            "messages": [{"role": "user", "content": "Say hello."}],
            "max_tokens": 8,
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - our loopback URL
        f"{gateway_url}/v1/chat/completions",
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as r:  # noqa: S310
            return r.status, ""
    except urllib.error.HTTPError as e:
        try:
            message = json.loads(e.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = e.reason
        return e.code, f"HTTP {e.code}: {message}"
    except OSError as e:
        return 0, str(e)


def issue_selftest_key(db_url: str) -> tuple[str | None, str | None]:
    """A two-minute personal key of the hub's ``admin`` (a hub user, so the service
    does not take it for a deleted one) under a profile that allows SmolLM2, written
    into the service's database; (None, None) if no profile does."""
    from sqlalchemy import select

    from .. import catalog, db, keys

    engine = db.make_engine(db_url)
    try:
        with db.session_scope(db.make_session_factory(engine)) as session:
            profiles = session.scalars(select(db.Profile).order_by(db.Profile.id)).all()
            allowing = [p for p in profiles if catalog.entitled(p.models, "smollm2-135m")]
            if not allowing:
                return None, None
            row, key = keys.issue(
                session,
                user="admin",
                server_name=None,
                profile_slug=allowing[0].slug,
                name="local demo self-test",
                lifetime=dt.timedelta(minutes=2),
                now=db.utcnow(),
            )
            return key, row.id
    finally:
        engine.dispose()


def revoke(db_url: str, key_id: str) -> None:
    from .. import db, keys

    engine = db.make_engine(db_url)
    try:
        with db.session_scope(db.make_session_factory(engine)) as session:
            keys.revoke_where(
                session, (db.ApiKey.id == key_id,), reason="self-test done", now=db.utcnow()
            )
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--debug", action="store_true", help="show every process's output on the console"
    )
    args = parser.parse_args(argv)
    settings = LocalSettings.from_env()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    bindir = Path(sys.executable).parent
    if not (bindir / "configurable-http-proxy").exists() and not shutil.which(
        "configurable-http-proxy"
    ):
        print(
            "configurable-http-proxy is missing: run scripts/local.sh, or "
            f"npm install -g --prefix {bindir.parent} configurable-http-proxy",
            file=sys.stderr,
        )
        return 2
    return Launcher(settings, args.debug).run()


if __name__ == "__main__":
    sys.exit(main())
