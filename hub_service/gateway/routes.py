"""What a MaaS key may reach on the gateway: the route table, and the request shapes.

Deny by default. A request is let through to LiteLLM only if its (method, path) is in
``ROUTES``, which says for each route where the model is named (the body's ``model``,
the path, or nowhere for the model list) and which body fields it accepts. Every
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
# previous_response_id, conversation, include, web_search_options, audio and
# modalities (the catalog prices no audio tokens) and every LiteLLM parameter (see the
# module docstring). ``user`` is accepted and replaced by the gateway's own pseudonym
# of the hub user (providers use it to trace abuse; nobody may claim another's).
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
        # what Codex sends with each request: ``store`` only false (a provider keeping
        # the conversation for later requests would keep it on the gateway's account),
        # ``include`` only RESPONSES_INCLUDE, and a hint for the provider's prompt cache
        "store",
        "include",
        "prompt_cache_key",
    }
)
# Accepted and removed before LiteLLM: Codex's ``client_metadata`` (its installation,
# session and turn ids), which no backend needs and which would identify the user
RESPONSES_IGNORED = frozenset({"client_metadata"})
# What a Responses request may ask to have added to the answer: the model's reasoning,
# encrypted, to send back in the next request (as ``store`` is false), and log probs
RESPONSES_INCLUDE = frozenset({"reasoning.encrypted_content", "message.output_text.logprobs"})
# Anthropic's Messages API (docs.anthropic.com/en/api/messages), which LiteLLM
# translates for any backend. Left out: container, mcp_servers and service_tier (each
# makes a provider act or bill on the gateway's behalf).
# ``metadata`` may hold only ``user_id``, which the gateway replaces with its own
# pseudonym of the hub user, as OpenAI's ``user``.
MESSAGES_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "metadata",
        "stop_sequences",
        "stream",
        "temperature",
        "top_k",
        "top_p",
        "tools",
        "tool_choice",
        "thinking",
    }
)
# Accepted and removed before LiteLLM, as Claude Code sends them with every request:
# Anthropic's server-side context editing, which the backends here do not do (the
# model sees the whole conversation, as without it), and ``output_config`` (the
# effort Anthropic's own models spend, and their structured output): the backends
# answer as they would without it
MESSAGES_IGNORED = frozenset({"context_management", "output_config"})
COUNT_TOKENS_FIELDS = frozenset({"model", "messages", "system", "tools", "tool_choice", "thinking"})
# Tool types that LiteLLM hands to the model as they are. Others (web_search, mcp,
# code_interpreter, file_search, ...) make LiteLLM or a provider act on the gateway's
# behalf, with nothing priced in the catalog.
TOOL_TYPES = frozenset({"function"})
# The Responses API also takes a "namespace": a named group of function tools (Codex's)
RESPONSES_TOOL_TYPES = TOOL_TYPES | {"namespace"}
# Anthropic's own tools have no type, or "custom"; its typed ones (web_search_*,
# code_execution_*, bash_*, computer_*, ...) are run by Anthropic or need its models
ANTHROPIC_TOOL_TYPES = frozenset({None, "custom"})
STREAM_OPTIONS = frozenset({"include_usage", "include_obfuscation"})
# OpenAI's own limits where it has them; a request within them costs the gateway a
# bounded amount of memory and time
MAX_ITEMS = {
    "messages": 2048,
    "input": 2048,
    "prompt": 2048,
    "tools": 128,
    "functions": 128,
    "stop": 4,
    "logit_bias": 300,
}
MAX_NUMBERS = {"n": 128, "best_of": 20}
MAX_PARTS = 512  # content parts in one message
# Content parts a model gets inline. Not accepted: parts that name stored files
# (file_id, gs://, s3://, a Responses item_reference), which a provider would read
# with the gateway's own credentials.
TEXT_PARTS = frozenset({"text", "input_text", "output_text", "refusal"})
WEB_OR_INLINE = re.compile(r"^(https?://|data:)", re.IGNORECASE)
ANY_URI = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# (a "reasoning" item: the model's earlier reasoning, sent back as it came)
RESPONSE_ITEMS = frozenset({"message", "function_call", "function_call_output", "reasoning"})
# Anthropic content blocks that hold text (or a tool's call or answer) and those that
# carry media from a ``source``; "file" sources name stored files
ANTHROPIC_TEXT_BLOCKS = frozenset(
    {"text", "tool_use", "tool_result", "thinking", "redacted_thinking"}
)
ANTHROPIC_MEDIA_BLOCKS = frozenset({"image", "document"})
ANTHROPIC_SOURCES = frozenset({"base64", "url", "text", "content"})
CONTROL_HEADER = re.compile(r"^(x-)?litellm-", re.IGNORECASE)


@dataclass(frozen=True)
class Route:
    """One (method, path) a MaaS key may call."""

    method: str
    path: str  # as LiteLLM declares it; ``{model}`` marks the model's name (slashes too)
    model_in: str | None  # "body", "path", or None (a listing: no model)
    fields: frozenset[str] = frozenset()  # accepted body fields (JSON object)
    ignored: frozenset[str] = frozenset()  # accepted, then removed (``drop_ignored``)
    public: bool = False  # no key needed (liveness probes)
    api: str = "openai"  # whose request and error shapes: "openai" or "anthropic"
    # answered by the gate itself after its checks (a count of tokens: nothing is
    # generated, reserved or billed), not by LiteLLM
    local: bool = False
    # catalog modes it serves (empty: any) and the body field that caps its output
    # (None: it generates no tokens); a request that names none gets ``default_output``
    modes: frozenset[str] = frozenset()
    output_field: str | None = None
    default_output: int | None = None

    @property
    def regex(self) -> re.Pattern:
        # a model's name may hold slashes (Qwen/Qwen2.5-7B-Instruct): the ASGI path
        # arrives decoded, so an encoded %2F is a / here too
        model = "(?P<model>[^/]+(?:/[^/]+)*)"
        return re.compile("^" + re.escape(self.path).replace(r"\{model\}", model) + r"\Z")


def _both(method: str, path: str, model_in: str | None, fields=frozenset(), **kw) -> list[Route]:
    """A route under /v1 (what OpenAI clients use) and without it (as LiteLLM serves
    both)."""
    return [Route(method, prefix + path, model_in, fields, **kw) for prefix in ("/v1", "")]


GENERATIVE = frozenset({"chat", "completion", "responses"})
ROUTES: tuple[Route, ...] = (
    *_both(
        "POST",
        "/chat/completions",
        "body",
        CHAT_FIELDS,
        modes=GENERATIVE,
        output_field="max_tokens",
    ),
    # OpenAI's legacy completions generate 16 tokens unless told otherwise
    *_both(
        "POST",
        "/completions",
        "body",
        COMPLETION_FIELDS,
        modes=GENERATIVE,
        output_field="max_tokens",
        default_output=16,
    ),
    *_both("POST", "/embeddings", "body", EMBEDDING_FIELDS, modes=frozenset({"embedding"})),
    *_both(
        "POST",
        "/responses",
        "body",
        RESPONSES_FIELDS,
        ignored=RESPONSES_IGNORED,
        modes=GENERATIVE,
        output_field="max_output_tokens",
    ),
    Route(
        "POST",
        "/v1/messages",
        "body",
        MESSAGES_FIELDS,
        ignored=MESSAGES_IGNORED,
        api="anthropic",
        modes=GENERATIVE,
        output_field="max_tokens",
    ),
    Route(
        "POST",
        "/v1/messages/count_tokens",
        "body",
        COUNT_TOKENS_FIELDS,
        ignored=MESSAGES_IGNORED,
        api="anthropic",
        local=True,
        modes=GENERATIVE,
    ),
    *_both("GET", "/models", None),
    *_both("GET", "/models/{model}", "path"),
    Route("GET", "/health/liveliness", None, public=True),
)


def supported_params(mode: str) -> dict[str, list[str]]:
    """What a model of ``mode`` may be sent: per OpenAI endpoint (under /v1) that serves
    it, the request fields the gateway passes on (besides ``model``)."""
    return {
        r.path: sorted(r.fields - {"model"})
        for r in ROUTES
        if r.method == "POST" and r.path.startswith("/v1/") and mode in r.modes
    }


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
    """The body is a JSON object with only the route's fields, in their plain forms,
    within OpenAI's sizes, and with content the model gets inline."""
    if not isinstance(body, dict):
        raise Refused(400, "body", "The request body must be a JSON object.")
    unknown = sorted(set(body) - route.fields - route.ignored)
    if unknown:
        raise Refused(
            400,
            "field",
            f"The field '{unknown[0]}' is not accepted by the MaaS gateway on "
            f"{route.method} {route.path}. Accepted: {', '.join(sorted(route.fields))}.",
        )
    for name, most in MAX_ITEMS.items():
        value = body.get(name)
        if isinstance(value, list | dict) and len(value) > most:
            raise Refused(400, "too-many", f"'{name}' may hold at most {most} items.")
    for name in ("max_tokens", "max_completion_tokens", "max_output_tokens", "n", "best_of"):
        value = body.get(name)
        if value is None:
            continue
        most = MAX_NUMBERS.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise Refused(400, "field", f"'{name}' must be a whole number of at least 1.")
        if most is not None and value > most:
            raise Refused(400, "field", f"'{name}' may be at most {most}.")
    asked = {body[f] for f in ("max_tokens", "max_completion_tokens") if f in body}
    if len(asked) > 1:
        raise Refused(
            400, "field", "'max_tokens' and 'max_completion_tokens' differ: send one of them."
        )
    if route.api == "anthropic":
        _check_anthropic(body)
        return
    if route.path.endswith("/responses"):
        _check_responses(body)
    else:
        _check_tools(body.get("tools"))
    options = body.get("stream_options")
    if options is not None and (not isinstance(options, dict) or set(options) - STREAM_OPTIONS):
        raise Refused(
            400,
            "field",
            f"'stream_options' may hold only {', '.join(sorted(STREAM_OPTIONS))}.",
        )
    if isinstance(body.get("messages"), list):
        for message in body["messages"]:
            _check_message(message)


