"""Checking what admins send: each field's type and range, with a sentence on failure.

A catalog model's backend fields (``provider_model``, ``api_base``, ``api_key_env``,
``extra_params``) decide where the gateway sends requests and which of its environment
variables it sends along. ``check_backend`` applies the rules on them; the admin API,
the service's seed models and the gateway (on every catalog row it loads) all call it,
so a row written behind the API's back cannot aim the gateway at its own secrets.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import os
import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import windows
from .gateway.settings import BY_NAME as GATEWAY_SETTINGS
from .pricing import load_instance_prices

# A model's name as its users know it: ``smollm2-135m`` or a Hugging Face style id such
# as ``Qwen/Qwen2.5-7B-Instruct`` (case kept). Each /-separated segment begins with a
# letter or digit, so there is no empty segment, no leading or trailing /, no ``.`` or
# ``..``, and no cell a spreadsheet would run as a formula; nothing that needs quoting
# in a URL path but the /. ``\Z``, not ``$``, which would let a trailing newline in.
NAME_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._:@-]*"
NAME_RE = re.compile(rf"^(?=.{{1,255}}\Z){NAME_SEGMENT}(?:/{NAME_SEGMENT})*\Z")
NAME_HINT = (
    "letters, digits and . _ : @ -, in segments joined by / (such as "
    "Qwen/Qwen2.5-7B-Instruct), each beginning with a letter or digit"
)
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
QUANTITY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?([KMGTPE]i?)?$")
MODES = (
    "chat",
    "completion",
    "embedding",
    "image_generation",
    "audio_transcription",
    "audio_speech",
    "rerank",
    "responses",
)
# Parameters that hold secrets: they belong in the gateway's environment, not here.
SECRET_PARAMS = {
    "api_key",
    "aws_secret_access_key",
    "aws_session_token",
    "azure_ad_token",
    "client_secret",
    "vertex_credentials",
}


class Invalid(ValueError):
    """Input that cannot be accepted; the message says what to send instead."""


@dataclass(frozen=True)
class Field:
    check: Callable[[str, Any], Any]
    required: bool = False
    nullable: bool = False

    def json_schema(self) -> dict:
        """What the check accepts, as JSON Schema (the OpenAPI document's source)."""
        return nullable(described(self.check)) if self.nullable else described(self.check)


def schema(spec: dict):
    """Attach ``spec``, the JSON Schema of what a check accepts, to the check."""

    def attach(check):
        check.schema = spec
        return check

    return attach


def described(check) -> dict:
    return dict(getattr(check, "schema", {}))


def nullable(spec: dict) -> dict:
    if "enum" in spec:
        return {**spec, "enum": [*spec["enum"], None]}
    kind = spec.get("type")
    if isinstance(kind, str):
        return {**spec, "type": [kind, "null"]}
    if isinstance(kind, list):
        return {**spec, "type": [*kind, "null"]}
    return {"anyOf": [spec, {"type": "null"}]}


def text(max_len: int = 255, pattern: re.Pattern | None = None, hint: str = ""):
    def check(name, value):
        if not isinstance(value, str) or len(value) > max_len:
            raise Invalid(f"{name} must be a string of at most {max_len} characters.")
        if pattern is not None and not pattern.fullmatch(value):
            raise Invalid(f"{name} {value!r} is not valid{': ' + hint if hint else ''}.")
        return value

    check.schema = {"type": "string", "maxLength": max_len}
    if hint:
        check.schema["description"] = hint[:1].upper() + hint[1:] + "."
    return check


def number(minimum: float = 0.0, integer: bool = False):
    def check(name, value):
        ok = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok or value < minimum:
            kind = "a whole number" if integer else "a number"
            raise Invalid(f"{name} must be {kind} of at least {minimum:g}.")
        return value

    check.schema = {"type": "integer" if integer else "number", "minimum": minimum}
    return check


def positive():
    """A finite number above 0 (a price or a rate to divide by)."""

    def check(name, value):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise Invalid(f"{name} must be a number above 0.")
        return value

    check.schema = {"type": "number", "exclusiveMinimum": 0}
    return check


@schema({"type": "boolean"})
def boolean(name, value):
    if not isinstance(value, bool):
        raise Invalid(f"{name} must be true or false.")
    return value


def one_of(choices):
    def check(name, value):
        if value not in choices:
            raise Invalid(f"{name} must be one of: {', '.join(choices)}.")
        return value

    check.schema = {"enum": list(choices)}
    return check


def names(pattern: re.Pattern = NAME_RE):
    def check(name, value):
        if not isinstance(value, list) or not all(
            isinstance(v, str) and (v == "*" or pattern.fullmatch(v)) for v in value
        ):
            raise Invalid(f'{name} must be a list of names (or ["*"] for all).')
        return list(dict.fromkeys(value))

    check.schema = {
        "type": "array",
        "items": {"type": "string"},
        "description": 'Names, or ["*"] for all.',
    }
    return check


def budget_list(allowed: tuple[str, ...]):
    """Budgets over windows: ``[{"window": "day", "usd": 1.0}, ...]``, one per window."""
    usd = number(0.0)

    def check(name, value):
        shape = (
            f'{name} must be a list of {{"window": ..., "usd": ...}} with window one of '
            f"{', '.join(allowed)} (each at most once) and usd a number of at least 0"
        )
        if not isinstance(value, list) or not all(
            isinstance(b, dict) and set(b) == {"window", "usd"} for b in value
        ):
            raise Invalid(shape + ".")
        seen = [b["window"] for b in value]
        if any(w not in allowed for w in seen) or len(set(seen)) != len(seen):
            raise Invalid(shape + f"; got windows {seen}.")
        for b in value:
            usd(f"{name}[{b['window']}].usd", b["usd"])
        order = {w: i for i, w in enumerate(windows.WINDOWS)}
        return sorted(
            ({"window": b["window"], "usd": b["usd"]} for b in value),
            key=lambda b: order[b["window"]],
        )

    check.schema = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["window", "usd"],
            "additionalProperties": False,
            "properties": {
                "window": {"enum": list(allowed)},
                "usd": {"type": "number", "minimum": 0},
            },
        },
        "description": "Budgets in USD, at most one per window; the lowest left binds.",
    }
    return check


