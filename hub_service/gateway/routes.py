"""What a MaaS key may reach on the gateway: the route table, and the request shapes.

Deny by default. A request is let through to LiteLLM only if its (method, path) is in
``ROUTES``, which says for each route where the model is named (the body's ``model``,
a path segment, or nowhere for the model list) and which body fields it accepts. Every
other route LiteLLM registers (its admin API, pass-throughs, UI, files, batches, ...)
is refused, whatever the key. A field outside a route's list is refused too: LiteLLM
reads many request fields to pick another deployment, backend, key or callback
(``fallbacks``, ``api_base``, ``user_config``, ``metadata`` ...), so only the OpenAI
API's own parameters that change nothing but the answer pass. Query strings are
refused (LiteLLM's routes take ``?model=`` before the body's), and so are LiteLLM's
control headers (``x-litellm-*``).

Pure functions: no LiteLLM import, so the table reads (and tests) on its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# OpenAI API parameters (platform.openai.com/docs/api-reference) that only shape the
# answer. Left out on purpose: metadata, store, service_tier, prompt, background,
# previous_response_id, conversation, include, web_search_options and every LiteLLM
# parameter (see the module docstring).
SAMPLING = frozenset(
    {
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "n",
        "presence_penalty",
        "seed",
        "stop",
        "stream",
        "stream_options",
        "temperature",
        "top_logprobs",
        "top_p",
        "user",
    }
)
CHAT_FIELDS = SAMPLING | {
    "model",
    "messages",
    "max_tokens",
    "max_completion_tokens",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "functions",
    "function_call",
    "response_format",
    "reasoning_effort",
    "modalities",
    "audio",
    "prediction",
    "verbosity",
}
COMPLETION_FIELDS = SAMPLING | {"model", "prompt", "max_tokens", "best_of", "echo", "suffix"}
EMBEDDING_FIELDS = frozenset({"model", "input", "dimensions", "encoding_format", "user"})
RESPONSES_FIELDS = frozenset(
    {
        "model",
        "input",
        "instructions",
        "max_output_tokens",
        "temperature",
        "top_p",
        "top_logprobs",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "max_tool_calls",
        "stream",
        "stream_options",
        "text",
        "reasoning",
        "truncation",
        "user",
    }
)
# Tool types that LiteLLM hands to the model as they are. Others (web_search, mcp,
# code_interpreter, file_search, ...) make LiteLLM or a provider act on the gateway's
# behalf, with nothing priced in the catalog.
TOOL_TYPES = frozenset({"function"})
STREAM_OPTIONS = frozenset({"include_usage", "include_obfuscation"})
CONTROL_HEADER = re.compile(r"^(x-)?litellm-", re.IGNORECASE)


@dataclass(frozen=True)
class Route:
    """One (method, path) a MaaS key may call."""

    method: str
    path: str  # as LiteLLM declares it; ``{model}`` marks the model's path segment
    model_in: str | None  # "body", "path", or None (a listing: no model)
    fields: frozenset[str] = frozenset()  # accepted body fields (JSON object)
    public: bool = False  # no key needed (liveness probes)
    generates: bool = True  # produces output tokens (embeddings do not)

    @property
    def regex(self) -> re.Pattern:
        return re.compile(
            "^" + re.escape(self.path).replace(r"\{model\}", "(?P<model>[^/]+)") + "$"
        )


def _both(method: str, path: str, model_in: str | None, fields=frozenset(), **kw) -> list[Route]:
    """A route under /v1 (what OpenAI clients use) and without it (as LiteLLM serves
    both)."""
    return [Route(method, prefix + path, model_in, fields, **kw) for prefix in ("/v1", "")]


ROUTES: tuple[Route, ...] = (
    *_both("POST", "/chat/completions", "body", CHAT_FIELDS),
    *_both("POST", "/completions", "body", COMPLETION_FIELDS),
    *_both("POST", "/embeddings", "body", EMBEDDING_FIELDS, generates=False),
    *_both("POST", "/responses", "body", RESPONSES_FIELDS),
    *_both("GET", "/models", None),
    *_both("GET", "/models/{model}", "path"),
    Route("GET", "/health/liveliness", None, public=True),
)
# Answered by the gateway itself, in front of LiteLLM (no key).
METRICS_PATH = "/maas/metrics"

_EXACT = {(r.method, r.path): r for r in ROUTES if "{" not in r.path}
_PATTERNS = [(r, r.regex) for r in ROUTES if "{" in r.path]


class Refused(Exception):
    """A request the gateway will not pass on; ``reason`` is a short code for the
    refusal counts, the message a sentence for the caller."""

    def __init__(self, status: int, reason: str, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


def match(method: str, path: str) -> tuple[Route, str | None] | None:
    """The listed route for this request and the model its path names, or None."""
    route = _EXACT.get((method, path))
    if route is not None:
        return route, None
    for route, regex in _PATTERNS:
        if route.method == method and (m := regex.match(path)):
            return route, m.group("model")
    return None


def served() -> str:
    """The routes a key may call, for refusal messages."""
    return ", ".join(f"{r.method} {r.path}" for r in ROUTES if r.path.startswith("/v1"))


def check_headers(headers: Mapping[str, str]) -> None:
    for name in headers:
        if CONTROL_HEADER.match(name):
            raise Refused(
                400, "header", f"The header '{name}' is not accepted by the MaaS gateway."
            )


def check_body(route: Route, body: object) -> None:
    """The body is a JSON object with only the route's fields, in their plain forms."""
    if not isinstance(body, dict):
        raise Refused(400, "body", "The request body must be a JSON object.")
    unknown = sorted(set(body) - route.fields)
    if unknown:
        raise Refused(
            400,
            "field",
            f"The field '{unknown[0]}' is not accepted by the MaaS gateway on "
            f"{route.method} {route.path}. Accepted: {', '.join(sorted(route.fields))}.",
        )
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
            raise Refused(400, "field", "'tools' must be a list of tool objects.")
        for tool in tools:
            if tool.get("type") not in TOOL_TYPES:
                raise Refused(
                    400,
                    "tool",
                    f"Tools of type {tool.get('type')!r} are not available through the "
                    f"MaaS gateway; use {', '.join(sorted(TOOL_TYPES))} tools.",
                )
    options = body.get("stream_options")
    if options is not None and (not isinstance(options, dict) or set(options) - STREAM_OPTIONS):
        raise Refused(
            400,
            "field",
            f"'stream_options' may hold only {', '.join(sorted(STREAM_OPTIONS))}.",
        )
    for name in ("max_tokens", "max_completion_tokens", "max_output_tokens", "n", "best_of"):
        value = body.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise Refused(400, "field", f"'{name}' must be a whole number of at least 1.")


def body_model(body: dict) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise Refused(400, "no-model", "Say which model to use: the body's 'model' field.")
    return model


def output_tokens(body: dict) -> int | None:
    """The most output tokens the request asks for, if it says."""
    for name in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        if isinstance(body.get(name), int):
            return body[name]
    return None


def choices(body: dict) -> int:
    """How many answers are generated (``n``, or ``best_of`` for completions)."""
    return max(int(body.get("n") or 1), int(body.get("best_of") or 1))
