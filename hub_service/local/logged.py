"""Run one of the local demo's processes with its output in its own log file, and note
how it ended.

    python -m hub_service.local.logged [--tee] LOG -- COMMAND [ARGS...]

``--tee`` copies the output to this process's own output too (the demo's --debug).
``LOG`` may name ``{user}`` and ``{server}`` (from ``JUPYTERHUB_USER`` and
``JUPYTERHUB_SERVER_NAME``, for single-user servers). The command's output is appended
to ``LOG``. SIGINT, SIGTERM and SIGHUP are passed on to it (the hub stops services and
servers with them). When it ends, a line saying how (exit status, or the signal that
killed it) is appended to the log and written to ``LOG.exit`` (JSON), where the
launcher reads it to say which process failed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


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
                sys.stdout.buffer.write(line)
                sys.stdout.flush()
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
