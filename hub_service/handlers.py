"""The service's user-facing JSON API (``{prefix}api/v1/``: catalog, profiles, keys,
usage, the hub's events, health, metrics)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy import func, select

from . import __version__, catalog, hub, keys, policy, usage
from .db import ApiKey, CatalogModel, Profile, Refusal, Usage
from .gateway import routes as gateway_routes
from .hub import HubAPIError
from .metrics import ADMIN_SCOPE, METRICS_SCOPE
from .openapi import openapi_document
from .validation import ISSUE_KEY_FIELDS, KERNEL_KEY_FIELDS, KEY_FIELDS
from .web import KERNEL_ID, KEY_ID, NAME_MAX, USER, APIError, APIHandler, caller_server

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
    """GET: the notebook profiles, with resources, models and budgets."""

    def get(self):
        with self.db as db:
            rows = db.scalars(select(Profile).order_by(Profile.id)).all()
            self.write_json({"profiles": [catalog.profile_public(p) for p in rows]})


class UserKeysHandler(APIHandler):
    """GET: your keys (never the key itself), each with its requests, spend and last
    use. POST: issue a key.

    POST body: ``{"server_name": "<name>"}`` issues the key of one of your running
    servers (replacing its previous key; a server's own token may only ask for its own
    server); ``{"name": "<label>"}`` without ``server_name`` issues a personal key.
    A personal key may also have ``models`` (a subset of yours; null for all) and
    ``expires_in_days``. The key appears in this response only.
    """

    def get(self, user):
        self.check_owner(user)
        now = self.now()
        with self.db as db:
            rows = db.scalars(
                select(ApiKey)
                .where(
                    ApiKey.user == user,
                    ApiKey.user_deleted_at.is_(None),
                    ApiKey.parent_id.is_(None),  # kernels' keys belong to their server's
                )
                .order_by(ApiKey.created.desc())
            ).all()
            use = {
                key_id: (n, float(cost), last)
                for key_id, n, cost, last in db.execute(
                    select(
                        Usage.key_id,
                        func.count(Usage.id),
                        func.coalesce(func.sum(Usage.cost_usd), 0.0),
                        func.max(Usage.ts),
                    )
                    .where(Usage.user == user, Usage.key_id.in_([r.id for r in rows]))
                    .group_by(Usage.key_id)
                )
            }
            answer = []
            for row in rows:
                n, cost, last = use.get(row.id, (0, 0.0, None))
                answer.append(
                    {
                        **keys.key_public(row, now),
                        "requests": n,
                        "spend_usd": cost,
                        "last_used": keys.iso(last),
                    }
                )
            self.write_json({"keys": answer})

    async def _hub_user(self, user: str) -> dict:
        """The hub's model of ``user``: when it was created, which servers run."""
        try:
            model = await self.service.hub.user(user)
        except HubAPIError as e:
            log.error("Cannot reach the hub API: %s", e)
            raise APIError(503, "The hub cannot be reached; try again shortly.") from None
        if model is None:
            raise APIError(404, f"The hub has no user {user!r}.")
        return model

    def _check_personal_key_cap(self, db, user: str) -> None:
        cap = self.service.max_personal_keys
        if keys.active_personal_keys(db, user, self.now()) >= cap:
            raise APIError(
                409, f"You have {cap} active personal keys, the limit: revoke one first."
            )

    async def post(self, user):
        me = self.check_owner(user)
        body = self.checked(ISSUE_KEY_FIELDS)
        server_name = body.get("server_name")
        name = body.get("name")
        own_server = caller_server(me)
        if own_server is not None and server_name != own_server:
            raise APIError(403, "A server's token may only obtain the key of its own server.")
        if server_name is not None and {"models", "expires_in_days"} & set(body):
            raise APIError(
                400,
                "A server's key follows its server: its models are its profile's and it "
                "lives while the server runs. models and expires_in_days are for personal keys.",
            )
        lifetime = (
            self.service.server_key_lifetime
            if server_name is not None
            else self.service.personal_key_lifetime
        )
        if body.get("expires_in_days") is not None:
            longest = lifetime // 86400
            if body["expires_in_days"] > longest:
                raise APIError(400, f"expires_in_days may be at most {longest} (days).")
            lifetime = body["expires_in_days"] * 86400

        # a server asking with its own token, whose start the hub just reported: no
        # need to ask the hub again (a burst of servers starting costs it half as much)
        told = self.service.starting.get(user, server_name) if own_server is not None else None
        profile_slug = None
        if told is not None:
            profile_slug, user_created = told
        else:
            hub_user = await self._hub_user(user)
            user_created = hub.created(hub_user)
            if server_name is not None:
                server = (hub_user.get("servers") or {}).get(server_name)
                if server is None:
                    raise APIError(
                        409, f"Server {server_name!r} of {user!r} is not running: start it first."
                    )
                profile_slug = (server.get("user_options") or {}).get("profile")

        now = self.now()
        with self.db as db:
            if server_name is None:
                self._check_personal_key_cap(db, user)
            profile = None
            if profile_slug:
                profile = db.scalar(select(Profile).where(Profile.slug == profile_slug))
                if profile is None:
                    raise APIError(409, f"The server's profile {profile_slug!r} does not exist.")
            else:
                profile = catalog.default_profile(db)
            slug = profile.slug if profile else None
            allowed = _allowed_models(db, user, slug)
            subset = _key_models(body.get("models"), allowed)
            row, key = keys.issue(
                db,
                user=user,
                server_name=server_name,
                profile_slug=slug,
                name=name
                or (
                    f"server {server_name or '(default)'}"
                    if server_name is not None
                    else "personal"
                ),
                lifetime=dt.timedelta(seconds=lifetime),
                now=now,
                hub_user_created=user_created,
                models=subset,
            )
            payload = keys.key_public(row, now)
        payload.update(
            key=key,
            models=subset if subset is not None else allowed,
            base_url=self.service.client_base_url,
        )
        log.info(
            "Issued key %s for user %s server %s (profile %s)",
            row.id,
            user,
            server_name,
            row.profile_slug,
        )
        self.write_json(payload, status=201)


