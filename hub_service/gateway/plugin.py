"""Our plugin inside the LiteLLM proxy: keys, entitlements, budgets, rate limits, usage.

LiteLLM loads ``user_api_key_auth`` as ``general_settings.custom_auth`` and
``usage_logger`` as a ``litellm_settings.callbacks`` entry. Both work from an in-memory
copy of the service's database (``$MAAS_DB_URL``) that a background task refreshes by
deltas every couple of seconds: keys by their SHA-256, the policy tables (profiles,
group and user overrides, group membership), the catalog (whose changes are pushed into
LiteLLM's router without a restart) and each user's spend per day. Usage rows are
queued and written in batches by a background thread. So a request never waits on the
database, and the queue is drained at exit.

Settings (environment): ``MAAS_REFRESH_INTERVAL`` (2 s: how often keys, policies, the
catalog and spend are re-read), ``MAAS_ALERT_WEBHOOK_URL`` and ``MAAS_ALERT_THRESHOLD``
(0.8: the share of a budget that sends one alert per user and period).
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import datetime as dt
import json
import logging
import os
import queue
import re
import threading
import time
import uuid
from dataclasses import dataclass

import httpx
from fastapi import HTTPException, Request
from litellm.integrations.custom_logger import CustomLogger
from litellm.proxy._types import UserAPIKeyAuth
from litellm.proxy.common_utils.http_parsing_utils import read_request_body
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from .. import catalog as catalog_rules
from .. import policy as policies
from ..db import (
    ApiKey,
    BudgetAlert,
    CatalogModel,
    PolicyOverride,
    Profile,
    Usage,
    UserGroup,
    make_engine,
    make_session_factory,
    utcnow,
)
from ..keys import KEY_PREFIX, hash_key
from .config import deployment

log = logging.getLogger("maas.gateway")

# The OpenAI-compatible routes this gateway governs; anything else (LiteLLM's admin
# and management API) is refused for MaaS keys.
LLM_ROUTE = re.compile(
    r"^(?:/v1|/openai/v1)?/(?:chat/completions|completions|embeddings|responses|models(?:/.+)?)$"
)
MODEL_ROUTE = re.compile(r"/models(?:/.+)?$")

ADJECTIVE = {"day": "daily", "week": "weekly", "month": "monthly"}
KEY_OVERLAP = dt.timedelta(seconds=10)
# Usage rows get their ids when inserted but become visible when committed, and several
# gateway processes write: a row may appear after rows with higher ids. A missing id is
# waited for this long (seconds) before it is taken for a rolled-back insert.
USAGE_GAP_TIMEOUT = 120.0
# At the first pass (and when a month starts) the last this many ids are scanned for
# such gaps too.
USAGE_GAP_WINDOW = 10_000
BATCH_WINDOW = 0.2  # seconds the usage writer waits to batch rows
RATE_WINDOW = 60.0  # seconds: rpm and tpm are per minute

# Every usage row has every column, so one executemany can insert a batch.
USAGE_DEFAULTS = {
    "server_name": None,
    "key_id": None,
    "profile": None,
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "cost_usd": 0.0,
    "latency_ms": 0.0,
    "error": None,
    "request_id": None,
    "gateway": None,
}
# Refusals by a gateway (ours) do not count as requests toward another's rate limits.
REFUSED = frozenset({401, 403, 404, 429})


@dataclass(frozen=True)
class KeyInfo:
    id: str
    user: str
    server_name: str | None
    profile: str | None
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_reason: str | None


@dataclass(frozen=True)
class ModelInfo:
    name: str
    enabled: bool
    input_cost_per_token: float
    output_cost_per_token: float


class SlidingWindow:
    """A count over the last minute, in constant time and memory: the current minute's
    count plus the previous minute's, weighted by how much of it is still in the window
    (the approximation nginx and Cloudflare use)."""

    __slots__ = ("minute", "current", "previous")

    def __init__(self):
        self.minute = -1
        self.current = 0.0
        self.previous = 0.0

    def _roll(self, now: float) -> None:
        minute = int(now // RATE_WINDOW)
        if minute != self.minute:
            self.previous = self.current if minute == self.minute + 1 else 0.0
            self.current = 0.0
            self.minute = minute

    def total(self, now: float) -> float:
        self._roll(now)
        elapsed = (now % RATE_WINDOW) / RATE_WINDOW
        return self.current + self.previous * (1 - elapsed)

    def add(self, now: float, amount: float) -> None:
        self._roll(now)
        self.current += amount

    def retry_after(self, now: float) -> int:
        return max(1, int(RATE_WINDOW - now % RATE_WINDOW) + 1)


def _money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.6f}"


def _fingerprint(policy_inputs) -> tuple:
    """A comparable summary of the policy tables, to rebuild policies only on change."""
    profiles, overrides, groups = policy_inputs

    def columns(obj) -> tuple:
        return tuple(repr(getattr(obj, c.key)) for c in obj.__table__.columns)

    return (
        sorted(columns(p) for p in profiles.values()),
        sorted(columns(o) for o in overrides.values()),
        sorted((u, tuple(sorted(g))) for u, g in groups.items()),
    )


def _key_info(row: ApiKey) -> KeyInfo:
    return KeyInfo(
        id=row.id,
        user=row.user,
        server_name=row.server_name,
        profile=row.profile_slug,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        revoked_reason=row.revoked_reason,
    )


def _advance_usage_mark(
    low: int, above: set[int], gaps: dict[int, float]
) -> tuple[int, set[int], dict[int, float]]:
    """The usage low-water mark after a read: note the ids missing below the highest one
    read, drop the gaps filled or given up on, and move the mark up to just below the
    oldest gap still awaited (or to the highest id)."""
    top = max(above, default=low)
    clock = time.monotonic()
    for missing in set(range(low + 1, top)) - above:
        gaps.setdefault(missing, clock)
    gaps = {
        i: first
        for i, first in gaps.items()
        if i not in above and clock - first < USAGE_GAP_TIMEOUT
    }
    low = min(gaps) - 1 if gaps else top
    return low, {i for i in above if i > low}, gaps


class GatewayState:
    """What one gateway process knows, kept in memory so a request touches no database.

    A background task refreshes it every ``refresh_interval`` seconds: keys changed
    since the last look, the (small) policy tables, the catalog, and spend from the usage
    rows added since. A key not yet seen is looked up once directly, so a new key works
    at once; a revocation is seen at the next refresh.
    """

    def __init__(
        self,
        db_url: str,
        refresh_interval: float = 2.0,
        alert_webhook_url: str = "",
        alert_threshold: float = 0.8,
    ):
        self.engine = make_engine(db_url)
        self.sessions = make_session_factory(self.engine)
        self.instance = uuid.uuid4().hex[:12]  # marks the usage rows this process writes
        self.refresh_interval = refresh_interval
        self.alert_webhook_url = alert_webhook_url
        self.alert_threshold = alert_threshold
        # keys
        self._keys: dict[str, KeyInfo] = {}
        self._unknown: dict[str, float] = {}  # hash -> when a direct look found nothing
        self._keys_seen_at: dt.datetime | None = None
        # policy inputs and the policies built from them
        self._profiles: dict[str, Profile] = {}
        self._overrides: dict[tuple[str, str], PolicyOverride] = {}
        self._groups: dict[str, list[str]] = {}
        self._policy_inputs: tuple | None = None
        self._policies: dict[tuple[str, str | None], policies.Policy] = {}
        # catalog
        self._catalog: dict[str, ModelInfo] = {}
        self._deployments: list[dict] | None = None
        self._allowed: dict[tuple[str, ...], list[str]] = {}
        # spend per (user, day) from the usage rows counted so far: every row with an id
        # up to _usage_low, and those in _usage_above; ids missing above _usage_low wait
        # in _usage_gaps (id -> when first missed) for a late commit
        self._spend_days: dict[tuple[str, dt.date], float] = collections.defaultdict(float)
        self._spend_since: dt.datetime | None = None
        self._spend_totals: dict[tuple, float] = {}
        self._usage_low = 0
        self._usage_above: set[int] = set()
        self._usage_gaps: dict[int, float] = {}
        # rate limits and alerts
        self._requests: dict[str, SlidingWindow] = collections.defaultdict(SlidingWindow)
        self._tokens: dict[str, SlidingWindow] = collections.defaultdict(SlidingWindow)
        self._alerted: set[tuple[str, dt.datetime]] = set()
        self._tasks: set[asyncio.Task] = set()
        self._ready: asyncio.Event | None = None
        self._refresher: asyncio.Task | None = None
        self.usage: queue.Queue[dict | None] = queue.Queue()
        self._writer = threading.Thread(target=self._write_usage, name="maas-usage", daemon=True)
        self._writer.start()
        atexit.register(self.close)

    # -- the refresh loop ----------------------------------------------------------

    async def ready(self) -> None:
        """Start the refresher on first use (inside LiteLLM's event loop) and wait for
        its first pass."""
        if self._ready is None:
            self._ready = asyncio.Event()
            self._refresher = asyncio.get_running_loop().create_task(self._refresh_forever())
        await self._ready.wait()

    async def _refresh_forever(self) -> None:
        backoff = self.refresh_interval
        while True:
            try:
                loaded = await asyncio.to_thread(self._load_changes)
                self._apply_changes(*loaded)
                self._ready.set()
                backoff = self.refresh_interval
            except Exception:  # noqa: BLE001 - keep serving from what we know
                log.exception("Refreshing from the database failed; retrying")
                backoff = min(backoff * 2, 30)
            await asyncio.sleep(backoff)

    def _load_changes(self):
        """(in a thread) Everything that changed since the last pass."""
        now = utcnow()
        with self.sessions() as session:
            query = select(ApiKey)
            if self._keys_seen_at is not None:
                # a few seconds of overlap covers transactions that committed late
                query = query.where(ApiKey.updated >= self._keys_seen_at - KEY_OVERLAP)
            keys = [(row.key_hash, _key_info(row)) for row in session.scalars(query)]
            profiles = {p.slug: p for p in session.scalars(select(Profile))}
            overrides = {(o.kind, o.name): o for o in session.scalars(select(PolicyOverride))}
            groups: dict[str, list[str]] = collections.defaultdict(list)
            for user, group in session.execute(select(UserGroup.user, UserGroup.group)):
                groups[user].append(group)
            catalog_rows = session.scalars(select(CatalogModel).order_by(CatalogModel.name)).all()
            catalog = {
                m.name: ModelInfo(
                    m.name, m.enabled, m.input_cost_per_token, m.output_cost_per_token
                )
                for m in catalog_rows
            }
            deployments = [deployment(m) for m in catalog_rows if m.enabled]
            spend, reset, since, usage_mark = self._load_spend(session, now)
        return (
            now,
            keys,
            (profiles, overrides, dict(groups)),
            catalog,
            deployments,
            spend,
            reset,
            since,
            usage_mark,
        )

    def _load_spend(self, session, now: dt.datetime):
        """Spend per (user, day) since the start of the oldest period that can be
        running (a week may start in the previous month), from the rows not yet counted.

        Rows are read by id above a low-water mark, below which every row is counted
        or known absent; a gap above it (a row another gateway has inserted but not yet
        committed) holds the mark until the row appears or USAGE_GAP_TIMEOUT passes.
        The new mark is returned, not kept: it takes effect with the spend it counted.

        Also returned: per user, the requests (refusals aside) and tokens of the last
        minute that other gateways wrote, which the rate limits add to their own."""
        since = min(policies.period_bounds(p, now)[0] for p in policies.PERIODS)
        reset = self._spend_since is None or self._spend_since > since
        spend: dict[tuple[str, dt.date], float] = collections.defaultdict(float)
        spenders: set[tuple[str, str | None]] = set()

        # other gateways' requests and tokens of the last minute, per user
        remote: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
        recent = now - dt.timedelta(seconds=RATE_WINDOW)

        def count(user, profile, ts, cost):
            if ts >= since and cost > 0:
                spend[(user, ts.date())] += cost
                spenders.add((user, profile))

        columns = (Usage.id, Usage.user, Usage.profile, Usage.ts, Usage.cost_usd)
        rate_columns = (
            Usage.gateway,
            Usage.status_code,
            Usage.prompt_tokens,
            Usage.completion_tokens,
        )
        if reset:  # first pass, or a new month: read the period again
            top = session.scalar(select(func.coalesce(func.max(Usage.id), 0)))
            low, above, gaps = max(0, top - USAGE_GAP_WINDOW), set(), {}
            for _, user, profile, ts, cost in session.execute(
                select(*columns).where(Usage.id <= low, Usage.ts >= since, Usage.cost_usd > 0)
            ):
                count(user, profile, ts, cost)
        else:
            since = self._spend_since
            low, above, gaps = self._usage_low, set(self._usage_above), dict(self._usage_gaps)
        for row_id, user, profile, ts, cost, gateway, status, prompt, completion in session.execute(
            select(*columns, *rate_columns).where(Usage.id > low)
        ):
            if row_id not in above:
                above.add(row_id)
                count(user, profile, ts, cost)
                if gateway != self.instance and ts >= recent:
                    seen = remote[user]
                    seen[0] += status not in REFUSED
                    seen[1] += (prompt or 0) + (completion or 0)
        mark = _advance_usage_mark(low, above, gaps)
        return (spend, spenders, dict(remote)), reset, since, mark

    def _apply_changes(
        self, now, keys, policy_inputs, catalog, deployments, spend, reset, since, usage_mark
    ) -> None:
        """(on the event loop) Swap the new state in between two requests."""
        spend, spenders, remote = spend
        if reset:
            self._spend_days = collections.defaultdict(float)
        for bucket, cost in spend.items():
            self._spend_days[bucket] += cost
        clock = time.monotonic()
        for user, (requests, tokens) in remote.items():
            # counted from when this gateway learns of them, a refresh late at most
            if requests:
                self._requests[user].add(clock, requests)
            if tokens:
                self._tokens[user].add(clock, tokens)
        self._usage_low, self._usage_above, self._usage_gaps = usage_mark
        self._spend_since = since
        self._spend_totals = {}
        for key_hash, info in keys:
            self._keys[key_hash] = info
            self._unknown.pop(key_hash, None)
        self._keys_seen_at = now
        fingerprint = _fingerprint(policy_inputs)
        if fingerprint != self._policy_inputs:
            self._profiles, self._overrides, self._groups = policy_inputs
            self._policy_inputs = fingerprint
            self._policies = {}
        if catalog != self._catalog:
            self._catalog = catalog
            self._allowed = {}
        if deployments != self._deployments:
            self._apply_deployments(deployments)
        if self.alert_webhook_url:
            for user, profile in spenders:
                policy = self.policy(user, profile)
                if policy.budget_usd:
                    self.schedule(self._alert_once(user, policy))

    def _apply_deployments(self, deployments: list[dict]) -> None:
        """Give LiteLLM's router the catalog's model list (synchronously, between two
        requests of the event loop, so none sees a half-built list)."""
        from litellm.proxy import proxy_server

        if self._deployments is not None and proxy_server.llm_router is not None:
            proxy_server.llm_router.set_model_list(json.loads(json.dumps(deployments)))
            proxy_server.llm_model_list = json.loads(json.dumps(deployments))
            log.info("Catalog changed: the gateway now serves %d model(s)", len(deployments))
        self._deployments = deployments

    # -- lookups on the request path -----------------------------------------------

    def _load_key(self, key_hash: str) -> KeyInfo | None:
        with self.sessions() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))
            return None if row is None else _key_info(row)

    async def key(self, key_hash: str) -> KeyInfo | None:
        info = self._keys.get(key_hash)
        if info is not None:
            return info
        missed = self._unknown.get(key_hash)
        if missed is not None and time.monotonic() - missed < self.refresh_interval:
            return None
        info = await asyncio.to_thread(self._load_key, key_hash)
        if info is None:
            if len(self._unknown) > 100_000:  # bound memory against floods of random keys
                self._unknown.clear()
            self._unknown[key_hash] = time.monotonic()
        else:
            self._keys[key_hash] = info
        return info

    def policy(self, user: str, profile: str | None) -> policies.Policy:
        found = self._policies.get((user, profile))
        if found is None:
            groups = self._groups.get(user, [])
            found = policies.effective(
                self._profiles.get(profile) if profile else None,
                [o for g in groups if (o := self._overrides.get(("group", g)))],
                self._overrides.get(("user", user)),
            )
            self._policies[(user, profile)] = found
        return found

    def allowed(self, entitlement: tuple[str, ...]) -> list[str]:
        """The enabled models an entitlement grants (memoised per catalog)."""
        names = self._allowed.get(entitlement)
        if names is None:
            names = self._allowed[entitlement] = catalog_rules.allowed_model_names(
                entitlement, self._catalog.values()
            )
        return names

    def spend(self, user: str, period: str) -> tuple[float, dt.datetime, dt.datetime]:
        """(spend, period start, reset instant) of the current period (summed once per
        refresh)."""
        start, end = policies.period_bounds(period, utcnow())
        total = self._spend_totals.get((user, start, end))
        if total is None:
            day, total = start.date(), 0.0
            while day < end.date():
                total += self._spend_days.get((user, day), 0.0)
                day += dt.timedelta(days=1)
            self._spend_totals[(user, start, end)] = total
        return total, start, end

    async def _alert_once(self, user: str, policy: policies.Policy) -> None:
        """Send the soft-threshold alert for this user and period, once (the database
        row's primary key decides between processes)."""
        if not (self.alert_webhook_url and policy.budget_usd):
            return
        spent, start, end = self.spend(user, policy.budget_period)
        if spent < self.alert_threshold * policy.budget_usd:
            return
        marker = (user, start)
        if marker in self._alerted:
            return
        self._alerted.add(marker)

        def claim() -> bool:
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(BudgetAlert).values(
                            user=user,
                            period_start=start,
                            sent_at=utcnow(),
                            spend_usd=spent,
                            budget_usd=policy.budget_usd,
                        )
                    )
                return True
            except IntegrityError:
                return False

        if not await asyncio.to_thread(claim):
            return
        payload = {
            "event": "budget.threshold",
            "user": user,
            "profile": policy.profile,
            "spend_usd": round(spent, 6),
            "budget_usd": policy.budget_usd,
            "threshold": self.alert_threshold,
            "period": policy.budget_period,
            "period_start": start.isoformat() + "Z",
            "resets_at": end.isoformat() + "Z",
        }
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                r = await client.post(self.alert_webhook_url, json=payload)
                r.raise_for_status()
            log.info(
                "Budget alert sent for %s (%s of %s)", user, payload["spend_usd"], policy.budget_usd
            )
        except httpx.HTTPError as e:
            log.warning("Budget alert for %s could not be delivered: %s", user, e)

    def schedule(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- rate limits ---------------------------------------------------------------

    def check_rate(self, user: str, policy: policies.Policy) -> HTTPException | None:
        now = time.monotonic()
        if policy.rpm_limit is not None:
            window = self._requests[user]
            if window.total(now) >= policy.rpm_limit:
                return _deny(
                    429,
                    f"Rate limit reached: at most {policy.rpm_limit} requests per minute "
                    f"for you; retry in {window.retry_after(now)} s.",
                )
        if policy.tpm_limit is not None:
            window = self._tokens[user]
            used = int(window.total(now))
            if used >= policy.tpm_limit:
                return _deny(
                    429,
                    f"Token rate limit reached: {used} of {policy.tpm_limit} tokens per "
                    f"minute used; retry in {window.retry_after(now)} s.",
                )
        if policy.rpm_limit is not None:
            self._requests[user].add(now, 1)
        return None

    def add_tokens(self, user: str, tokens: int) -> None:
        if tokens:
            self._tokens[user].add(time.monotonic(), tokens)

    # -- usage -------------------------------------------------------------------

    def record(self, **fields) -> None:
        """Queue one usage row; never blocks, never raises into the request."""
        fields.setdefault("ts", utcnow())
        self.usage.put(fields)

    def _write_batch(self, batch: list[dict]) -> None:
        # One executemany of plain rows: far less work (and GIL) than ORM objects.
        with self.engine.begin() as conn:
            conn.execute(
                insert(Usage),
                [{**USAGE_DEFAULTS, **row, "gateway": self.instance} for row in batch],
            )

    def _write_usage(self) -> None:
        backoff = 0.5
        pending: list[dict] = []
        while True:
            item = self.usage.get()
            if item is None:
                break
            pending.append(item)
            # Gather what arrives in the next moment: fewer, larger transactions
            # take less from the request path than one commit per row.
            time.sleep(BATCH_WINDOW)
            while len(pending) < 1000:
                try:
                    item = self.usage.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.usage.put(None)
                    break
                pending.append(item)
            try:
                self._write_batch(pending)
                pending = []
                backoff = 0.5
            except Exception:  # noqa: BLE001 - the database may be briefly away
                log.exception("Writing %d usage rows failed; retrying", len(pending))
                time.sleep(backoff)
                backoff = min(backoff * 2, 30)
                for row in pending:  # keep them for the next attempt
                    self.usage.put(row)
                pending = []
        self._drain()

    def _drain(self) -> None:
        rest: list[dict] = []
        while True:
            try:
                item = self.usage.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                rest.append(item)
        if rest:
            self._write_batch(rest)

    def close(self) -> None:
        """Write every queued row (called at exit)."""
        if self._writer.is_alive():
            self.usage.put(None)
            self._writer.join(timeout=30)
        self._drain()


_state: GatewayState | None = None


def state() -> GatewayState:
    global _state
    if _state is None:
        env = os.environ
        _state = GatewayState(
            env["MAAS_DB_URL"],
            refresh_interval=float(env.get("MAAS_REFRESH_INTERVAL", "2")),
            alert_webhook_url=env.get("MAAS_ALERT_WEBHOOK_URL", ""),
            alert_threshold=float(env.get("MAAS_ALERT_THRESHOLD", "0.8")),
        )
    return _state


def _deny(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


async def user_api_key_auth(request: Request, api_key: str | None) -> UserAPIKeyAuth:
    """LiteLLM's ``custom_auth``: who is calling, and may they call this model now?

    Every refusal is an HTTPException with a sentence for the caller; anything
    unexpected (the database away, say) becomes a 503, never a traceback.
    """
    try:
        return await _authenticate(request, api_key)
    except HTTPException:
        raise
    except Exception:  # noqa: BLE001
        log.exception("Checking a key failed")
        raise _deny(
            503, "The MaaS gateway cannot check keys right now; try again shortly."
        ) from None


async def _authenticate(request: Request, api_key: str | None) -> UserAPIKeyAuth:
    st = state()
    await st.ready()
    api_key = (api_key or "").strip()
    if api_key.lower().startswith("bearer "):
        api_key = api_key[7:].strip()
    if not api_key:
        raise _deny(401, "No API key: send your MaaS key as 'Authorization: Bearer sk-maas-...'.")
    if not api_key.startswith(KEY_PREFIX):
        raise _deny(401, "Invalid API key: MaaS keys start with 'sk-maas-'.")
    info = await st.key(hash_key(api_key))
    if info is None:
        raise _deny(401, "Invalid API key: it is not known to this MaaS gateway.")
    if info.revoked_at is not None:
        why = f" ({info.revoked_reason})" if info.revoked_reason else ""
        raise _deny(401, f"This API key was revoked{why}: get a new one from the MaaS service.")
    if info.expires_at <= utcnow():
        raise _deny(401, "This API key has expired: renew it or get a new one.")

    route = request.url.path
    if not LLM_ROUTE.match(route):
        raise _deny(403, f"{route} is not available with a MaaS key.")

    models = st._catalog
    policy = st.policy(info.user, info.profile)
    allowed = st.allowed(policy.models)
    if not MODEL_ROUTE.search(route):
        body = await read_request_body(request)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise _deny(400, f"Say which model to use ('model'); yours: {', '.join(allowed)}.")
        denial = (
            _check_model(policy, models, model, allowed)
            or _check_budget(st, info.user, policy)
            or st.check_rate(info.user, policy)
        )
        if denial is not None:
            st.record(
                user=info.user,
                server_name=info.server_name,
                key_id=info.id,
                profile=policy.profile,
                model=model[:255],
                status_code=denial.status_code,
                error=denial.detail,
            )
            raise denial

    return UserAPIKeyAuth(
        api_key=info.id,
        key_alias=info.id,
        user_id=info.user,
        models=allowed,
        metadata=_auth_metadata(info),
    )


def _auth_metadata(info: KeyInfo) -> dict[str, str]:
    """What the usage logger needs back from the auth step (LiteLLM carries it)."""
    meta = {"maas_key_id": info.id}
    if info.server_name is not None:  # "" is the default server, absent a personal key
        meta["maas_server"] = info.server_name
    if info.profile:
        meta["maas_profile"] = info.profile
    return meta


def _check_model(
    policy: policies.Policy, models: dict[str, ModelInfo], model: str, allowed: list[str]
) -> HTTPException | None:
    yours = ", ".join(allowed) or "none"
    entry = models.get(model)
    if entry is None:
        return _deny(404, f"The model '{model}' does not exist. Models you can use: {yours}.")
    if not entry.enabled:
        return _deny(403, f"The model '{model}' is disabled. Models you can use: {yours}.")
    if not catalog_rules.entitled(policy.models, model):
        return _deny(
            403,
            f"The model '{model}' is not allowed for profile '{policy.profile}'. "
            f"Models you can use: {yours}.",
        )
    return None


def _check_budget(st: GatewayState, user: str, policy: policies.Policy) -> HTTPException | None:
    if policy.budget_usd is None:
        return None
    spent, _, end = st.spend(user, policy.budget_period)
    if spent < policy.budget_usd:
        return None
    return _deny(
        429,
        f"Budget exhausted: you have spent {_money(spent)} of your "
        f"{_money(policy.budget_usd)} {ADJECTIVE[policy.budget_period]} budget. "
        f"It resets at {end.isoformat()}Z.",
    )


class UsageLogger(CustomLogger):
    """LiteLLM callback: one usage row per request, successful or failed."""

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._record(kwargs, 200, None)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        exc = kwargs.get("exception")
        status = getattr(exc, "status_code", None) or 500
        self._record(kwargs, int(status), str(exc)[:1000] if exc else "failed")

    def _record(self, kwargs: dict, status: int, error: str | None) -> None:
        try:
            slo = kwargs.get("standard_logging_object") or {}
            meta = slo.get("metadata") or {}
            auth_meta = meta.get("user_api_key_auth_metadata") or {}
            user = meta.get("user_api_key_user_id")
            if not user:
                return  # not one of our keys (e.g. a health check)
            st = state()
            model = slo.get("model_group") or slo.get("model") or ""
            prompt = int(slo.get("prompt_tokens") or 0)
            completion = int(slo.get("completion_tokens") or 0)
            entry = st._catalog.get(model)
            cost = (
                catalog_rules.request_cost(
                    entry.input_cost_per_token, entry.output_cost_per_token, prompt, completion
                )
                if entry
                else 0.0
            )
            start, end = slo.get("startTime"), slo.get("endTime")
            key_id = auth_meta.get("maas_key_id") or meta.get("user_api_key_alias")
            st.record(
                user=user,
                server_name=auth_meta.get("maas_server"),
                key_id=key_id,
                profile=auth_meta.get("maas_profile"),
                model=model[:255],
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=cost,
                latency_ms=(end - start) * 1000 if start and end else 0.0,
                status_code=status,
                error=error,
                request_id=(slo.get("id") or "")[:64] or None,
            )
            st.add_tokens(user, prompt + completion)
        except Exception:  # noqa: BLE001 - logging must never break a request
            log.exception("Could not record usage")


usage_logger = UsageLogger()
