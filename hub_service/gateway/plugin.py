"""Our plugin's two entry points inside the LiteLLM proxy.

- ``user_api_key_auth`` (``general_settings.custom_auth``): hands LiteLLM the decision
  the gate (``gate.py``) took for this request. A request the gate did not admit gets
  403: nothing reaches a model that the gate has not checked.
- ``usage_logger`` (a ``litellm_settings.callbacks`` entry): one usage row per admitted
  request, priced from the catalog; it settles the request's budget reservation.

Settings: ``MAAS_DB_URL``, and the variables of ``settings.SETTINGS``, which
``MaaSGateway`` (``app.py``) sets from its traits before it execs the proxy; they are
read here through that table only (``python -m hub_service.gateway --help-all`` lists
them).
"""

from __future__ import annotations

import atexit
import logging
import os

import litellm
import openai
from fastapi import HTTPException, Request
from litellm.integrations.custom_logger import CustomLogger
from litellm.proxy._types import UserAPIKeyAuth

from .. import catalog as catalog_rules
from . import settings
from .gate import ADMISSION, Admission, estimated_prompt_tokens
from .snapshot import GatewayState
from .usage import PLACEHOLDER_MODEL, redact

log = logging.getLogger("maas.gateway")

_state: GatewayState | None = None


def state() -> GatewayState:
    """This process's gateway state, created on first use from the environment."""
    global _state
    if _state is None:
        s = settings.read(os.environ)
        _state = GatewayState(
            os.environ["MAAS_DB_URL"],
            refresh_interval=s["refresh_interval"],
            alert_webhook_url=s["alert_webhook_url"],
            alert_threshold=s["alert_threshold"],
            max_queue=s["usage_queue"],
            refusal_interval=s["refusal_interval"],
            key_lookup_rate=s["key_lookup_rate"],
            key_lookup_burst=s["key_lookup_burst"],
        )
        atexit.register(_state.close)
    return _state


def gate_settings() -> dict:
    """The gate's limits, from the environment."""
    s = settings.read(os.environ)
    return {
        name: s[name]
        for name in ("max_body_bytes", "max_in_flight", "max_staleness", "metrics_token")
    }


async def user_api_key_auth(request: Request, api_key: str | None) -> UserAPIKeyAuth:
    """LiteLLM's ``custom_auth``: the gate's decision, or 403."""
    admission: Admission | None = request.scope.get(ADMISSION)
    if admission is None:
        raise HTTPException(
            status_code=403, detail=f"{request.url.path} is not available on the MaaS gateway."
        )
    key = admission.key
    metadata = {"maas_key_id": key.id, "maas_request": admission.request_id}
    if key.server_name is not None:  # "" is the default server, absent a personal key
        metadata["maas_server"] = key.server_name
    if key.profile:
        metadata["maas_profile"] = key.profile
    if key.kernel_id:  # a kernel's key: the kernel and its notebook, as they are now
        metadata["maas_kernel"] = key.kernel_id
        metadata["maas_notebook"] = key.notebook_path
    return UserAPIKeyAuth(
        api_key=key.id,
        key_alias=key.id,
        user_id=key.user,
        models=admission.allowed,
        metadata=metadata,
    )


def backend_unavailable(exc: BaseException | None) -> str | None:
    """Why a model's backend could not serve a request (it is down, dying or too slow),
    in words, or None for any other failure (a bad request, say)."""
    if isinstance(exc, openai.APITimeoutError):  # LiteLLM's Timeout is one
        return "its backend did not answer in time"
    if isinstance(exc, openai.APIConnectionError) or (
        isinstance(exc, litellm.InternalServerError) and "Connection error" in str(exc)
    ):
        return "its backend could not be reached (the connection was refused or cut)"
    if isinstance(
        exc, litellm.InternalServerError | litellm.ServiceUnavailableError | litellm.BadGatewayError
    ):
        return "its backend failed"
    return None