def _allowed_models(db, user: str, profile_slug: str | None) -> list[str]:
    """The enabled models ``user``'s policy with this profile allows, sorted."""
    return catalog.granted(db, policy.for_user(db, user, profile_slug).models)


def _key_models(wanted: list[str] | None, allowed: list[str]) -> list[str] | None:
    """A key's own model subset, checked against what its owner may use now; None (or
    ["*"]) for all of it. The gateway checks the key's subset and the policy at each
    request, so a model the policy drops later is dropped from the key too."""
    if wanted is None or "*" in wanted:
        return None
    if not wanted:
        raise APIError(400, "models must name at least one model, or be null for all yours.")
    outside = [m for m in wanted if m not in allowed]
    if outside:
        raise APIError(
            400,
            f"You may not use {', '.join(map(repr, outside))}. "
            f"Models you can use: {', '.join(allowed) or 'none'}.",
        )
    return wanted


class OwnKeyHandler(APIHandler):
    """Endpoints on one of the caller's own keys."""

    def _own_key(self, db, user, key_id) -> ApiKey:
        """The key, if it is this user's: a deleted hub user's keys are no one's."""
        me = self.check_owner(user)
        row = db.scalar(
            select(ApiKey).where(
                ApiKey.id == key_id, ApiKey.user == user, ApiKey.user_deleted_at.is_(None)
            )
        )
        if row is None:
            raise APIError(404, f"No key {key_id!r} for user {user!r}.")
        own_server = caller_server(me)
        if own_server is not None and row.server_name != own_server:
            raise APIError(403, "A server's token may only manage the key of its own server.")
        return row

    def _active_personal_key(self, db, user, key_id, doing: str) -> ApiKey:
        row = self._own_key(db, user, key_id)
        if row.server_name is not None:
            raise APIError(
                409,
                f"Key {key_id!r} is a server's key, which follows its server: you cannot "
                f"{doing} it.",
            )
        state = row.state(self.now())
        if state != "active":
            raise APIError(409, f"Key {key_id!r} is {state}; issue a new one instead.")
        return row


