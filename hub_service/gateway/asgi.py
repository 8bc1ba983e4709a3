"""The ASGI app the gateway serves: LiteLLM's proxy app behind our gate.

LiteLLM logs each failed request with a traceback and a paragraph. Our usage logger
writes one line per failure (which model, whose request, why), so LiteLLM's own
per-request exception lines are dropped and its other warnings and errors cut to their
first line. ``LITELLM_LOG=DEBUG`` keeps everything.
"""

from __future__ import annotations

import logging
import os

from litellm.proxy.proxy_server import app as litellm_app

from .gate import Gate
from .plugin import max_body_bytes, state


class OneLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            first = record.getMessage().strip().splitlines()
            if first and "(): Exception occured" in first[0]:
                return False  # a request's failure: our usage logger's line says it
            record.msg, record.args = (first[0] if first else ""), ()
            record.exc_info = record.exc_text = record.stack_info = None
        return True


if os.environ.get("LITELLM_LOG", "").upper() != "DEBUG":
    for name in ("LiteLLM", "LiteLLM Proxy", "LiteLLM Router"):
        logging.getLogger(name).addFilter(OneLine())

app = Gate(litellm_app, state, max_body_bytes())
