"""The gateway's settings, written once: each one's trait name on ``MaaSGateway``, the
environment variable that carries it into the LiteLLM process (where the plugin reads
it), its type, default and help.

``MaaSGateway`` makes a trait of each (``--help-all`` lists them); its ``start`` hands
the resolved values to the proxy it execs through ``to_env``; the plugin reads them back
with ``read``; the Pulumi program (infra/) takes them as ``maas:gateway`` keys named by
``knob``. This module imports nothing but the standard library, so that all three can
load it (the Pulumi program loads it by path, without the service's packages).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str  # the trait: c.MaaSGateway.<name>
    env: str  # the environment variable
    type: type  # int, float, str or list (of str; comma-separated in the environment)
    default: Any
    help: str
    # a secret (a token, or a URL that may hold one): never on a command line, where
    # ps shows it; from the environment or a config file only
    secret: bool = False
    # the service reads it too (it checks the catalog, or reports windows, by the same
    # rule): whoever deploys the gateway gives the service the same value
    shared: bool = False

    @property
    def knob(self) -> str:
        """The key in the Pulumi program's ``maas:gateway`` map (camelCase)."""
        first, *rest = self.name.split("_")
        return first + "".join(word.capitalize() for word in rest)

    def parse(self, text: str) -> Any:
        """The value of the environment variable's ``text``; ValueError naming the variable."""
        if self.type is list:
            return [item.strip() for item in text.split(",") if item.strip()]
        try:
            return self.type(text)
        except ValueError:
            kind = "a whole number" if self.type is int else "a number"
            raise ValueError(f"${self.env} is {text!r}: it must be {kind}.") from None

    def format(self, value: Any) -> str:
        """``value`` as the environment carries it."""
        if self.type is list:
            return ",".join(str(item) for item in value)
        return str(value)

    def from_env(self, environ: Mapping[str, str]) -> Any:
        """The value in ``environ``, else the default."""
        text = environ.get(self.env)
        return self.default if text is None else self.parse(text)


# Room for a chat request with a few images (base64), well short of exhausting memory.
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024

# Alphabetical, like the traits they become.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "alert_threshold",
        "MAAS_ALERT_THRESHOLD",
        float,
        0.8,
        "The share of a budget (0-1) at which the alert webhook is called.",
    ),
    Setting(
        "alert_webhook_url",
        "MAAS_ALERT_WEBHOOK_URL",
        str,
        "",
        "A URL the gateway POSTs to (JSON) when a user's spend reaches alert_threshold "
        "of a budget; empty: no alerts. It may hold a token (Slack's do), so it is "
        "refused on the command line: set it in the environment or a config file.",
        secret=True,
    ),
    Setting(
        "backend_hosts",
        "MAAS_BACKEND_HOSTS",
        list,
        [],
        "The only hosts a catalog model's api_base may name (the service applies the "
        "same rule); empty: any host but link-local and cloud metadata addresses.",
        shared=True,
    ),
    Setting(
        "backend_key_env_prefixes",
        "MAAS_BACKEND_KEY_ENV_PREFIXES",
        list,
        ["MAAS_BACKEND_"],
        "The prefixes a catalog model's api_key_env (the gateway's variable holding its "
        "backend key) must begin with (the service applies the same rule); the "
        "gateway's and service's own secrets are refused whatever the prefixes.",
        shared=True,
    ),
    Setting(
        "budget_timezone",
        "MAAS_BUDGET_TIMEZONE",
        str,
        "UTC",
        "The time zone (IANA name) on whose clock budget windows start: days at its "
        "midnight, weeks on Monday, months on the 1st. The service must have the same "
        "(add_maas's environment and the Pulumi program give both).",
        shared=True,
    ),
    Setting(
        "key_lookup_burst",
        "MAAS_KEY_LOOKUP_BURST",
        int,
        200,
        "Keys not yet in memory looked up in the database at once (a class's servers "
        "and kernels using new keys); beyond it and key_lookup_rate, 503 'try again'.",
    ),
    Setting(
        "key_lookup_rate",
        "MAAS_KEY_LOOKUP_RATE",
        float,
        20.0,
        "Keys not yet in memory looked up in the database per second, on average (a "
        "flood of made-up keys costs no more queries than this).",
    ),
    Setting(
        "max_body_bytes",
        "MAAS_MAX_BODY_BYTES",
        int,
        DEFAULT_MAX_BODY_BYTES,
        "A request's largest body, in bytes (413 beyond it).",
    ),
    Setting(
        "max_in_flight",
        "MAAS_MAX_IN_FLIGHT",
        int,
        64,
        "Requests one user may have running at once on one gateway (429 beyond it).",
    ),
    Setting(
        "max_staleness",
        "MAAS_MAX_STALENESS",
        float,
        600.0,
        "Seconds the gateway keeps serving keys from memory while its database is "
        "unreachable; then 503 until it is back.",
    ),
    Setting(
        "metrics_token",
        "MAAS_METRICS_TOKEN",
        str,
        "",
        "The bearer token of /maas/metrics (Prometheus); empty: no metrics are served. "
        "A secret, so refused on the command line: set it in the environment or a "
        "config file.",
        secret=True,
    ),
    Setting(
        "refresh_interval",
        "MAAS_REFRESH_INTERVAL",
        float,
        2.0,
        "Seconds between re-reads of keys, policies, the catalog and spend from the database.",
    ),
    Setting(
        "refusal_interval",
        "MAAS_REFUSAL_INTERVAL",
        float,
        10.0,
        "Seconds between writes of the refusal counts (what users and admins see among "
        "their usage).",
    ),
    Setting(
        "usage_queue",
        "MAAS_USAGE_QUEUE",
        int,
        100_000,
        "Usage rows held in memory while the database is slow or down (rows beyond it "
        "are dropped, and counted).",
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def read(environ: Mapping[str, str]) -> dict[str, Any]:
    """Every setting's value (by name) from ``environ``, defaults for those not set."""
    return {s.name: s.from_env(environ) for s in SETTINGS}


def to_env(values: Mapping[str, Any]) -> dict[str, str]:
    """The environment that carries ``values`` (by name) to the proxy."""
    return {BY_NAME[name].env: BY_NAME[name].format(value) for name, value in values.items()}