class UserKeyHandler(OwnKeyHandler):
    """PATCH ``{"name": ..., "models": [...] | null}``: rename a personal key or narrow it
    to some of your models (null: all of them). DELETE: revoke one of your keys; a
    server's token may revoke only its own key."""

    def patch(self, user, key_id):
        changes = self.checked(KEY_FIELDS, partial=True)
        now = self.now()
        with self.db as db:
            row = self._active_personal_key(db, user, key_id, "edit")
            if "name" in changes:
                row.name = changes["name"]
            if "models" in changes:
                allowed = _allowed_models(db, user, row.profile_slug)
                row.models = _key_models(changes["models"], allowed)
            row.updated = now
            payload = keys.key_public(row, now)
        log.info("Changed key %s of user %s: %s", key_id, user, ", ".join(sorted(changes)))
        self.write_json(payload)

    def delete(self, user, key_id):
        with self.db as db:
            row = self._own_key(db, user, key_id)
            if row.revoked_at is None:
                row.revoked_at = self.now()
                row.revoked_reason = "revoked by user"
        log.info("Revoked key %s of user %s", key_id, user)
        self.set_status(204)
        self.finish()


class UserKeyRegenerateHandler(OwnKeyHandler):
    """POST: a new secret for an active personal key; its id, name, models, expiry and
    usage history stay, and the old secret stops working within the gateway's refresh
    interval. The new key is in this response only."""

    def post(self, user, key_id):
        now = self.now()
        with self.db as db:
            row = self._active_personal_key(db, user, key_id, "regenerate")
            key = keys.regenerate(row, now=now)
            allowed = _allowed_models(db, user, row.profile_slug)
            payload = keys.key_public(row, now)
        payload.update(
            key=key,
            models=row.models if row.models is not None else allowed,
            base_url=self.service.client_base_url,
        )
        log.info("Regenerated key %s of user %s", key_id, user)
        self.write_json(payload)


class KernelKeyHandler(OwnKeyHandler):
    """PUT ``{"notebook_path": "analysis/churn.ipynb" | null}``: the key of one kernel
    of your server, derived from the server's key ``key_id`` (only that server's token,
    or you, may ask): issued the first time (201; the key is in this response only),
    its notebook path changed after (200: the notebook was renamed). DELETE: revoke it
    (the kernel stopped)."""

    def _server_key(self, db, user, key_id) -> ApiKey:
        row = self._own_key(db, user, key_id)
        if row.server_name is None or row.parent_id is not None:
            raise APIError(409, f"Key {key_id!r} is not a server's key: only those have kernels.")
        return row

    def _kernel_key(self, db, parent: ApiKey, kernel_id: str) -> ApiKey | None:
        return db.scalar(
            select(ApiKey).where(
                ApiKey.parent_id == parent.id,
                ApiKey.kernel_id == kernel_id,
                ApiKey.revoked_at.is_(None),
            )
        )

    def put(self, user, key_id, kernel_id):
        path = self.checked(KERNEL_KEY_FIELDS).get("notebook_path")
        now = self.now()
        with self.db as db:
            parent = self._server_key(db, user, key_id)
            state = parent.state(now)
            if state != "active":
                raise APIError(409, f"The server's key {key_id!r} is {state}.")
            row = self._kernel_key(db, parent, kernel_id)
            if row is not None:
                row.notebook_path = path
                row.updated = now
                payload, status = keys.key_public(row, now), 200
            else:
                row, key = keys.issue_for_kernel(
                    db, parent, kernel_id=kernel_id, notebook_path=path, now=now
                )
                payload, status = {**keys.key_public(row, now), "key": key}, 201
        self.write_json(payload, status=status)

    def delete(self, user, key_id, kernel_id):
        with self.db as db:
            parent = self._server_key(db, user, key_id)
            row = self._kernel_key(db, parent, kernel_id)
            if row is not None:
                row.revoked_at = self.now()
                row.revoked_reason = "kernel stopped"
        self.set_status(204)
        self.finish()