@schema(
    {
        "type": "string",
        "format": "date-time",
        "description": "An instant on a quarter hour, with its offset: 2027-01-31T23:00:00Z.",
    }
)
def quarter_hour(name, value):
    """An ISO 8601 instant with an offset, on a quarter hour; naive UTC."""
    try:
        parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise Invalid(f"{name} must be an instant with its offset, such as 2027-01-31T23:00:00Z.")
    parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    if not windows.on_bucket(parsed):
        raise Invalid(f"{name} must fall on a quarter hour (:00, :15, :30 or :45).")
    return parsed


# A hub group's name, as the admin API's paths take it (no slash, no control character).
GROUP_RE = re.compile(r"^[^/\x00-\x1f\x7f\s](?:[^/\x00-\x1f\x7f]{0,253}[^/\x00-\x1f\x7f\s])?$")


@schema(
    {
        "type": "array",
        "items": {"type": "string", "maxLength": 255},
        "description": "Hub group names; empty: everyone.",
    }
)
def group_names(name, value):
    if not isinstance(value, list) or not all(
        isinstance(v, str) and GROUP_RE.fullmatch(v) for v in value
    ):
        raise Invalid(
            f"{name} must be a list of hub group names (no slash, no spaces at either end), "
            "or [] for everyone."
        )
    return list(dict.fromkeys(value))


@schema({"type": "string", "format": "uri"})
def url(name, value):
    if not isinstance(value, str) or not re.match(r"^https?://[^\s]+$", value):
        raise Invalid(f"{name} must be an http(s) URL.")
    return value


@schema({"type": "object", "additionalProperties": {"type": "string"}})
def str_map(name, value):
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise Invalid(f"{name} must be an object of strings.")
    return value


@schema({"type": "array", "items": {"type": "object"}, "description": "Kubernetes tolerations."})
def tolerations(name, value):
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise Invalid(f"{name} must be a list of Kubernetes tolerations.")
    return value


