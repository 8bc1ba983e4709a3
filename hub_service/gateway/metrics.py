"""The gateway's Prometheus metrics (``GET /maas/metrics``, with ``Authorization:
Bearer $MAAS_METRICS_TOKEN``; off without a token).

Labels name catalog models, refusal reasons and statuses, never users or keys. Each
gateway process (replica, or uvicorn worker) answers for itself.
"""

from __future__ import annotations

import hmac
import math

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class GatewayMetrics:
    def __init__(self, state):
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "maas_gateway_requests",
            "Requests admitted and answered, by model and HTTP status",
            ["model", "status"],
            registry=registry,
        )
        self.refusals = Counter(
            "maas_gateway_refusals",
            "Requests the gate refused, by reason and HTTP status",
            ["reason", "status"],
            registry=registry,
        )
        self.spend = Counter(
            "maas_gateway_spend_usd",
            "Spend at catalog prices, by model",
            ["model"],
            registry=registry,
        )
        self.tokens = Counter(
            "maas_gateway_tokens",
            "Tokens used, by model and kind (prompt, completion)",
            ["model", "kind"],
            registry=registry,
        )
        self.backend_failures = Counter(
            "maas_gateway_backend_failures",
            "Requests a model's backend failed (down, cut off, too slow, erred), by model",
            ["model"],
            registry=registry,
        )
        self.key_lookups = Counter(
            "maas_gateway_key_lookups",
            "Keys not in memory, by what became of them: looked up in the database and "
            "found or not, or refused for now (busy: too many unknown keys lately)",
            ["result"],
            registry=registry,
        )
        self.database_errors = Counter(
            "maas_gateway_database_errors",
            "Failed reads of the database (refreshes and key lookups)",
            registry=registry,
        )
        gauges = {
            "maas_gateway_database_up": (
                "1 while the last refresh from the database succeeded",
                lambda: int(state.database_error is None and state.last_refresh is not None),
            ),
            "maas_gateway_snapshot_age_seconds": (
                "Seconds since the in-memory copy of the database was last refreshed",
                lambda: (
                    state.clock() - state.last_refresh
                    if state.last_refresh is not None
                    else math.nan
                ),
            ),
            "maas_gateway_refreshes": (
                "Refresh passes completed since start",
                lambda: state.refreshes,
            ),
            "maas_gateway_keys_in_memory": ("Keys held in memory", lambda: len(state.keys)),
            "maas_gateway_reservations_in_flight": (
                "Budget reservations of requests in flight",
                lambda: len(state.ledger.reserved),
            ),
            "maas_gateway_usage_queue_depth": (
                "Usage rows waiting to be written",
                lambda: state.writer.queue.qsize(),
            ),
            "maas_gateway_usage_queue_capacity": (
                "Usage rows the queue holds before it drops",
                lambda: state.writer.queue.maxsize,
            ),
            "maas_gateway_usage_rows_written": (
                "Usage rows written since start",
                lambda: state.writer.written,
            ),
        }
        for name, (doc, read) in gauges.items():
            Gauge(name, doc, registry=registry).set_function(read)
        dropped = Gauge(
            "maas_gateway_usage_rows_dropped",
            "Usage rows dropped since start: the queue was full, or the database refused one",
            ["cause"],
            registry=registry,
        )
        dropped.labels("queue_full").set_function(lambda: state.writer.dropped_full)
        dropped.labels("refused_by_database").set_function(lambda: state.writer.dropped_bad)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def authorized(token: str, authorization: str | None) -> bool:
    """Whether ``authorization`` (the request's header) carries the metrics token."""
    if not token or not authorization:
        return False
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)
