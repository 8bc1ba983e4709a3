"""Run LiteLLM's proxy so that a stop signal ends in a clean exit.

uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal with the
handlers it found at start. With the default handlers the process would die by the
signal and skip ``atexit``, losing the usage rows still queued; with ours it exits
normally and the plugin drains its queue.
"""

from __future__ import annotations

import signal
import sys


def _exit_cleanly(signum, frame):
    sys.exit(0)


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    from litellm.proxy.proxy_cli import run_server

    run_server(prog_name="litellm")


if __name__ == "__main__":
    main()
