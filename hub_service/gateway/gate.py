"""The gate: an ASGI layer in front of LiteLLM's app where every request is admitted or
refused, once, before LiteLLM sees it.

In order, each with a sentence for the caller:

1. the route must be listed (``routes.ROUTES``), else 403 whatever the key;
2. the key (``Authorization: Bearer sk-maas-...``, or ``x-api-key`` on Anthropic's
   routes) must be known, active and unexpired (401 saying which);
3. no query string, no LiteLLM control header, a JSON body within the size limit with
   only the route's fields (400, 413);
4. the model must be in the catalog (404), enabled and allowed by the key's policy
   (403);
5. the budget: the request's worst-case cost is reserved against what is left (429);
   rpm/tpm limits (429).

The admitted request reaches LiteLLM with its decision in the ASGI scope
(``ADMISSION``), which our ``custom_auth`` hands to LiteLLM, and with the very body
that was checked (LiteLLM's parsed-body cache), so the model LiteLLM routes is the
model that was checked. Refusals are counted per minute, not written one by one.

``GET /maas/metrics`` answers the gateway's Prometheus metrics to the bearer of
``MAAS_METRICS_TOKEN`` (``metrics.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import uuid
from collections.abc import Callable

import orjson

from .. import catalog as catalog_rules
from .. import policy as policies
from ..keys import KEY_PREFIX, hash_key
from . import routes
from .metrics import authorized as metrics_authorized
from .routes import Refused, Route
from .snapshot import GatewayState, KeyInfo, LookupsBusy, ModelInfo
from .usage import log_safe

log = logging.getLogger("maas.gateway")

ADMISSION = "maas.admission"  # the scope key carrying the gate's decision
DEFAULT_MAX_OUTPUT = 4096  # tokens a request may generate when neither it nor its model says
MEDIA_TOKENS = 2048  # prompt tokens reserved per image, audio or file part
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_error",
    503: "service_unavailable",
}


@dataclasses.dataclass(frozen=True)
class Admission:
    """An admitted request: who, under which policy, which model."""

    request_id: str
    key: KeyInfo
    policy: policies.Policy
    allowed: list[str]
    model: str | None


def worst_case(model: ModelInfo, route: Route, body: dict, body_bytes: int) -> float:
    """The most a request can cost, with its output cap written into the body (so the
    backend cannot generate more than is reserved): every byte of the request a prompt
    token (a token is at least a byte) plus MEDIA_TOKENS per image, audio or file part
    (priced by providers far beyond their bytes), capped by the context window; plus
    every output token it may generate."""
    prompt = body_bytes + MEDIA_TOKENS * routes.media_parts(body)
    if model.context_window:
        prompt = min(prompt, model.context_window)
    limit = model.max_output_tokens or model.context_window or DEFAULT_MAX_OUTPUT
    output = routes.cap_output(route, body, limit) * routes.choices(body)
    return prompt * model.input_cost_per_token + output * model.output_cost_per_token


# whose tokenizer estimates a count of tokens (o200k, which LiteLLM ships: offline)
COUNTING_MODEL = "gpt-4o"


def count_tokens(body: dict) -> int:
    """An Anthropic Messages request's input tokens, estimated here (LiteLLM's own
    count asks an OpenAI-compatible backend for an endpoint it does not have): the
    messages with LiteLLM's offline tokenizer, the system prompt and tools as text."""
    from litellm import token_counter  # the gateway runs inside LiteLLM

    system = body.get("system")
    if isinstance(system, list):
        system = " ".join(b.get("text", "") for b in system if isinstance(b, dict))
    messages = [*([{"role": "system", "content": system}] if system else []), *body["messages"]]
    try:
        tokens = token_counter(model=COUNTING_MODEL, messages=messages) if messages else 0
        for extra in ("tools", "tool_choice"):
            if body.get(extra):
                text = orjson.dumps(body[extra]).decode()
                tokens += token_counter(model=COUNTING_MODEL, text=text)
    except Exception:  # noqa: BLE001 - content the tokenizer cannot read
        why = "The messages could not be read to count their tokens."
        raise Refused(400, "content", why) from None
    return tokens