def drop_ignored(route: Route, body: dict) -> None:
    """Remove the fields the route accepts but does not pass on."""
    for name in route.ignored:
        body.pop(name, None)


def _check_responses(body: dict) -> None:
    """A Responses request: nothing stored by the provider, nothing added to the answer
    but RESPONSES_INCLUDE, and the caller's own tools (alone or in namespaces)."""
    if body.get("store") not in (None, False):
        raise Refused(
            400,
            "field",
            "'store' must be false: the MaaS gateway does not let a provider keep "
            "conversations. Send the whole conversation with each request.",
        )
    include = body.get("include")
    if include is not None and (
        not isinstance(include, list) or not set(include) <= RESPONSES_INCLUDE
    ):
        raise Refused(
            400, "field", f"'include' may hold only {', '.join(sorted(RESPONSES_INCLUDE))}."
        )
    cache_key = body.get("prompt_cache_key")
    if cache_key is not None and not isinstance(cache_key, str):
        raise Refused(400, "field", "'prompt_cache_key' must be a string.")
    tools = body.get("tools")
    _check_tools(tools, RESPONSES_TOOL_TYPES, "function tools (or namespaces of them)")
    for tool in tools or []:
        if tool.get("type") == "namespace":
            _check_tools(tool.get("tools") or [], TOOL_TYPES)
    if isinstance(body.get("input"), list):
        for item in body["input"]:
            _check_response_item(item)