RESOURCES = {
    "cpu_limit": number(0.0),
    "cpu_guarantee": number(0.0),
    "mem_limit": text(32, QUANTITY_RE, "a quantity such as 4G or 512Mi"),
    "mem_guarantee": text(32, QUANTITY_RE, "a quantity such as 4G or 512Mi"),
    "gpu": number(0, integer=True),
    "image": text(512),
    "node_selector": str_map,
    "tolerations": tolerations,
}


@schema(
    {
        "type": "object",
        "properties": {k: described(check) for k, check in RESOURCES.items()},
        "additionalProperties": False,
    }
)
def resources(name, value):
    if not isinstance(value, dict):
        raise Invalid(f"{name} must be an object.")
    unknown = set(value) - set(RESOURCES)
    if unknown:
        raise Invalid(f"{name} has unknown fields {sorted(unknown)}; known: {sorted(RESOURCES)}.")
    return {k: RESOURCES[k](f"{name}.{k}", v) for k, v in value.items()}


# -- backend rules ------------------------------------------------------------------------

# gateway settings the service shares (the gateway's table names their variables)
KEY_ENV_PREFIXES_VAR = GATEWAY_SETTINGS["backend_key_env_prefixes"].env
BACKEND_HOSTS_VAR = GATEWAY_SETTINGS["backend_hosts"].env
DEFAULT_KEY_ENV_PREFIXES = tuple(GATEWAY_SETTINGS["backend_key_env_prefixes"].default)
# The gateway's and service's own secrets: never a backend key, whatever the prefixes
# (the gateway's secret settings among them: its metrics token, its alert webhook).
OWN_SECRETS = frozenset(
    {"MAAS_DB_URL", "LITELLM_MASTER_KEY", "LITELLM_SALT_KEY", "JUPYTERHUB_API_TOKEN"}
    | {s.env for s in GATEWAY_SETTINGS.values() if s.secret}
)
# Cloud instance metadata services: they hand out the machine's credentials.
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.azure.com",
    }
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task credentials
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure's host endpoint
    )
)
# Backend names and the seconds their addresses are remembered: the gateway checks
# every catalog row at every refresh.
_RESOLVED: dict[str, tuple[float, tuple[str, ...]]] = {}
RESOLVE_TTL = 60.0


@dataclass(frozen=True)
class BackendRules:
    """Which variables may hold backend keys and which hosts may serve backends."""

    key_env_prefixes: tuple[str, ...] = DEFAULT_KEY_ENV_PREFIXES
    # empty: any host that is not refused (link-local, metadata)
    hosts: tuple[str, ...] = ()


