"""``MaaSService``: the hub-managed service process (``python -m hub_service``).

``python -m hub_service --migrate-only`` brings the database's schema to this version's
and seeds an empty catalog, then exits: on Kubernetes a Job does that once per deploy and
the service's replicas, started with ``MAAS_MIGRATE_AT_START=0``, wait for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import signal
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler
from jupyterhub.utils import url_path_join
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from tornado import web
from tornado.httpserver import HTTPServer
from traitlets import Bool, Dict, Float, Integer, List, Unicode, default
from traitlets.config import Application

from . import __version__, catalog, db, hub, keys, starts, usage
from .hub import BoundedCache, HubAPIError, HubClient
from .metrics import ServiceMetrics, metric_method, record_reconcile
from .playground import PlaygroundKeys
from .routes import API_ROUTES, routes
from .validation import MODEL_FIELDS, Invalid, validate
from .web import DRAIN_BODY_BYTES

FALSE_WORDS = ("0", "false", "no", "off")


# who a token is, as the hub answered (HubAuth's cache): kept this many seconds (a
# revocation in the hub counts within it), for at most this many tokens
TOKEN_CACHE_AGE = 60
TOKEN_CACHE = 20_000


class MaaSService(Application):
    """Model catalog, profiles, keys, budgets and usage for JupyterHub users."""

    name = "maas-service"
    version = __version__
    description = __doc__

    aliases = {
        "config": "MaaSService.config_file",
        "db-url": "MaaSService.db_url",
        "log-level": "Application.log_level",
    }

    flags = {
        **Application.flags,
        "migrate-only": (
            {"MaaSService": {"migrate_only": True}},
            "Bring the database's schema to this version's and seed an empty catalog, "
            "then exit (status 1 if the database cannot be reached).",
        ),
    }

    @default("log_level")
    def _default_log_level(self):
        return logging.INFO

    api_prefix = Unicode(
        help="URL prefix the service is served under. Default: $JUPYTERHUB_SERVICE_PREFIX."
    ).tag(config=True)

    @default("api_prefix")
    def _default_api_prefix(self):
        return os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/maas/")

    config_file = Unicode("maas_config.py", help="The config file to load (missing is fine).").tag(
        config=True
    )

    cookie_secret = Unicode(
        help="The secret that signs the portal's cookies. Every replica of the service "
        "must have the same one, or a cookie set by one replica is refused by another "
        "(a sign-in's own state stays in the replica that began it: route the hub's "
        "proxy to one replica, as infra/ does with session affinity). Default: "
        "$MAAS_COOKIE_SECRET, else a random one for this process (enough for one replica).",
    ).tag(config=True)

    @default("cookie_secret")
    def _default_cookie_secret(self):
        return os.environ.get("MAAS_COOKIE_SECRET", "")

    db_url = Unicode(
        help="SQLAlchemy URL of the service's database. Default: $MAAS_DB_URL, "
        "else sqlite:///maas.sqlite in the working directory.",
    ).tag(config=True)

    @default("db_url")
    def _default_db_url(self):
        return os.environ.get("MAAS_DB_URL", "sqlite:///maas.sqlite")

    gateway_url = Unicode(
        help="The gateway's URL as notebooks reach it (without /v1). Default: $MAAS_GATEWAY_URL."
    ).tag(config=True)

    @default("gateway_url")
    def _default_gateway_url(self):
        return os.environ.get("MAAS_GATEWAY_URL", "http://127.0.0.1:4000")

    gateway_public_url = Unicode(
        help="The gateway's URL as people reach it from outside the cluster (the portal's "
        "snippets for personal keys). Default: $MAAS_GATEWAY_PUBLIC_URL, else gateway_url.",
    ).tag(config=True)

    @default("gateway_public_url")
    def _default_gateway_public_url(self):
        return os.environ.get("MAAS_GATEWAY_PUBLIC_URL") or self.gateway_url

    hub_api_token = Unicode(
        help="The service's hub API token. Default: $JUPYTERHUB_API_TOKEN."
    ).tag(config=True)

    @default("hub_api_token")
    def _default_hub_api_token(self):
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    hub_api_url = Unicode(help="The hub's REST API URL. Default: $JUPYTERHUB_API_URL.").tag(
        config=True
    )

    @default("hub_api_url")
    def _default_hub_api_url(self):
        return os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api")

    group_sync_interval = Float(
        10.0, help="Seconds between copies of the hub's group membership (for group overrides)."
    ).tag(config=True)

    kernel_key_retention = Float(
        24 * 3600.0,
        help="Seconds a kernel's key is kept after it was revoked, before its row is "
        "deleted (usage rows name the server's key and the notebook, never a kernel's "
        "key); it is deleted with its server's key in any case.",
    ).tag(config=True)

    key_retention_days = Float(
        400.0,
        help="Days a revoked or expired key (personal or a server's) is kept, listed and "
        "named in usage by key, before its row is deleted; its usage rows stay, with its "
        "id. More than the longest usage period the API shows (366 days), so that no "
        "shown request loses its key's name.",
    ).tag(config=True)

    max_kernel_keys = Integer(
        256,
        help="Kernels' and terminals' keys (spend per notebook and per terminal, one kept "
        "ready for the next terminal among them) a server may hold alive at once. Asking "
        "for one more is refused (429), and that kernel starts with its server's key: its "
        "requests count for the server rather than its notebook. Refusing costs only that "
        "attribution; evicting an older kernel's key instead would break a running "
        "kernel, which cannot learn a new key until it restarts. A kernel's key is "
        "revoked when its kernel stops, and all of a server's when the server stops.",
    ).tag(config=True)

    max_personal_keys = Integer(
        10,
        help="Active personal keys a user may hold at once; asking for one more is "
        "refused (409) until one is revoked or expires.",
    ).tag(config=True)

    migrate_at_start = Bool(
        help="Migrate the database's schema and seed an empty catalog when the service "
        "starts. Turn it off where several replicas start at once (Kubernetes): a Job "
        "runs `python -m hub_service --migrate-only` once per deploy, and each replica "
        "waits up to schema_wait_timeout for the schema to reach its version before "
        "serving. Default: $MAAS_MIGRATE_AT_START (0, false, no or off turn it off), "
        "else True.",
    ).tag(config=True)

    @default("migrate_at_start")
    def _default_migrate_at_start(self):
        return os.environ.get("MAAS_MIGRATE_AT_START", "1").strip().lower() not in FALSE_WORDS

    migrate_only = Bool(
        False,
        help="Migrate and seed as migrate_at_start does, then exit instead of serving "
        "(the --migrate-only flag).",
    ).tag(config=True)

    personal_key_lifetime = Integer(
        30 * 24 * 3600, help="Seconds a personal key lives before it must be renewed."
    ).tag(config=True)

    playground_key_lifetime = Integer(
        3600,
        help="Seconds the key of a user's chat playground in the portal lives (held by "
        "the service, never shown; replaced when it nears its end, revoked at sign-out).",
    ).tag(config=True)

    prune_interval = Float(
        3600.0,
        help="Seconds between deletions of the keys past their retention (and of the "
        "usage rows past usage_retention_days).",
    ).tag(config=True)

    usage_summary_interval = Float(
        60.0,
        help="Seconds between sums of the new usage rows into the daily summary (usage "
        "rollups) that reports read whole days from. Reports stay exact whatever it is: "
        "they also read the rows not summed yet, so the longer it is, the more of them.",
    ).tag(config=True)

    reconcile_interval = Float(
        60.0,
        help="Seconds between checks of which hub users exist and which servers run: "
        "the backstop that revokes a stopped server's key, and every key of a deleted "
        "user, that the hub's hooks (hub_service.hub_hooks) did not report. Each check "
        "pages through all the hub's users.",
    ).tag(config=True)

    schema_wait_timeout = Float(
        help="Seconds a replica started with migrate_at_start off waits for the schema to "
        "reach its version (checked every half second) before it gives up with status 1. "
        "Default: $MAAS_SCHEMA_WAIT_TIMEOUT, else 600.",
    ).tag(config=True)

    @default("schema_wait_timeout")
    def _default_schema_wait_timeout(self):
        return float(os.environ.get("MAAS_SCHEMA_WAIT_TIMEOUT", "600"))

    service_name = Unicode(
        help="This service's name in the hub (whose own token the hub's hooks send). "
        "Default: $JUPYTERHUB_SERVICE_NAME, else maas."
    ).tag(config=True)

    @default("service_name")
    def _default_service_name(self):
        return os.environ.get("JUPYTERHUB_SERVICE_NAME", "maas")

    seed_models = List(
        Dict(),
        help="Catalog models to create when the catalog is empty (the admin API's model "
        "fields). Checked at every start like the admin API's input: the service does not "
        "start if one is refused.",
    ).tag(config=True)

    seed_profiles = List(
        Dict(),
        help="Profiles to create when there are none. Default: the three seed profiles.",
    ).tag(config=True)

    @default("seed_profiles")
    def _default_seed_profiles(self):
        return catalog.DEFAULT_PROFILES

    server_key_lifetime = Integer(
        24 * 3600,
        help="Seconds a server's key lives unless the server renews it.",
    ).tag(config=True)

    service_url = Unicode(help="Where the service listens. Default: $JUPYTERHUB_SERVICE_URL.").tag(
        config=True
    )

    @default("service_url")
    def _default_service_url(self):
        return os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101")

    usage_retention_days = Float(
        0.0,
        help="Days usage rows are kept one per request; older ones, already summed per "
        "day (user, model, key, server, notebook, profile, status) into usage rollups, are "
        "deleted every prune_interval. Every total the API, the portal, chargeback and "
        "the metrics show stays the same; what goes is per-request detail (the kernel, "
        "latency and error of each request, and their place in the last requests). "
        f"0 keeps every row forever; else at least {usage.MIN_RETENTION_DAYS:g} (the "
        "gateway counts budgets from the rows alone, and a month reaches 31 days back).",
    ).tag(config=True)

    @property
    def client_base_url(self) -> str:
        """What OpenAI clients in notebooks use as base_url."""
        return self.gateway_url.rstrip("/") + "/v1"

    @property
    def public_base_url(self) -> str:
        """What OpenAI clients outside the cluster use as base_url."""
        return self.gateway_public_url.rstrip("/") + "/v1"

    _warned_no_created = False

    def utcnow(self) -> dt.datetime:
        return db.utcnow()

    def initialize(self, argv=None):
        super().initialize(argv)
        if os.path.exists(self.config_file):
            self.load_config_file(self.config_file)
        self._check_seed_models()
        self._check_usage_retention()
        self.engine = db.make_engine(self.db_url)
        self.session_factory = db.make_session_factory(self.engine)
        if self.migrate_only or self.migrate_at_start:
            self.migrate()
        else:
            self._wait_for_schema()
        if self.migrate_only:
            return
        self.api_routes = API_ROUTES  # what the OpenAPI document is derived from
        self.hub = HubClient(self.hub_api_url, self.hub_api_token)
        self.playground = PlaygroundKeys(self)
        self.metrics = ServiceMetrics(self)
        # who a token is, as the hub said: remembered a minute (a revocation in the hub
        # counts within it), for at most TOKEN_CACHE tokens
        # the one HubOAuth of the process: our handlers and JupyterHub's OAuth callback
        # handler (which takes HubOAuth.instance()) must share its OAuth state
        self.hub_auth = HubOAuth.instance(
            api_token=self.hub_api_token, cache_max_age=TOKEN_CACHE_AGE
        )
        self.hub_auth.cache = BoundedCache(TOKEN_CACHE_AGE, TOKEN_CACHE)
        self.web_app = web.Application(
            [
                *routes(self.api_prefix, self),
                (
                    url_path_join(self.api_prefix, "oauth_callback"),
                    HubOAuthCallbackHandler,
                ),
            ],
            cookie_secret=self.cookie_secret.encode() or secrets.token_bytes(32),
            hub_auth=self.hub_auth,
            log_function=self._log_request,
        )

    def migrate(self) -> None:
        """Bring the schema to this version's head and seed an empty catalog; exit with
        status 1 and one sentence if the database cannot be reached. Safe to run from
        several processes at once (they take turns: ``db.lock_for_migration``)."""
        try:
            before = db.current_revision(self.engine)
            db.upgrade(self.engine)
            with db.session_scope(self.session_factory) as session:
                db.lock_for_migration(session.connection())
                catalog.seed(session, self.seed_models, self.seed_profiles)
        except OperationalError as e:
            reason = str(e.orig or e).strip().splitlines()
            self.log.critical(
                "The MaaS database at %s cannot be reached (%s), so its schema was not migrated.",
                db.safe_url(self.engine),
                reason[0] if reason else type(e.orig or e).__name__,
            )
            self.exit(1)
        head = db.head_revision()
        if before == head:
            self.log.info("Schema already at revision %s", head)
        elif before is None:
            self.log.info("Schema created at revision %s", head)
        else:
            self.log.info("Schema migrated from revision %s to %s", before, head)

    def _wait_for_schema(self) -> None:
        """Serve only once the migration job has brought the schema to this version's
        (the gateway, for its part, starts and answers 503 until then)."""
        timeout = self.schema_wait_timeout

        def say(problem: str) -> None:
            self.log.warning(
                "Waiting up to %g s for the migration job (python -m hub_service "
                "--migrate-only; MaaSService.migrate_at_start is off here): %s.",
                timeout,
                problem,
            )

        problem = db.wait_for_schema(self.engine, timeout, log=say)
        if problem is not None:
            self.log.critical(
                "Not starting: after %g s %s; run python -m hub_service --migrate-only "
                "against this database.",
                timeout,
                problem,
            )
            self.exit(1)
        self.log.info("Schema at revision %s", db.head_revision())

    def database_state(self) -> dict:
        """(blocking) Whether the database answers, its schema revision and the one
        this version needs: the health check's ``database`` (the error's name, never
        its text, which may name hosts and users)."""
        state = db.schema_state(self.engine)
        state.pop("detail", None)
        return state

    def _check_seed_models(self) -> None:
        """Refuse to start, in one line naming the model and the problem, on a seed model
        the admin API would refuse: seeds reach the gateway like any catalog row."""
        for spec in self.seed_models:
            try:
                validate(spec, MODEL_FIELDS)
            except Invalid as e:
                self.log.critical("Not starting: seed model %r: %s", spec.get("name"), e)
                self.exit(1)

    def _check_usage_retention(self) -> None:
        days = self.usage_retention_days
        if days != 0 and not days >= usage.MIN_RETENTION_DAYS:
            self.log.critical(
                "Not starting: MaaSService.usage_retention_days is %g; it must be 0 (keep "
                "every usage row) or at least %g.",
                days,
                usage.MIN_RETENTION_DAYS,
            )
            self.exit(1)

    def _log_request(self, handler):
        # tornado's default logs the full URI; ours has no secrets in URLs, but keep
        # query strings out anyway and never log headers.
        status = handler.get_status()
        self.metrics.requests.labels(
            type(handler).__name__, metric_method(handler.request.method), str(status)
        ).inc()
        self.log.info(
            "%s %s %s %.1fms",
            status,
            handler.request.method,
            handler.request.path,
            1000 * handler.request.request_time(),
        )

    async def reconcile_once(self) -> int:
        """Revoke the keys of deleted hub users and of servers the hub no longer runs;
        return how many."""
        try:
            gone, stopped = await self._reconcile()
        except HubAPIError:
            record_reconcile(self.metrics, "hub_error")
            raise
        except Exception:
            record_reconcile(self.metrics, "error")
            raise
        record_reconcile(
            self.metrics, "ok", {"user deleted": sum(gone.values()), "server stopped": stopped}
        )
        return sum(gone.values()) + stopped

    async def _reconcile(self) -> tuple[dict[str, int], int]:
        started = self.utcnow()
        users = await self.hub.users()
        created = {name: hub.created(model) for name, model in users.items()}
        if None in created.values() and not self._warned_no_created:
            self._warned_no_created = True
            self.log.warning(
                "The hub does not say when users were created (the service's role needs "
                "read:users): a user deleted and created again between two checks would "
                "keep the deleted user's keys."
            )
        with db.session_scope(self.session_factory) as session:
            gone = keys.forget_deleted_users(session, created, listed_at=started, now=self.utcnow())
            for user, count in gone.items():
                if count:
                    self.log.info("Revoked %d key(s) of %s: the hub user was deleted", count, user)
            stopped = keys.revoke_stopped_servers(
                session, hub.active_servers(users), issued_before=started, now=self.utcnow()
            )
            for row in stopped:
                self.log.info(
                    "Revoked key %s: server %r of %s stopped", row.id, row.server_name, row.user
                )
        return gone, len(stopped)

    def prune_keys_once(self) -> int:
        """Delete the keys past their retention (``key_retention_days``,
        ``kernel_key_retention``); return how many."""
        now = self.utcnow()
        with db.session_scope(self.session_factory) as session:
            pruned = keys.prune(
                session,
                keys_before=now - dt.timedelta(days=self.key_retention_days),
                kernel_keys_before=now - dt.timedelta(seconds=self.kernel_key_retention),
            )
            starts.prune(session, now)  # servers' starts past their use
        if pruned:
            self.log.info("Deleted %d key(s) revoked or expired past their retention", pruned)
        return pruned

    def summarize_usage_once(self) -> int:
        """Sum the new usage rows into the daily summary; return how many."""
        done = usage.summarize(self.session_factory)
        if done:
            self.log.debug("Summed %d usage row(s) into the daily summary", done)
        return done

    def roll_up_usage_once(self) -> int:
        """Delete the usage rows past ``usage_retention_days``, summed (nothing when it
        is 0); return how many."""
        if not self.usage_retention_days:
            return 0
        before = self.utcnow() - dt.timedelta(days=self.usage_retention_days)
        done = usage.roll_up(self.session_factory, before)
        if done:
            self.log.info("Deleted %d summed usage row(s) from before %s", done, before.date())
        return done

    async def sync_groups_once(self) -> bool:
        """Mirror the hub's group membership; return whether it changed."""
        members = await self.hub.group_members()
        with db.session_scope(self.session_factory) as session:
            current = set(session.execute(select(db.UserGroup.user, db.UserGroup.group)).all())
            if current == members:
                return False
            session.execute(delete(db.UserGroup))
            session.add_all(db.UserGroup(user=u, group=g) for u, g in sorted(members))
        self.log.info("Group membership changed: %d membership(s)", len(members))
        return True

    async def _every(self, interval: float, job, what: str):
        while True:
            try:
                await job()
            except HubAPIError as e:
                self.log.warning("Cannot %s: %s", what, e)
            except Exception:
                self.log.exception("Failed to %s", what)
            await asyncio.sleep(interval)

    async def _serve(self):
        url = urlparse(self.service_url)
        # bodies are read whole up to this (see web.DRAIN_BODY_BYTES), then cut off
        server = HTTPServer(self.web_app, xheaders=True, max_body_size=DRAIN_BODY_BYTES)
        server.listen(url.port or 80, url.hostname or "127.0.0.1")
        self.log.info(
            "MaaS service %s listening on %s%s", __version__, self.service_url, self.api_prefix
        )
        tasks = [
            asyncio.create_task(
                self._every(self.reconcile_interval, self.reconcile_once, "check running servers")
            ),
            asyncio.create_task(
                self._every(self.group_sync_interval, self.sync_groups_once, "copy hub groups")
            ),
            asyncio.create_task(
                self._every(
                    self.prune_interval,
                    lambda: asyncio.to_thread(self.prune_keys_once),
                    "delete old keys",
                )
            ),
            asyncio.create_task(
                self._every(
                    self.prune_interval,
                    lambda: asyncio.to_thread(self.roll_up_usage_once),
                    "roll up old usage",
                )
            ),
            asyncio.create_task(
                self._every(
                    self.usage_summary_interval,
                    lambda: asyncio.to_thread(self.summarize_usage_once),
                    "sum usage into the daily summary",
                )
            ),
        ]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # The hub stops managed services with SIGINT, then SIGTERM.
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        self.log.info("Stopping")
        server.stop()
        for task in tasks:
            task.cancel()
        self.engine.dispose()

    def start(self):
        if self.migrate_only:
            return
        asyncio.run(self._serve())


main = MaaSService.launch_instance