class UserKeyRenewHandler(OwnKeyHandler):
    """POST: push an active key's expiry to now + its lifetime; the key stays the same.

    A server's own token may also renew its key after it expired (not after it was
    revoked): the token proves the server still runs, and its kernels hold that key,
    so a service outage longer than the key's half-life costs them nothing."""

    def post(self, user, key_id):
        now = self.now()
        with self.db as db:
            row = self._own_key(db, user, key_id)
            state = row.state(now)
            own_server = row.server_name is not None and (
                caller_server(self.current_user) == row.server_name
            )
            if state == "revoked" or (state == "expired" and not own_server):
                raise APIError(409, f"Key {key_id!r} is {state}; issue a new one instead.")
            lifetime = (
                self.service.server_key_lifetime
                if row.server_name is not None
                else self.service.personal_key_lifetime
            )
            row.expires_at = now + dt.timedelta(seconds=lifetime)
            payload = keys.key_public(row, now)
        self.write_json(payload)


class UserUsageHandler(APIHandler):
    """GET ``?period=day|week|month`` (the current budget period, from its start) or
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
            return period, None, policy.period_bounds(period, self.now())[0]
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
        where = [Usage.user == user, Usage.ts >= since]
        refusals = [Refusal.user == user, Refusal.minute >= since]
        for name, column, refused in (
            ("model", Usage.model, Refusal.model),
            ("key_id", Usage.key_id, Refusal.key_id),
            ("server_name", Usage.server_name, None),
        ):
            value = self.get_argument(name, None)
            if value is not None:
                where.append(column == value)
                if refused is not None:
                    refusals.append(refused == value)
        with self.db as db:
            if fmt == "csv":
                self._csv(db, user, where, since)
                return
            self.write_json(
                {
                    "period": period,
                    "days": days,
                    "since": keys.iso(since),
                    **usage.summary(db, where, refusals),
                }
            )

    def _csv(self, db, user: str, where: list, since: dt.datetime) -> None:
        self.write_csv(
            list(usage.CSV_COLUMNS),
            usage.csv_rows(db, user, where),
            f"maas-usage-{since.date()}-{self.now().date()}.csv",
        )


class HubEventsHandler(APIHandler):
    """POST, from the hub's hooks (``hub_service.hub_hooks``) with this service's own
    token: ``{"event": "server-stopped", "user": ..., "server_name": ..., "at": ...}``
    revokes that server's key, ``{"event": "user-deleted", "user": ..., "at": ...}``
    every key of the user (keys issued after ``at`` stay); ``{"event":
    "server-starting", ..., "profile": ..., "user_created": ...}`` notes what the
    server's key will carry, so that its request needs no question to the hub."""

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
            self.service.starting.put(user, server, profile, created)
            return self.write_json({"revoked": 0})
        with self.db as db:
            if event == "server-stopped":
                self.service.starting.drop(user, server)
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
    (rf"users/{USER}/keys", UserKeysHandler),
    (rf"users/{USER}/keys/{KEY_ID}", UserKeyHandler),
    (rf"users/{USER}/keys/{KEY_ID}/renew", UserKeyRenewHandler),
    (rf"users/{USER}/keys/{KEY_ID}/regenerate", UserKeyRegenerateHandler),
    (rf"users/{USER}/keys/{KEY_ID}/kernels/{KERNEL_ID}", KernelKeyHandler),
    (rf"users/{USER}/usage", UserUsageHandler),
    (r"hub/events", HubEventsHandler),
]
