"""Run LiteLLM's proxy behind our gate, so that a stop signal ends in a clean exit.

LiteLLM's ``run_server`` hands uvicorn the import string of its app; we hand it ours
(``hub_service.gateway.asgi:app``, LiteLLM's app behind the gate), which also holds in
uvicorn's worker processes. Other servers (gunicorn, hypercorn, granian) would serve
LiteLLM's app without the gate, so their flags are refused.

uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal with the
handlers it found at start. With the default handlers the process would die by the
signal and skip ``atexit``, losing the usage rows still queued; with ours it exits
normally and the plugin drains its queue.
"""

from __future__ import annotations

import os
import signal
import sys

APP = "hub_service.gateway.asgi:app"
OTHER_SERVERS = ("--run_gunicorn", "--run_hypercorn", "--run_granian")


def _exit_cleanly(signum, frame):
    sys.exit(0)


def _serve_the_gate() -> None:
    from litellm.proxy.proxy_cli import ProxyInitializationHelpers

    litellm_args = ProxyInitializationHelpers.get_default_unvicorn_init_args

    def gated_args(*args, **kwargs) -> dict:
        return {**litellm_args(*args, **kwargs), "app": APP}

    ProxyInitializationHelpers.get_default_unvicorn_init_args = staticmethod(gated_args)


def main() -> None:
    refused = [a for a in sys.argv[1:] if a in OTHER_SERVERS]
    if refused:
        sys.exit(f"{refused[0]} is not supported: the MaaS gateway runs under uvicorn only.")
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    if os.environ.get("MAAS_GATE", "1") != "0":  # "0": LiteLLM alone (benchmarks)
        _serve_the_gate()
    from litellm.proxy.proxy_cli import run_server

    run_server(prog_name="litellm")


if __name__ == "__main__":
    main()
