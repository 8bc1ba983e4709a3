"""The ASGI app the gateway serves: LiteLLM's proxy app behind our gate."""

from __future__ import annotations

from litellm.proxy.proxy_server import app as litellm_app

from .gate import Gate
from .plugin import max_body_bytes, state

app = Gate(litellm_app, state, max_body_bytes())
