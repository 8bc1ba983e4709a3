"""LiteLLM proxy configuration, derived from the catalog (never typed by hand)."""

from __future__ import annotations

from collections.abc import Iterable

from ..db import CatalogModel
from ..validation import Invalid, check_backend

AUTH_HOOK = "hub_service.gateway.plugin.user_api_key_auth"
USAGE_CALLBACK = "hub_service.gateway.plugin.usage_logger"


def deployment(model: CatalogModel) -> dict:
    """One ``model_list`` entry. A backend key is referenced by its variable's name
    (LiteLLM's ``os.environ/NAME``), so the secret never lands in the file."""
    params: dict = {"model": model.provider_model, **(model.extra_params or {})}
    if model.api_base:
        params["api_base"] = model.api_base
        # Responses API requests (Codex's) go to a server of one's own as chat
        # completions, which every OpenAI-compatible server has, and llama.cpp's,
        # vLLM's and others' servers serve no Responses API of their own
        params.setdefault("use_chat_completions_api", True)
    # OpenAI-compatible servers without auth still need some key for the SDK.
    params["api_key"] = f"os.environ/{model.api_key_env}" if model.api_key_env else "none"
    info: dict = {
        "mode": model.mode,
        "input_cost_per_token": model.input_cost_per_token,
        "output_cost_per_token": model.output_cost_per_token,
    }
    if model.context_window:
        info["max_input_tokens"] = model.context_window
        info["max_tokens"] = model.context_window
    if model.max_output_tokens:
        info["max_output_tokens"] = model.max_output_tokens
    for capability in model.capabilities or []:
        info[f"supports_{capability}"] = True
    return {"model_name": model.name, "litellm_params": params, "model_info": info}


def backend_problem(model: CatalogModel) -> str | None:
    """Why the gateway will not serve this row's backend (the admin API's own rules,
    applied again to rows written behind its back), or None."""
    try:
        check_backend(model.provider_model, model.api_base, model.api_key_env, model.extra_params)
    except Invalid as e:
        return str(e)
    return None


def served(models: Iterable[CatalogModel]) -> list[dict]:
    """The deployments of the enabled models whose backends pass the rules."""
    return [deployment(m) for m in models if m.enabled and backend_problem(m) is None]


def litellm_config(models: Iterable[CatalogModel], *, plugin: bool = True) -> dict:
    """The proxy config: every model served, with our auth hook and usage logger."""
    config: dict = {
        "model_list": served(models),
        "litellm_settings": {
            "drop_params": True,
            "telemetry": False,
            # Anthropic Messages requests go to a backend as chat completions, which
            # every OpenAI-compatible server has (LiteLLM would use the Responses API,
            # which llama.cpp's and others' servers do not serve)
            "use_chat_completions_url_for_anthropic_messages": True,
        },
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
    }
    if plugin:
        config["general_settings"]["custom_auth"] = AUTH_HOOK
        config["litellm_settings"]["callbacks"] = [USAGE_CALLBACK]
    return config