# what in a request's items is not text a model reads (ids, kinds, and a provider's
# encrypted reasoning)
NOT_TEXT = frozenset({"type", "id", "role", "status", "call_id", "item_id", "encrypted_content"})


def estimated_prompt_tokens(content: object, tools: object = None) -> int:
    """The prompt tokens of what a backend was sent (messages or Responses items, and
    tools), estimated here for an answer whose backend reported none (a stream without
    usage): LiteLLM's offline tokenizer over its texts, the tools as JSON."""
    texts = list(_texts(content))
    if tools:
        texts.append(orjson.dumps(tools, default=str).decode())
    text = "\n".join(texts)
    if not text:
        return 0
    try:
        from litellm import token_counter  # the gateway runs inside LiteLLM

        return token_counter(model=COUNTING_MODEL, text=text)
    except Exception:  # noqa: BLE001 - text the tokenizer cannot read: a token is <= 4 bytes
        return len(text.encode()) // 4


def _texts(value: object, key: str | None = None):
    if isinstance(value, str):
        if key not in NOT_TEXT:
            yield value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _texts(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, key)


def pseudonym(user: str) -> str:
    """What backends see as the OpenAI ``user`` (they trace abuse with it): the hub
    user, hashed, so no request can claim another's."""
    return "maas-" + hashlib.sha256(user.encode()).hexdigest()[:24]


def _header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def _send_json(send, status: int, payload: dict, headers: list | None = None) -> None:
    body = orjson.dumps(payload)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# Anthropic's error types by status (docs.anthropic.com/en/api/errors)
ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    415: "invalid_request_error",
    429: "rate_limit_error",
}


# the only query strings taken (and dropped) on Anthropic's routes: its SDK's beta
# client (Claude Code's) adds ?beta=true to every call
ANTHROPIC_QUERIES = (b"beta=true", b"beta=false")


async def refuse(send, refused: Refused, api: str = "openai") -> None:
    """Answer as the route's API does (OpenAI's, or Anthropic's on its routes), so SDKs
    show the sentence."""
    headers = []
    if refused.retry_after is not None:
        headers.append((b"retry-after", str(refused.retry_after).encode()))
    if api == "anthropic":
        kind = ANTHROPIC_ERROR_TYPES.get(refused.status, "api_error")
        payload = {"type": "error", "error": {"type": kind, "message": refused.message}}
    else:
        payload = {
            "error": {
                "message": refused.message,
                "type": ERROR_TYPES.get(refused.status, "error"),
                "param": None,
                "code": str(refused.status),
            }
        }
    await _send_json(send, refused.status, payload, headers)


class _TooLarge(Exception):
    pass


