"""The ASGI app the gateway serves: LiteLLM's proxy app behind our gate, with our log
filters (``logs.py``) on LiteLLM's and uvicorn's loggers."""

from __future__ import annotations

from fastapi import Depends
from litellm.proxy.proxy_server import app as litellm_app
from litellm.proxy.proxy_server import model_info, user_api_key_auth

from .gate import Gate
from .logs import install_log_filters
from .plugin import gate_settings, state

install_log_filters()

# LiteLLM declares GET /v1/models/{model_id}, one path segment: a catalog name with a
# slash (Qwen/Qwen2.5-7B-Instruct, sent as is or as %2F, which the server decodes)
# would not reach it. The same handler takes the rest of the path as the name; the
# gate has admitted the name by then. These routes go FIRST: the request the gate
# admitted as "the model named X" must reach this handler, never one of LiteLLM's
# routes whose pattern the same path also fits (GET /{provider}/v1/files/{file_id:path}
# matches /models/v1/files/x).
for _prefix in ("/v1", ""):
    litellm_app.add_api_route(
        _prefix + "/models/{model_id:path}",
        model_info,
        methods=["GET"],
        dependencies=[Depends(user_api_key_auth)],
        include_in_schema=False,
    )
    litellm_app.router.routes.insert(0, litellm_app.router.routes.pop())

app = Gate(litellm_app, state, **gate_settings())