def _listed(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def backend_rules(environ: Mapping[str, str] | None = None) -> BackendRules:
    """The rules from the environment: ``MAAS_BACKEND_KEY_ENV_PREFIXES`` and
    ``MAAS_BACKEND_HOSTS`` (comma-separated). The service and the gateway both read
    them here, so both apply the same rule."""
    environ = os.environ if environ is None else environ
    return BackendRules(
        key_env_prefixes=_listed(environ.get(KEY_ENV_PREFIXES_VAR)) or DEFAULT_KEY_ENV_PREFIXES,
        hosts=tuple(_host_key(h) for h in _listed(environ.get(BACKEND_HOSTS_VAR))),
    )


def _host_key(host: str) -> str:
    return host.lower().rstrip(".").strip("[]")


def _resolve(host: str) -> tuple[str, ...]:
    """The addresses ``host`` resolves to here (none if it does not resolve)."""
    now = time.monotonic()
    cached = _RESOLVED.get(host)
    if cached and cached[0] > now:
        return cached[1]
    try:
        addresses = tuple({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (OSError, UnicodeError):
        addresses = ()
    if len(_RESOLVED) > 1000:
        _RESOLVED.clear()
    _RESOLVED[host] = (now + RESOLVE_TTL, addresses)
    return addresses


def _forbidden_address(value: str) -> bool:
    try:
        address = ipaddress.ip_address(value.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_link_local or address in METADATA_ADDRESSES


@schema({"type": "string", "maxLength": 255, "description": "LiteLLM's provider/model."})
def backend_model(name, value):
    """LiteLLM's ``provider/model``: a name, never a reference to the environment."""
    text(255)(name, value)
    if not value.strip() or _environ_references(value):
        raise Invalid(f"{name} must name a model, such as openai/llama3.")
    return value


@schema(
    {
        "type": "string",
        "maxLength": 255,
        "description": "Name of the gateway's environment variable holding the backend key "
        f"(never the key), beginning with one of ${KEY_ENV_PREFIXES_VAR} "
        f"(default {', '.join(DEFAULT_KEY_ENV_PREFIXES)}).",
    }
)
def backend_key_env(name, value, rules: BackendRules | None = None):
    """The name of the gateway's variable holding a backend's key: only names with an
    allowed prefix, so the gateway's own secrets are never sent to a backend. The
    value is never echoed: it may be a key pasted by mistake."""
    rules = rules or backend_rules()
    if (
        not isinstance(value, str)
        or not ENV_RE.fullmatch(value)
        or value in OWN_SECRETS
        or not value.startswith(rules.key_env_prefixes)
    ):
        raise Invalid(
            f"{name} must be the name of an environment variable of the gateway that "
            f"begins with {' or '.join(rules.key_env_prefixes)} (the gateway sends no "
            f"other variable to a backend; {KEY_ENV_PREFIXES_VAR} sets the prefixes)."
        )
    return value


@schema(
    {
        "type": "string",
        "maxLength": 1024,
        "description": "The backend's http(s) URL: no user or password, no link-local or "
        f"cloud metadata address; one of ${BACKEND_HOSTS_VAR}'s hosts when it is set.",
    }
)
def backend_url(name, value, rules: BackendRules | None = None):
    """A backend's http(s) URL: no credentials in it, no link-local or cloud metadata
    address (by name, by address, or by what the name resolves to here), and one of
    ``MAAS_BACKEND_HOSTS`` when that is set."""
    text(1024)(name, value)
    url(name, value)
    if "\\" in value:
        raise Invalid(f"{name} may not contain a backslash.")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise Invalid(f"{name} is not a valid URL: send http(s)://host[:port]/path.") from None
    if "@" in parts.netloc:
        raise Invalid(
            f"{name} may not hold a user or password: put the backend's key in the "
            "gateway's environment and name the variable in api_key_env."
        )
    host = _host_key(parts.hostname or "")
    if not host:
        raise Invalid(f"{name} names no host: send http(s)://host[:port]/path.")
    rules = rules or backend_rules()
    refused = host in METADATA_HOSTS or any(_forbidden_address(a) for a in (host, *_resolve(host)))
    if refused:
        raise Invalid(
            f"{name} may not point at a link-local or cloud metadata address ({host}): "
            "those hand out the gateway machine's credentials; use the backend's own address."
        )
    if rules.hosts and host not in rules.hosts:
        raise Invalid(
            f"{name}'s host {host} is not an allowed backend host: use one of "
            f"{', '.join(rules.hosts)} (set by {BACKEND_HOSTS_VAR})."
        )
    return value


@schema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]})
def stop_words(name, value):
    if isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        return value
    raise Invalid(f"{name} must be a string or a list of strings.")


@schema({"type": "array", "items": {"type": "string"}})
def str_list(name, value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(f"{name} must be a list of strings.")
    return value


# The LiteLLM deployment parameters a catalog model may set: timeouts, retries and
# limits, LiteLLM's mock backend (tests and the local demo), the provider's
# organisation and API version, and a few sampling defaults. Anything else (another
# api_base, credentials, pricing, routing) is refused.
EXTRA_PARAMS: dict[str, Callable[[str, Any], Any]] = {
    "timeout": number(0.0),
    "stream_timeout": number(0.0),
    "max_retries": number(0, integer=True),
    "num_retries": number(0, integer=True),
    "rpm": number(0, integer=True),
    "tpm": number(0, integer=True),
    "mock_response": text(100_000),
    "organization": text(255),
    "api_version": text(64),
    "drop_params": boolean,
    "additional_drop_params": str_list,
    "temperature": number(0.0),
    "top_p": number(0.0),
    "max_tokens": number(1, integer=True),
    "seed": number(0, integer=True),
    "stop": stop_words,
}


def _environ_references(value) -> bool:
    """Whether any string in ``value`` (recursively) is a LiteLLM ``os.environ/``
    reference, which would make the gateway read one of its variables."""
    if isinstance(value, str):
        return value.strip().lower().startswith("os.environ/")
    if isinstance(value, dict):
        return any(_environ_references(v) for kv in value.items() for v in kv)
    if isinstance(value, list | tuple):
        return any(_environ_references(v) for v in value)
    return False


@schema(
    {
        "type": "object",
        "properties": {k: described(check) for k, check in EXTRA_PARAMS.items()},
        "additionalProperties": False,
        "description": "LiteLLM deployment parameters, only these; no os.environ/ value.",
    }
)
def backend_params(name, value):
    if not isinstance(value, dict):
        raise Invalid(f"{name} must be an object of LiteLLM parameters.")
    secret = SECRET_PARAMS & set(value)
    if secret:
        raise Invalid(
            f"{name} may not hold secrets ({', '.join(sorted(secret))}): put the secret in "
            "the gateway's environment and name the variable in api_key_env."
        )
    unknown = sorted(set(value) - set(EXTRA_PARAMS))
    if unknown:
        raise Invalid(
            f"{name} may not set {', '.join(map(str, unknown))}; allowed: "
            f"{', '.join(EXTRA_PARAMS)}."
        )
    if _environ_references(value):
        raise Invalid(
            f"{name} may not refer to the gateway's environment (os.environ/...): "
            "name a backend key's variable in api_key_env instead."
        )
    return {k: EXTRA_PARAMS[k](f"{name}.{k}", v) for k, v in value.items()}


MODEL_FIELDS = {
    "name": Field(text(255, NAME_RE, NAME_HINT), required=True),
    "provider_model": Field(backend_model, required=True),
    "api_base": Field(backend_url, nullable=True),
    "api_key_env": Field(backend_key_env, nullable=True),
    "mode": Field(one_of(MODES)),
    "description": Field(text(4000)),
    "context_window": Field(number(1, integer=True), nullable=True),
    "max_output_tokens": Field(number(1, integer=True), nullable=True),
    "capabilities": Field(names(re.compile(r"^[a-z_]{1,64}$"))),
    "input_cost_per_token": Field(number(0.0)),
    "output_cost_per_token": Field(number(0.0)),
    "enabled": Field(boolean),
    "extra_params": Field(backend_params),
}

PROFILE_FIELDS = {
    "slug": Field(text(64, SLUG_RE, "lower-case letters, digits and -"), required=True),
    "display_name": Field(text(255), required=True),
    "description": Field(text(4000)),
    "resources": Field(resources),
    "default": Field(boolean),
    "models": Field(names()),
    "budgets": Field(budget_list(windows.CALENDAR)),
    "rpm_limit": Field(number(1, integer=True), nullable=True),
    "tpm_limit": Field(number(1, integer=True), nullable=True),
    # who may start it and have keys for it (hub admins: any profile)
    "groups": Field(group_names),
}

OVERRIDE_FIELDS = {
    "extra_models": Field(names()),
    "budgets": Field(budget_list(windows.CALENDAR)),
    "rpm_limit": Field(number(1, integer=True), nullable=True),
    "tpm_limit": Field(number(1, integer=True), nullable=True),
}

# What the hub admin sets of a team: the models its team admins may choose among.
TEAM_FIELDS = {"available_models": Field(names())}
# What a team's admins set (``teams/{group}``): see ``hub_service.teams``.
TEAM_SETTINGS_FIELDS = {
    "models": Field(names()),
    "budgets": Field(budget_list(windows.WINDOWS)),
    "caps": Field(budget_list(windows.WINDOWS)),
    "starts_at": Field(quarter_hour, nullable=True),
    "ends_at": Field(quarter_hour, nullable=True),
    "alert_percent": Field(number(1, integer=True)),
}
# A member's adjustment: their own budgets in the team, and why.
TEAM_MEMBER_FIELDS = {
    "budgets": Field(budget_list(windows.WINDOWS), required=True),
    "note": Field(text(1000)),
}

# A key's own settings (users': issue, edit). ``models`` narrows the key to some of the
# models its owner's policy allows (null: all of them, as the policy changes).
KEY_FIELDS = {
    "name": Field(text(255)),
    "models": Field(names(), nullable=True),
}
ISSUE_KEY_FIELDS = {
    "server_name": Field(text(255, hint="'' is the default server")),
    **KEY_FIELDS,
    "expires_in_days": Field(number(1, integer=True)),
}
# A turn of the portal's chat playground: the conversation so far (the last message the
# user's) sent to one of the user's models, with its sampling settings
PLAYGROUND_ROLES = ("system", "user", "assistant")
PLAYGROUND_MESSAGES = 200
PLAYGROUND_CHARS = 100_000


def chat_messages(name, value):
    shape = (
        f'{name} must be a list of 1 to {PLAYGROUND_MESSAGES} {{"role": ..., "content": ...}} '
        f"with role one of {', '.join(PLAYGROUND_ROLES)} and content a string of at most "
        f"{PLAYGROUND_CHARS:,} characters, the last one the user's"
    )
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= PLAYGROUND_MESSAGES
        or not all(
            isinstance(m, dict)
            and set(m) == {"role", "content"}
            and m["role"] in PLAYGROUND_ROLES
            and isinstance(m["content"], str)
            and len(m["content"]) <= PLAYGROUND_CHARS
            for m in value
        )
        or value[-1]["role"] != "user"
    ):
        raise Invalid(shape + ".")
    return value


chat_messages.schema = {
    "type": "array",
    "minItems": 1,
    "maxItems": PLAYGROUND_MESSAGES,
    "items": {
        "type": "object",
        "required": ["role", "content"],
        "additionalProperties": False,
        "properties": {
            "role": {"enum": list(PLAYGROUND_ROLES)},
            "content": {"type": "string", "maxLength": PLAYGROUND_CHARS},
        },
    },
    "description": "The conversation so far, the last message the user's.",
}
PLAYGROUND_FIELDS = {
    "model": Field(text(255), required=True),
    "messages": Field(chat_messages, required=True),
    "temperature": Field(number(0.0)),
    "max_tokens": Field(number(1, integer=True)),
}
# What a server tells of one of its kernels: the notebook (or console, or file) it runs
# for, relative to the server's root (null: none, e.g. a kernel started on its own).
KERNEL_KEY_FIELDS = {"notebook_path": Field(text(1024), nullable=True)}
# The seed method's inputs (admin/pricing): an instance of the price table or its hourly
# price, the throughput, and whether it runs at the spot factor.
SEED_PRICING_FIELDS = {
    "instance": Field(one_of(tuple(load_instance_prices()["instances"]))),
    "hourly": Field(positive()),
    "tokens_per_second": Field(positive(), required=True),
    "spot": Field(boolean),
}


def check_backend(
    provider_model: str,
    api_base: str | None,
    api_key_env: str | None,
    extra_params: dict | None,
    rules: BackendRules | None = None,
) -> None:
    """Raise ``Invalid`` with a sentence unless a catalog row's backend fields are
    allowed: the same checks as the admin API's, for the gateway to apply to every row
    it loads (one written behind the API's back included)."""
    rules = rules or backend_rules()
    backend_model("provider_model", provider_model)
    if api_base is not None:
        backend_url("api_base", api_base, rules)
    if api_key_env is not None:
        backend_key_env("api_key_env", api_key_env, rules)
    backend_params("extra_params", extra_params or {})


def validate(body: dict, fields: dict[str, Field], *, partial: bool = False) -> dict:
    """The checked fields of ``body``; ``partial`` (an edit) needs no required ones."""
    if "api_key" in body and "api_key" not in fields:
        raise Invalid(
            "api_key is not accepted: put the key in the gateway's environment and send "
            "api_key_env, the variable's name."
        )
    unknown = set(body) - set(fields)
    if unknown:
        raise Invalid(f"Unknown fields {sorted(unknown)}; known: {sorted(fields)}.")
    if not partial:
        missing = [n for n, f in fields.items() if f.required and n not in body]
        if missing:
            raise Invalid(f"Missing required fields: {', '.join(missing)}.")
    out = {}
    for name, value in body.items():
        field = fields[name]
        out[name] = None if value is None and field.nullable else field.check(name, value)
    return out


# What a start of a notebook server (users/{user}/servers/...) may send: a profile's
# slug, checked as the admin API checks slugs (absent: the default profile).
SERVER_FIELDS = {"profile": Field(PROFILE_FIELDS["slug"].check)}