async def read_body(receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


class Gate:
    """Wraps LiteLLM's ASGI app (see the module docstring)."""

    def __init__(
        self,
        app,
        state: Callable[[], GatewayState],
        max_body_bytes: int,
        *,
        max_in_flight: int = 64,
        max_staleness: float = 600.0,
        metrics_token: str = "",
    ):
        self.app = app
        self.state = state
        self.max_body_bytes = max_body_bytes
        self.max_in_flight = max_in_flight  # requests one user may have running at once
        self.max_staleness = max_staleness  # seconds keys may go unconfirmed
        self.in_flight: dict[str, int] = {}
        self.metrics_token = metrics_token

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind == "lifespan":
            return await self.app(scope, self._starting(receive), send)
        if kind == "websocket":  # no listed route is a websocket: closing it answers 403
            self.state().refusals.add(403, "route")
            return await send({"type": "websocket.close", "code": 1008})
        method, path = scope["method"], scope["path"]
        if path == routes.METRICS_PATH and method == "GET":
            return await self._metrics(scope, send)
        found = routes.match(method, path)
        if found is None:
            self.state().refusals.add(403, "route")
            return await refuse(
                send,
                Refused(
                    403,
                    "route",
                    f"{method} {log_safe(path, 200)} is not available on the MaaS gateway. "
                    "It serves "
                    f"{routes.served()}.",
                ),
            )
        route, path_model = found
        if route.public:
            return await self.app(scope, receive, send)
        st = self.state()
        request_id = uuid.uuid4().hex
        who: dict = {}
        try:
            admission, body = await self._admit(
                st, scope, receive, route, path_model, request_id, who
            )
            # a count of tokens, which LiteLLM would ask the backend for
            counted = {"input_tokens": count_tokens(body)} if route.local else None
        except Refused as refused:
            st.refusals.add(refused.status, refused.reason, **who)
            return await refuse(send, refused, route.api)
        except ConnectionError:
            return None
        except Exception:  # a bug of ours: a sentence for the caller, the trace for us
            log.exception("Checking a request failed")
            st.refusals.add(500, "gate-error", **who)
            return await refuse(
                send,
                Refused(500, "gate-error", "The MaaS gateway failed to check this request."),
                route.api,
            )
        if counted is not None:
            return await _send_json(send, 200, counted)
        scope[ADMISSION] = admission
        body = body or {}  # a GET: LiteLLM reads no body of the client's
        # LiteLLM's parsed-body cache: it routes exactly the body checked here
        scope["parsed_body"] = (tuple(body), body)
        user = admission.key.user
        try:
            await self.app(scope, _replay(receive, orjson.dumps(body) if body else b""), send)
        finally:
            st.ledger.ended(request_id)
            self.in_flight[user] -= 1
            if not self.in_flight[user]:
                del self.in_flight[user]

    def _starting(self, receive):
        """LiteLLM's lifespan messages; at startup, the refresh loop starts too (so the
        first request finds the database read, and /maas/metrics has counts)."""

        async def receive_and_start():
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.state().start()
            return message

        return receive_and_start

    async def _admit(self, st, scope, receive, route, path_model, request_id, who):
        if not await st.ready():
            raise Refused(
                503,
                "database",
                "The MaaS gateway cannot reach its database yet, so it cannot check keys; "
                "try again shortly.",
                retry_after=5,
            )
        if st.last_refresh is not None and st.clock() - st.last_refresh > self.max_staleness:
            raise Refused(
                503,
                "stale",
                "The MaaS gateway has not reached its database for "
                f"{(st.clock() - st.last_refresh) / 60:.0f} minutes, so it cannot confirm "
                "keys; try again shortly.",
                retry_after=30,
            )
        key = await self._key(st, scope, route, who)
        if route.api == "anthropic" and scope.get("query_string") in ANTHROPIC_QUERIES:
            scope["query_string"] = b""  # Anthropic's SDK marks its beta calls so
        if scope.get("query_string"):
            name = scope["query_string"].split(b"=")[0].decode("latin-1")
            raise Refused(
                400,
                "query",
                f"The query parameter '{log_safe(name, 40)}' is not accepted by the MaaS "
                "gateway: send parameters in the JSON body.",
            )
        routes.check_headers({k.decode("latin-1"): v for k, v in scope["headers"]})
        length, chunked = _header(scope, b"content-length"), _header(scope, b"transfer-encoding")
        if length is not None and chunked is not None:
            raise Refused(400, "body", "Send Content-Length or Transfer-Encoding, not both.")
        body = raw_size = None
        if route.method == "POST":
            body, raw_size = await self._body(scope, receive, route)
            routes.drop_ignored(route, body)
        elif chunked is not None or (length or "0").strip() != "0":
            raise Refused(400, "body", f"{route.method} {route.path} takes no request body.")
        policy = st.policy(key.user, key.profile)
        why = st.profile_closed(key.user, key.profile, policy)
        if why:
            raise Refused(
                403,
                "team-term",
                f"This key's profile '{key.profile}' comes with your team, which grants "
                f"nothing now: {why}",
            )
        allowed = st.allowed(policy.models)
        if key.models is not None:  # a key narrowed to some of its owner's models
            allowed = [m for m in allowed if m in key.models]
        model_name = path_model if route.model_in == "path" else None
        if route.model_in == "body":
            model_name = routes.body_model(body)
        if model_name is not None:
            if model_name in st.catalog:  # counted under its name; any other text, not
                who["model"] = model_name
            model = self._model(st, policy, key, model_name, allowed)
            if route.modes and model.mode not in route.modes:
                raise Refused(
                    400,
                    "mode",
                    f"The model '{model.name}' is a {model.mode} model: "
                    f"{route.method} {route.path} does not serve it.",
                )
            if body is not None:
                if "user" in body:
                    body["user"] = pseudonym(key.user)
                if isinstance(body.get("metadata"), dict) and "user_id" in body["metadata"]:
                    body["metadata"]["user_id"] = pseudonym(key.user)  # Anthropic's
                if self.in_flight.get(key.user, 0) >= self.max_in_flight:
                    raise Refused(
                        429,
                        "in-flight",
                        f"You have {self.max_in_flight} requests running already: wait for "
                        "one to finish.",
                        retry_after=1,
                    )
                if not route.local:
                    st.ledger.reserve(
                        request_id, key.user, policy, worst_case(model, route, body, raw_size)
                    )
                try:
                    st.limiter.admit(key.user, policy.rpm_limit, policy.tpm_limit)
                except Refused:
                    st.ledger.release(request_id)
                    raise
        if not route.local:  # the gate answers those at once: never in flight
            self.in_flight[key.user] = self.in_flight.get(key.user, 0) + 1
        return Admission(request_id, key, policy, allowed, model_name), body

    async def _key(self, st: GatewayState, scope, route: Route, who: dict) -> KeyInfo:
        authorization = (_header(scope, b"authorization") or "").strip()
        scheme, _, key = authorization.partition(" ")
        key = key.strip()
        # Anthropic's clients send their key as x-api-key (or a token as a bearer)
        api_key = (_header(scope, b"x-api-key") or "").strip() if route.api == "anthropic" else ""
        if api_key and authorization and (scheme.lower(), key) != ("bearer", api_key):
            raise Refused(
                401, "malformed-key", "Send your MaaS key once: as x-api-key or as a bearer."
            )
        if api_key:
            scheme, key, authorization = "bearer", api_key, api_key
        if not authorization:
            how = "as 'x-api-key: sk-maas-...' or " if route.api == "anthropic" else ""
            raise Refused(
                401,
                "no-key",
                f"No API key: send your MaaS key {how}as 'Authorization: Bearer sk-maas-...'.",
            )
        if scheme.lower() != "bearer" or not key.startswith(KEY_PREFIX):
            raise Refused(401, "malformed-key", "Invalid API key: MaaS keys start with 'sk-maas-'.")
        try:
            info = await st.key(hash_key(key))
        except LookupsBusy:
            raise Refused(
                503,
                "key-lookups",
                "The MaaS gateway is asked about too many unknown keys at the moment to "
                "look this one up; try again in a few seconds.",
                retry_after=2,
            ) from None
        except Exception as e:  # noqa: BLE001 - a key not in memory, and no database
            st.note_database_error(e)
            raise Refused(
                503,
                "database",
                "The MaaS gateway cannot reach its database to check this key; try again shortly.",
                retry_after=5,
            ) from None
        if info is None:
            raise Refused(
                401, "unknown-key", "Invalid API key: it is not known to this MaaS gateway."
            )
        who.update(user=info.user, key_id=info.parent_id or info.id)  # refusals: theirs
        if info.parent_id is None:
            self._alive(st, info)
            return info
        # a kernel's key: its server's key, expired, renewed, revoked and entitled as
        # that one is (and revoked on its own when its kernel stops), with the kernel and
        # notebook to record
        if info.revoked_at is not None:
            self._alive(st, info)
        server_key = await st.key_by_id(info.parent_id)
        if server_key is None or server_key.user != info.user:
            raise Refused(
                401, "unknown-key", "Invalid API key: it is not known to this MaaS gateway."
            )
        self._alive(st, server_key)
        return dataclasses.replace(
            server_key, kernel_id=info.kernel_id, notebook_path=info.notebook_path
        )

    @staticmethod
    def _alive(st: GatewayState, info: KeyInfo) -> None:
        if info.revoked_at is not None:
            why = f" ({info.revoked_reason})" if info.revoked_reason else ""
            raise Refused(
                401,
                "revoked-key",
                f"This API key was revoked{why}: get a new one from the MaaS service.",
            )
        if info.expires_at <= st.now():
            raise Refused(
                401, "expired-key", "This API key has expired: renew it or get a new one."
            )

    async def _body(self, scope, receive, route: Route) -> tuple[dict, int]:
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise Refused(
                415,
                "content-type",
                "Send the request body as JSON, with 'Content-Type: application/json'.",
            )
        limit = self.max_body_bytes
        declared = _header(scope, b"content-length")
        too_large = Refused(
            413,
            "too-large",
            f"The request body is larger than the MaaS gateway accepts ({limit:,} bytes).",
        )
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_large
        try:
            raw = await read_body(receive, limit)
        except _TooLarge:
            raise too_large from None
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise Refused(400, "body", "The request body is not valid JSON.") from None
        routes.check_body(route, body)
        return body, len(raw)

    @staticmethod
    def _model(st: GatewayState, policy, key: KeyInfo, name: str, allowed: list[str]) -> ModelInfo:
        yours = ", ".join(allowed) or "none"
        model = st.catalog.get(name)
        shown = log_safe(name)
        if model is None:
            raise Refused(
                404,
                "model-unknown",
                f"The model '{shown}' does not exist. Models you can use: {yours}.",
            )
        if not model.enabled:
            raise Refused(
                403,
                "model-disabled",
                f"The model '{shown}' is disabled. Models you can use: {yours}.",
            )
        if not catalog_rules.entitled(policy.models, name):
            for team_models, why in policy.idle_teams.values():
                if catalog_rules.entitled(team_models, name):
                    raise Refused(
                        403,
                        "team-term",
                        f"The model '{shown}' comes with your team, which grants nothing "
                        f"now: {why} Models you can use: {yours}.",
                    )
            raise Refused(
                403,
                "model-not-allowed",
                f"The model '{shown}' is not allowed for profile '{policy.profile}'. "
                f"Models you can use: {yours}.",
            )
        if key.models is not None and name not in key.models:
            raise Refused(
                403,
                "model-not-in-key",
                f"The model '{shown}' is not among this key's models. "
                f"Models this key can use: {yours}.",
            )
        if model.problem:
            raise Refused(
                503,
                "model-refused-backend",
                f"The model '{shown}' cannot be served: the gateway refuses its backend "
                "settings. Ask a MaaS admin to correct them.",
            )
        return model

    async def _metrics(self, scope, send) -> None:
        if not metrics_authorized(self.metrics_token, _header(scope, b"authorization")):
            return await refuse(
                send,
                Refused(
                    403,
                    "metrics",
                    "Metrics need 'Authorization: Bearer <MAAS_METRICS_TOKEN>' (and the "
                    "gateway a MAAS_METRICS_TOKEN).",
                ),
            )
        body, content_type = self.state().metrics.exposition()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(receive, body: bytes):
    """A ``receive`` that hands over the body read by the gate, then the client's own
    messages (a disconnect, for a streaming response)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
