"""The MaaS service's Prometheus metrics: ``GET <prefix>metrics`` for a hub token with
the ``custom:maas:metrics`` scope (or the MaaS admin scope).

Counted as they happen: API requests by handler, method and status, reconcile passes
and hub API failures; every label value is one of a fixed set (handler classes, the
HTTP methods or "other", statuses, outcomes and reasons the code names). Read from the
database at each scrape (one fact in one place): keys by kind and state, this month's
spend and tokens, and the month's refused requests by reason.
"""

from __future__ import annotations

import datetime as dt

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import case, func, select

from . import usage, windows
from .db import ApiKey, Refusal

METRICS_SCOPE = "custom:maas:metrics"
ADMIN_SCOPE = "custom:maas:admin"

# The methods a request is counted under; any other (anyone may send any word) is
# "other", so that no label value comes from what a client sends.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def metric_method(method: str) -> str:
    return method if method in METHODS else "other"


class DatabaseCollector:
    """Gauges read from the service's database when Prometheus scrapes."""

    def __init__(self, service):
        self.service = service

    def describe(self):
        return []

    def collect(self):
        now = self.service.utcnow()
        month, _ = windows.bounds("month", now, windows.zone("UTC"))
        keys = GaugeMetricFamily(
            "maas_service_keys", "Issued keys by kind and state", labels=["kind", "state"]
        )
        spend = GaugeMetricFamily(
            "maas_service_month_spend_usd", "Spend this calendar month (UTC), all users"
        )
        tokens = GaugeMetricFamily(
            "maas_service_month_tokens", "Tokens this calendar month, by kind", labels=["kind"]
        )
        refused = GaugeMetricFamily(
            "maas_service_month_refusals",
            "Requests the gateway refused this calendar month, by reason",
            labels=["reason"],
        )
        kind = case((ApiKey.server_name.is_(None), "personal"), else_="server")
        state = case(
            (ApiKey.revoked_at.is_not(None), "revoked"),
            (ApiKey.expires_at <= now, "expired"),
            else_="active",
        )
        with self.service.session_factory() as session:
            for k, s, n in session.execute(
                select(kind, state, func.count(ApiKey.id)).group_by(kind, state)
            ):
                keys.add_metric([k, s], n)
            r = usage.requests(session, month).c
            cost, prompt, completion = session.execute(
                select(
                    func.coalesce(func.sum(r.cost_usd), 0.0),
                    func.coalesce(func.sum(r.prompt_tokens), 0),
                    func.coalesce(func.sum(r.completion_tokens), 0),
                )
            ).one()
            for reason, n in session.execute(
                select(Refusal.reason, func.sum(Refusal.count))
                .where(Refusal.minute >= month)
                .group_by(Refusal.reason)
            ):
                refused.add_metric([reason], n)
        spend.add_metric([], float(cost))
        tokens.add_metric(["prompt"], int(prompt))
        tokens.add_metric(["completion"], int(completion))
        yield from (keys, spend, tokens, refused)


class ServiceMetrics:
    def __init__(self, service):
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "maas_service_http_requests",
            "API and portal requests, by handler, method and status",
            ["handler", "method", "status"],
            registry=registry,
        )
        self.reconciles = Counter(
            "maas_service_reconciles",
            "Checks of the hub's users and servers, by outcome (ok, hub_error, error)",
            ["outcome"],
            registry=registry,
        )
        self.revocations = Counter(
            "maas_service_revocations",
            "Keys revoked by the service's checks, by reason",
            ["reason"],
            registry=registry,
        )
        self.last_reconcile = Gauge(
            "maas_service_last_reconcile_timestamp_seconds",
            "When the last successful check of the hub's users and servers ended",
            registry=registry,
        )
        Gauge(
            "maas_service_hub_requests",
            "Requests the service made to the hub's API since start",
            registry=registry,
        ).set_function(lambda: service.hub.requests)
        registry.register(DatabaseCollector(service))

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def record_reconcile(metrics: ServiceMetrics, outcome: str, revoked: dict | None = None) -> None:
    metrics.reconciles.labels(outcome).inc()
    for reason, count in (revoked or {}).items():
        if count:
            metrics.revocations.labels(reason).inc(count)
    if outcome == "ok":
        metrics.last_reconcile.set(dt.datetime.now(dt.timezone.utc).timestamp())