def _first_line(exc: BaseException | None) -> str:
    return str(exc).strip().splitlines()[0][:300] if exc is not None and str(exc).strip() else ""


class UsageLogger(CustomLogger):
    """LiteLLM callback: one usage row per admitted request, successful or failed; a
    backend that is down, dying or too slow is a 503 with a sentence."""

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._record(kwargs, 200, None)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        exc = kwargs.get("exception")
        reason = backend_unavailable(exc)
        status = 503 if reason else int(getattr(exc, "status_code", None) or 500)
        self._record(kwargs, status, redact(_first_line(exc)) or "failed", reason)

    async def async_post_call_failure_hook(
        self, request_data, original_exception, user_api_key_dict, traceback_str=None
    ):
        """The caller's answer for a backend failure: 503 naming the model and why."""
        reason = backend_unavailable(original_exception)
        if reason is None:
            return None
        model = request_data.get("model") or "?"
        return HTTPException(
            status_code=503,
            detail=f"The model '{model}' is unavailable: {reason}. Try again shortly.",
        )

    def _record(
        self, kwargs: dict, status: int, error: str | None, reason: str | None = None
    ) -> None:
        try:
            slo = kwargs.get("standard_logging_object") or {}
            meta = slo.get("metadata") or {}
            ours = meta.get("user_api_key_auth_metadata") or {}
            user = meta.get("user_api_key_user_id")
            request_id = ours.get("maas_request")
            if not user or not request_id:
                return  # not one of our admitted requests (e.g. a health check)
            st = state()
            model = slo.get("model_group") or slo.get("model") or ""
            entry = st.catalog.get(model)
            prompt = int(slo.get("prompt_tokens") or 0)
            completion = int(slo.get("completion_tokens") or 0)
            if status == 200 and not prompt and slo.get("messages"):
                # an answer whose backend reported no prompt tokens (LiteLLM's bridge
                # from the Responses API to a chat stream without usage): never free
                prompt = estimated_prompt_tokens(slo["messages"], kwargs.get("tools"))
            cost = 0.0
            if entry is not None and status == 200:
                cost = catalog_rules.request_cost(
                    entry.input_cost_per_token, entry.output_cost_per_token, prompt, completion
                )
            # settled before the row is queued: the refresh that reads the row back
            # finds the settlement to replace
            if status == 200:
                st.ledger.settle(request_id, user, cost)
            else:
                st.ledger.release(request_id)
            start, end = slo.get("startTime"), slo.get("endTime")
            st.writer.put(
                {
                    "user": user,
                    "server_name": ours.get("maas_server"),
                    "key_id": ours.get("maas_key_id"),
                    "profile": ours.get("maas_profile"),
                    "kernel_id": ours.get("maas_kernel"),
                    "notebook_path": ours.get("maas_notebook"),
                    "model": model if entry is not None else PLACEHOLDER_MODEL,
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "cost_usd": cost,
                    "latency_ms": (end - start) * 1000 if start and end else 0.0,
                    "status_code": status,
                    "error": error,
                    "request_id": request_id,
                }
            )
            st.limiter.add(user, tokens=prompt + completion)
            shown = model if entry is not None else PLACEHOLDER_MODEL
            metrics = st.metrics
            metrics.requests.labels(shown, str(status)).inc()
            metrics.tokens.labels(shown, "prompt").inc(prompt)
            metrics.tokens.labels(shown, "completion").inc(completion)
            if cost:
                metrics.spend.labels(shown).inc(cost)
            if reason:
                metrics.backend_failures.labels(shown).inc()
            if status != 200:
                log.warning(
                    "model %s failed for %s: %s (HTTP %d: %s)",
                    model,
                    user,
                    reason or "the request failed",
                    status,
                    error,
                )
        except Exception:  # noqa: BLE001 - logging must never break a request
            log.exception("Could not record usage")


usage_logger = UsageLogger()