def _check_anthropic(body: dict) -> None:
    """An Anthropic Messages request: its metadata names no one but the user (replaced
    by the gateway), its tools are the caller's own, its blocks hold their content."""
    if not isinstance(body.get("messages"), list):
        raise Refused(400, "field", "'messages' must be a list of messages.")
    metadata = body.get("metadata")
    if metadata is not None and (not isinstance(metadata, dict) or set(metadata) - {"user_id"}):
        raise Refused(400, "field", "'metadata' may hold only 'user_id'.")
    _check_tools(
        body.get("tools"),
        ANTHROPIC_TOOL_TYPES,
        "your own tools (a name, a description and an input_schema)",
    )
    system = body.get("system")
    if isinstance(system, list):
        _check_blocks(system)
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            raise Refused(400, "content", "Each message must be an object.")
        if isinstance(message.get("content"), list):
            _check_blocks(message["content"])


def _check_blocks(blocks: list) -> None:
    if len(blocks) > MAX_PARTS:
        raise Refused(400, "too-many", f"A message may hold at most {MAX_PARTS} blocks.")
    for block in blocks:
        if not isinstance(block, dict):
            raise Refused(400, "content", "Each content block must be an object.")
        kind = block.get("type")
        if kind == "tool_result" and isinstance(block.get("content"), list):
            _check_blocks(block["content"])
        if kind in ANTHROPIC_TEXT_BLOCKS:
            continue
        if kind not in ANTHROPIC_MEDIA_BLOCKS:
            raise Refused(
                400, "content", f"Content of type {kind!r} is not accepted by the MaaS gateway."
            )
        source = block.get("source")
        if not isinstance(source, dict) or source.get("type") not in ANTHROPIC_SOURCES:
            raise _refuse_part(kind)
        if source["type"] == "url" and not (
            isinstance(source.get("url"), str) and WEB_OR_INLINE.match(source["url"])
        ):
            raise _refuse_part(kind)
        if source["type"] == "content" and isinstance(source.get("content"), list):
            _check_blocks(source["content"])


