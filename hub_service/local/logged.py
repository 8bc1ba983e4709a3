"""Run one of the local demo's processes with its output in its own log file, and note
how it ended.

    python -m hub_service.local.logged [--tee] LOG -- COMMAND [ARGS...]

``--tee`` copies the output to this process's own output too (the demo's --debug).
``LOG`` may name ``{user}`` and ``{server}`` (from ``JUPYTERHUB_USER`` and
``JUPYTERHUB_SERVER_NAME``, for single-user servers). The command's output is appended
to ``LOG``. SIGINT, SIGTERM and SIGHUP are passed on to it (the hub stops services and
servers with them). When it ends, a line saying how (exit status, or the signal that
killed it) is appended to the log and written to ``LOG.exit`` (JSON), where the
launcher reads it to say which process failed. A console that goes away (see ``echo``)
stops the copy, not the process or its log.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_ECHO = threading.Lock()


def echo(data: bytes) -> None:
    """Write ``data`` to this process's standard output, which may be a console that has
    gone: the reader of a pipe exited (EPIPE; Python ignores SIGPIPE and raises
    BrokenPipeError instead) or the terminal closed (EIO). Then the console is switched
    off for good, and whatever was writing (a log, a shutdown) goes on."""
    with _ECHO:
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        except (OSError, ValueError):
            silence_console()


def silence_console() -> None:
    """Point standard output at /dev/null, and standard error too when it is the same
    file: later writes, the interpreter's last flush included, succeed unseen."""
    fds = [1]
    try:
        if os.path.samestat(os.fstat(1), os.fstat(2)):
            fds.append(2)
    except OSError:
        pass
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in fds:
            os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def describe(returncode: int) -> str:
    """How a process ended, in words."""
    if returncode < 0:
        sig = signal.Signals(-returncode)
        meaning = signal.strsignal(sig) or sig.name
        return f"was killed by {sig.name} ({meaning.lower()})"
    return f"exited with status {returncode}"


def log_path(template: str, environ=os.environ) -> Path:
    return Path(
        template.format(
            user=environ.get("JUPYTERHUB_USER", "unknown"),
            server=environ.get("JUPYTERHUB_SERVER_NAME", "") or "default",
        )
    )


def main(argv: list[str]) -> int:
    tee = argv[:1] == ["--tee"]
    argv = argv[1:] if tee else argv
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    path = log_path(argv[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    command = argv[2:]
    with open(path, "ab", buffering=0) as log:
        proc = subprocess.Popen(  # noqa: S603 - the demo's own processes
            command, stdout=subprocess.PIPE if tee else log, stderr=subprocess.STDOUT
        )

        def forward(signum, _frame):
            if proc.poll() is None:
                proc.send_signal(signum)

        for sig in FORWARDED:
            signal.signal(sig, forward)
        if tee:
            for line in iter(proc.stdout.readline, b""):
                log.write(line)
                echo(line)
        returncode = proc.wait()
        how = describe(returncode)
        log.write(f"\n[maas] {Path(command[0]).name} {how}\n".encode())
    Path(f"{path}.exit").write_text(
        json.dumps(
            {
                "command": command[:3],
                "pid": proc.pid,
                "returncode": returncode,
                "how": how,
                "at": dt.datetime.now(dt.timezone.utc).isoformat(),
            }
        )
    )
    return 128 - returncode if returncode < 0 else returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
