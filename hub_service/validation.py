"""Checking what admins send: each field's type and range, with a sentence on failure."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .policy import PERIODS

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,254}$")
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


def text(max_len: int = 255, pattern: re.Pattern | None = None, hint: str = ""):
    def check(name, value):
        if not isinstance(value, str) or len(value) > max_len:
            raise Invalid(f"{name} must be a string of at most {max_len} characters.")
        if pattern is not None and not pattern.match(value):
            raise Invalid(f"{name} {value!r} is not valid{': ' + hint if hint else ''}.")
        return value

    return check


def number(minimum: float = 0.0, integer: bool = False):
    def check(name, value):
        ok = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok or value < minimum:
            kind = "a whole number" if integer else "a number"
            raise Invalid(f"{name} must be {kind} of at least {minimum:g}.")
        return value

    return check


def boolean(name, value):
    if not isinstance(value, bool):
        raise Invalid(f"{name} must be true or false.")
    return value


def one_of(choices):
    def check(name, value):
        if value not in choices:
            raise Invalid(f"{name} must be one of: {', '.join(choices)}.")
        return value

    return check


def names(pattern: re.Pattern = NAME_RE):
    def check(name, value):
        if not isinstance(value, list) or not all(
            isinstance(v, str) and (v == "*" or pattern.match(v)) for v in value
        ):
            raise Invalid(f'{name} must be a list of names (or ["*"] for all).')
        return list(dict.fromkeys(value))

    return check


def url(name, value):
    if not isinstance(value, str) or not re.match(r"^https?://[^\s]+$", value):
        raise Invalid(f"{name} must be an http(s) URL.")
    return value


def extra_params(name, value):
    if not isinstance(value, dict):
        raise Invalid(f"{name} must be an object of LiteLLM parameters.")
    secret = SECRET_PARAMS & set(value)
    if secret:
        raise Invalid(
            f"{name} may not hold secrets ({', '.join(sorted(secret))}): put the secret in "
            "the gateway's environment and name the variable in api_key_env."
        )
    return value


def resources(name, value):
    if not isinstance(value, dict):
        raise Invalid(f"{name} must be an object.")
    spec = {
        "cpu_limit": number(0.0),
        "cpu_guarantee": number(0.0),
        "mem_limit": text(32, QUANTITY_RE, "a quantity such as 4G or 512Mi"),
        "mem_guarantee": text(32, QUANTITY_RE, "a quantity such as 4G or 512Mi"),
        "gpu": number(0, integer=True),
        "image": text(512),
        "node_selector": str_map,
        "tolerations": tolerations,
    }
    unknown = set(value) - set(spec)
    if unknown:
        raise Invalid(f"{name} has unknown fields {sorted(unknown)}; known: {sorted(spec)}.")
    return {k: spec[k](f"{name}.{k}", v) for k, v in value.items()}


def str_map(name, value):
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise Invalid(f"{name} must be an object of strings.")
    return value


def tolerations(name, value):
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise Invalid(f"{name} must be a list of Kubernetes tolerations.")
    return value


MODEL_FIELDS = {
    "name": Field(text(255, NAME_RE, "letters, digits and . _ : @ -"), required=True),
    "provider_model": Field(text(255), required=True),
    "api_base": Field(url, nullable=True),
    "api_key_env": Field(text(255, ENV_RE, "an environment variable's name"), nullable=True),
    "mode": Field(one_of(MODES)),
    "description": Field(text(4000)),
    "context_window": Field(number(1, integer=True), nullable=True),
    "max_output_tokens": Field(number(1, integer=True), nullable=True),
    "capabilities": Field(names(re.compile(r"^[a-z_]{1,64}$"))),
    "input_cost_per_token": Field(number(0.0)),
    "output_cost_per_token": Field(number(0.0)),
    "enabled": Field(boolean),
    "extra_params": Field(extra_params),
}

PROFILE_FIELDS = {
    "slug": Field(text(64, SLUG_RE, "lower-case letters, digits and -"), required=True),
    "display_name": Field(text(255), required=True),
    "description": Field(text(4000)),
    "resources": Field(resources),
    "default": Field(boolean),
    "models": Field(names()),
    "budget_usd": Field(number(0.0), nullable=True),
    "budget_period": Field(one_of(PERIODS)),
    "rpm_limit": Field(number(1, integer=True), nullable=True),
    "tpm_limit": Field(number(1, integer=True), nullable=True),
}

OVERRIDE_FIELDS = {
    "extra_models": Field(names()),
    "budget_usd": Field(number(0.0), nullable=True),
    "budget_period": Field(one_of(PERIODS), nullable=True),
    "rpm_limit": Field(number(1, integer=True), nullable=True),
    "tpm_limit": Field(number(1, integer=True), nullable=True),
}


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
