"""The service's user-facing JSON API (``{prefix}api/v1/``: catalog, profiles, usage,
the hub's events, health, metrics; keys are in ``key_handlers``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re

from sqlalchemy import select

from . import __version__, catalog, hub, keys, policy, starts, teams, usage, validation, windows
from .db import ApiKey, CatalogModel, Profile, Refusal
from .gateway import routes as gateway_routes
from .metrics import ADMIN_SCOPE, METRICS_SCOPE
from .openapi import openapi_document
from .web import NAME_MAX, USER, APIError, APIHandler, caller_server

log = logging.getLogger(__name__)

# Seconds the health check waits for the database before it says "unreachable".
HEALTH_DATABASE_TIMEOUT = 5.0


class HealthHandler(APIHandler):
    """GET: liveness, and whether the database answers with its schema revision (and
    the one this version needs); no authentication. Always 200 while the service runs:
    a database outage is no reason to restart it."""

    require_auth = False

    async def get(self):
        try:
            database = await asyncio.wait_for(
                asyncio.to_thread(self.service.database_state), HEALTH_DATABASE_TIMEOUT
            )
        except asyncio.TimeoutError:
            database = {"reachable": False, "error": "timeout"}
        self.write_json({"status": "ok", "version": __version__, "database": database})


class OpenAPIHandler(APIHandler):
    """GET: the OpenAPI 3.1 document of this API; no authentication."""

    require_auth = False

    def get(self):
        self.write_json(openapi_document(self.service.api_prefix, self.service.api_routes))


class InfoHandler(APIHandler):
    """GET: who you are and where the gateway is."""

    def get(self):
        me = self.current_user
        self.write_json(
            {
                "version": __version__,
                "user": me["name"],
                "server": caller_server(me),
                "gateway_url": self.service.gateway_url,
                "base_url": self.service.client_base_url,
            }
        )


class ModelsHandler(APIHandler):
    """GET: the enabled models of the catalog, with prices, capabilities and the request
    fields the gateway passes on for each (from its route table)."""

    def get(self):
        with self.db as db:
            rows = db.scalars(
                select(CatalogModel)
                .where(CatalogModel.enabled.is_(True))
                .order_by(CatalogModel.name)
            ).all()
            self.write_json(
                {
                    "models": [
                        {
                            **catalog.model_public(m),
                            "supported_params": gateway_routes.supported_params(m.mode),
                        }
                        for m in rows
                    ]
                }
            )


class ProfilesHandler(APIHandler):
    """GET: the notebook profiles open to you (to a service, such as the hub's spawn
    form, which offers each user theirs: every profile), with resources, models, budgets
    and the hub groups each is for."""

    def get(self):
        me = self.current_user
        with self.db as db:
            if me.get("kind") == "service":
                rows = db.scalars(select(Profile).order_by(Profile.id)).all()
            else:
                rows = catalog.profiles_for(db, *self.active_groups(db)[:2])
            self.write_json(
                {
                    "profiles": [catalog.profile_public(p) for p in rows],
                    # teams outside their terms grant no profile (the hub's spawn form
                    # and its check of every start read this too)
                    "idle_teams": teams.idle(db, self.now()),
                }
            )


class UserUsageHandler(APIHandler):
    """GET ``?period=hour|day|week|month`` (the current budget window, from its start in
    the budget time zone), ``?since=<instant>`` (such as a budget's ``period_start``) or
    ``?days=N`` (1-366, default 30), optionally only ``model=<name>``, ``key_id=<id>``
    or ``server_name=<name>`` (refusals are not told by server): your spend, tokens and
    recent requests by model, key, notebook and day, and how many of your
    requests the gateway refused, by status and reason. ``format=csv``: every request
    of the period as a CSV download."""

    def _since(self) -> tuple[str | None, int | None, dt.datetime]:
        period = self.get_argument("period", None)
        if period is not None:
            if period not in policy.PERIODS:
                raise APIError(400, f"period must be one of {', '.join(policy.PERIODS)}.")
            return period, None, windows.bounds(period, self.now())[0]
        since = self.get_argument("since", None)
        if since is not None:
            try:
                return None, None, validation.quarter_hour("since", since)
            except validation.Invalid as e:
                raise APIError(400, str(e)) from None
        try:
            days = int(self.get_argument("days", "30"))
        except ValueError:
            raise APIError(400, "days must be a whole number from 1 to 366.") from None
        if not 1 <= days <= 366:
            raise APIError(400, "days must be a whole number from 1 to 366.")
        return None, days, self.now() - dt.timedelta(days=days)

    def get(self, user):
        self.check_owner(user)
        period, days, since = self._since()
        fmt = self.get_argument("format", "json")
        if fmt not in ("json", "csv"):
            raise APIError(400, "format must be json or csv.")
        match = {"user": user}
        refusals = [Refusal.user == user, Refusal.minute >= since]
        for name, refused in (
            ("model", Refusal.model),
            ("key_id", Refusal.key_id),
            ("server_name", None),
        ):
            value = self.get_argument(name, None)
            if value is not None:
                match[name] = value
                if refused is not None:
                    refusals.append(refused == value)
        with self.db as db:
            if fmt == "csv":
                self.write_csv(
                    list(usage.CSV_COLUMNS),
                    usage.csv_rows(db, user, since, match),
                    f"maas-usage-{since.date()}-{self.now().date()}.csv",
                )
                return
            self.write_json(
                {
                    "period": period,
                    "days": days,
                    "since": keys.iso(since),
                    **usage.summary(db, since, match, refusals),
                }
            )


TOKEN_HASH = re.compile(r"[0-9a-f]{64}")


class HubEventsHandler(APIHandler):
    """POST, from the hub's hooks (``hub_service.hub_hooks``) with this service's own
    token: ``{"event": "server-stopped", "user": ..., "server_name": ..., "at": ...}``
    revokes that server's key, ``{"event": "user-deleted", "user": ..., "at": ...}``
    every key of the user (keys issued after ``at`` stay); ``{"event":
    "server-starting", ..., "profile": ..., "user_created": ..., "groups": [...],
    "admin": false, "token_hash": ...}`` notes what the server's key will carry and the
    hash of the server's own token, so that its request needs no question to the hub
    (``hub_service.starts``)."""

    def authorize(self):
        super().authorize()
        me = self.current_user
        if me.get("kind") != "service" or me.get("name") != self.service.service_name:
            raise APIError(403, "Only the hub, with this service's own token, sends hub events.")

    def post(self):
        body = self.json_body()
        event, user = body.get("event"), body.get("user")
        if not isinstance(user, str) or not user or len(user) > NAME_MAX:
            raise APIError(400, "user must be the hub user's name.")
        try:
            at = dt.datetime.fromisoformat(str(body.get("at")))
        except ValueError:
            raise APIError(400, "at must be an ISO time (UTC).") from None
        at = at.astimezone(dt.timezone.utc).replace(tzinfo=None) if at.tzinfo else at
        now = self.now()
        server = body.get("server_name")
        if event in ("server-starting", "server-stopped") and not isinstance(server, str):
            raise APIError(400, "server_name must be a string ('' is the default).")
        if event == "server-starting":
            profile, created = body.get("profile"), body.get("user_created")
            if profile is not None and not isinstance(profile, str):
                raise APIError(400, "profile must be a profile's slug.")
            try:
                created = hub.created({"created": created}) if created else None
            except (ValueError, TypeError):
                raise APIError(400, "user_created must be an ISO time.") from None
            token_hash, groups = body.get("token_hash"), body.get("groups") or []
            if token_hash is not None and not (
                isinstance(token_hash, str) and TOKEN_HASH.fullmatch(token_hash)
            ):
                raise APIError(400, "token_hash must be the SHA-256 of the server's token (hex).")
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                raise APIError(400, "groups must be the user's hub group names.")
            with self.db as db:
                starts.register(
                    db,
                    user=user,
                    server_name=server,
                    token_hash=token_hash,
                    profile=profile,
                    user_created=created,
                    groups=groups,
                    admin=body.get("admin") is True,
                    now=now,
                )
            return self.write_json({"revoked": 0})
        with self.db as db:
            if event == "server-stopped":
                starts.forget(db, user, server, before=at)
                revoked = keys.revoke_where(
                    db,
                    (ApiKey.user == user, ApiKey.server_name == server, ApiKey.created <= at),
                    reason="server stopped",
                    now=now,
                )
            elif event == "user-deleted":
                revoked = keys.forget_user(db, user, before=at, now=now)
            else:
                raise APIError(
                    400, "event must be server-starting, server-stopped or user-deleted."
                )
        if revoked:
            log.info("Revoked %d key(s) of %s: %s (the hub said)", revoked, user, event)
        self.service.metrics.revocations.labels(
            "server stopped" if event == "server-stopped" else "user deleted"
        ).inc(revoked)
        self.write_json({"revoked": revoked})


class MetricsHandler(APIHandler):
    """GET: Prometheus metrics, for a token with the custom:maas:metrics scope (or the
    MaaS admin scope)."""

    def authorize(self):
        super().authorize()
        scopes = self.current_user.get("scopes") or []
        if METRICS_SCOPE not in scopes and ADMIN_SCOPE not in scopes:
            raise APIError(403, f"Metrics need the {METRICS_SCOPE} scope.")

    def get(self):
        body, content_type = self.service.metrics.exposition()
        self.set_header("Content-Type", content_type)
        self.finish(body)


# The user-facing API (under api/v1/); routes.py assembles the whole table.
ROUTES = [
    (r"health", HealthHandler),
    (r"openapi\.json", OpenAPIHandler),
    (r"info", InfoHandler),
    (r"models", ModelsHandler),
    (r"profiles", ProfilesHandler),
    (rf"users/{USER}/usage", UserUsageHandler),
    (r"hub/events", HubEventsHandler),
]