def _check_tools(tools, types=TOOL_TYPES, use: str | None = None) -> None:
    """Only tools of ``types``, which LiteLLM hands to the model as they are (``use``:
    what to send instead, in words)."""
    if tools is None:
        return
    if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
        raise Refused(400, "field", "'tools' must be a list of tool objects.")
    for tool in tools:
        if tool.get("type") not in types:
            raise Refused(
                400,
                "tool",
                f"Tools of type {tool.get('type')!r} are not available through the "
                f"MaaS gateway; use {use or ', '.join(sorted(types)) + ' tools'}.",
            )


def _check_message(message) -> None:
    if not isinstance(message, dict):
        raise Refused(400, "content", "Each message must be an object.")
    content = message.get("content")
    if isinstance(content, list):
        if len(content) > MAX_PARTS:
            raise Refused(400, "too-many", f"A message may hold at most {MAX_PARTS} parts.")
        for part in content:
            _check_part(part)


def _check_response_item(item) -> None:
    if isinstance(item, str):
        return
    if not isinstance(item, dict):
        raise Refused(400, "content", "Each input item must be an object.")
    kind = item.get("type", "message")
    if kind not in RESPONSE_ITEMS:
        raise Refused(
            400, "content", f"Input items of type {kind!r} are not accepted by the MaaS gateway."
        )
    if kind == "message":
        _check_message(item)


def _refuse_part(kind) -> Refused:
    return Refused(
        400,
        "content",
        f"Content of type {kind!r} that names a stored file or a storage address is not "
        "accepted by the MaaS gateway: send the content inline (text, an http(s) or data: "
        "URL, base64 data).",
    )


def _check_part(part) -> None:
    if not isinstance(part, dict):
        raise Refused(400, "content", "Each content part must be an object.")
    kind = part.get("type")
    if kind in TEXT_PARTS:
        return
    if kind in ("image_url", "input_image"):
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        if part.get("file_id") or not isinstance(url, str) or not WEB_OR_INLINE.match(url):
            raise _refuse_part(kind)
        return
    if kind == "input_audio":
        audio = part.get("input_audio")
        if not isinstance(audio, dict) or not isinstance(audio.get("data"), str):
            raise _refuse_part(kind)
        return
    if kind in ("file", "input_file"):
        file = part.get("file") if kind == "file" else part
        data = file.get("file_data") if isinstance(file, dict) else None
        if (
            not isinstance(data, str)
            or ANY_URI.match(data)
            or file.get("file_id")
            or file.get("file_url")
        ):
            raise _refuse_part(kind)
        return
    raise Refused(400, "content", f"Content of type {kind!r} is not accepted by the MaaS gateway.")


def media_parts(body: dict) -> int:
    """How many non-text parts (images, audio, files; an Anthropic tool result's too)
    the request holds: each is priced by the provider well beyond its bytes."""

    def count(parts) -> int:
        n = 0
        for part in parts if isinstance(parts, list) else ():
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            if kind == "tool_result":
                n += count(part.get("content"))
            elif kind not in TEXT_PARTS and kind not in ANTHROPIC_TEXT_BLOCKS:
                n += 1
        return n

    items = [*(body.get("messages") or []), *(body.get("input") or [])]
    return sum(count(item.get("content")) for item in items if isinstance(item, dict))


def cap_output(route: Route, body: dict, limit: int) -> int:
    """Write into the body the most output tokens the request may generate (what it
    asks, at most ``limit``; when it asks nothing, the route's default or ``limit``),
    so that the backend cannot produce more than the gateway reserved; return it."""
    if route.output_field is None:
        return 0
    asked = output_tokens(body)
    cap = min(asked, limit) if asked else min(route.default_output or limit, limit)
    field = "max_completion_tokens" if "max_completion_tokens" in body else route.output_field
    body.pop("max_tokens", None)
    body[field] = cap
    return cap


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
