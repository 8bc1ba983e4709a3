"""The ASGI app the gateway serves: LiteLLM's proxy app behind our gate, with our log
filters (``logs.py``) on LiteLLM's and uvicorn's loggers."""

from __future__ import annotations

from litellm.proxy.proxy_server import app as litellm_app

from .gate import Gate
from .logs import install_log_filters
from .plugin import gate_settings, state

install_log_filters()

app = Gate(litellm_app, state, **gate_settings())
