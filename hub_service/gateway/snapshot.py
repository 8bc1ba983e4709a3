"""What one gateway process knows of the database, kept in memory so that a request
touches no database, and the loop that refreshes it.

Every ``refresh_interval`` seconds a background task reads, in a thread, what changed:

- **keys** changed after the last change number seen (``api_keys.seq``, from a counter
  whose increments commit in order: nothing depends on the clocks of the service and
  the gateway or on when transactions commit);
- the **policy tables** (profiles, group and user overrides, group membership) and the
  **catalog**, both small; a catalog change is pushed into LiteLLM's router;
- **usage rows** added since the last pass, by id above a low-water mark, for spend and
  for the other replicas' requests and tokens of the last minute.

It then swaps the changes in on the event loop, between two requests, and forgets what
no longer matters (keys revoked or expired a while ago, days outside every budget
period, idle rate windows, stale reservations), so memory stays flat.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select

from .. import catalog as catalog_rules
from .. import policy as policies
from .. import usage, windows
from ..db import (
    KEY_COUNTER,
    ApiKey,
    BudgetHold,
    CatalogModel,
    Counter,
    PolicyOverride,
    Profile,
    Team,
    TeamMember,
    Usage,
    UserGroup,
    make_engine,
    make_session_factory,
    utcnow,
)
from . import settings
from .alerts import Alerts
from .config import backend_problem, deployment
from .ledger import Ledger
from .metrics import GatewayMetrics
from .ratelimit import RATE_WINDOW, RateLimiter, TokenBucket
from .usage import RefusalCounts, UsageWriter

log = logging.getLogger("maas.gateway")

# Usage rows get their ids when inserted but become visible when committed, and several
# gateway processes write: a row may appear after rows with higher ids. A missing id is
# waited for this long (seconds) before it is taken for a rolled-back insert.
USAGE_GAP_TIMEOUT = 120.0
# At the first pass (and when a month starts) the last this many ids are scanned for
# such gaps too.
USAGE_GAP_WINDOW = 10_000
# Keys revoked or expired longer ago than this are dropped from memory (a later use
# looks the key up again and is refused with the reason).
KEY_RETENTION = dt.timedelta(minutes=10)
MAX_UNKNOWN = 100_000  # remembered misses (random keys), then forgotten at once
# How long a miss is remembered (seconds): a key issued later reaches memory through the
# refresh of changed keys, which forgets the miss, so this may be long.
UNKNOWN_TTL = 600.0
# Keys not in memory looked up in the database directly (so that a key works the moment
# it is issued): at most this many a second on average, and this many at once. A flood
# of made-up keys beyond that is answered at once, asking to try again (a new key
# reaches memory at the next refresh anyway), instead of costing a query each.
# (settings.py holds the defaults: MaaSGateway.key_lookup_rate and key_lookup_burst.)
KEY_LOOKUP_RATE: float = settings.BY_NAME["key_lookup_rate"].default
KEY_LOOKUP_BURST: int = settings.BY_NAME["key_lookup_burst"].default
STATEMENT_TIMEOUT = 30.0  # seconds a query may take before the gateway gives up on it


class LookupsBusy(Exception):
    """A key is not in memory and the gateway has looked up as many unknown keys lately
    as it may (KEY_LOOKUP_RATE): the caller is asked to try again shortly."""


@dataclass(frozen=True)
class KeyInfo:
    id: str
    user: str
    server_name: str | None
    profile: str | None
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_reason: str | None
    seq: int
    models: tuple[str, ...] | None = None  # the key's own subset of its owner's models
    # a kernel's key: the server key it derives from, its kernel and notebook
    parent_id: str | None = None
    kernel_id: str | None = None
    notebook_path: str | None = None


@dataclass(frozen=True)
class ModelInfo:
    name: str
    enabled: bool
    input_cost_per_token: float
    output_cost_per_token: float
    context_window: int | None
    max_output_tokens: int | None
    mode: str = "chat"
    problem: str | None = None  # why its backend is refused (it is then not served)


def _key_info(row: ApiKey) -> KeyInfo:
    return KeyInfo(
        id=row.id,
        user=row.user,
        server_name=row.server_name,
        profile=row.profile_slug,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        revoked_reason=row.revoked_reason,
        seq=row.seq,
        models=None if row.models is None else tuple(row.models),
        parent_id=row.parent_id,
        kernel_id=row.kernel_id,
        notebook_path=row.notebook_path,
    )


def _fingerprint(policy_inputs) -> tuple:
    """A comparable summary of the policy tables, to rebuild policies only on change."""
    profiles, overrides, groups, teams, adjustments = policy_inputs

    def columns(obj) -> tuple:
        return tuple(repr(getattr(obj, c.key)) for c in obj.__table__.columns)

    return (
        sorted(columns(p) for p in profiles.values()),
        sorted(columns(o) for o in overrides.values()),
        sorted((u, tuple(sorted(g))) for u, g in groups.items()),
        sorted(columns(t) for t in teams.values()),
        sorted(columns(a) for a in adjustments.values()),
    )


def advance_usage_mark(
    low: int, above: set[int], gaps: dict[int, float], clock: float
) -> tuple[int, set[int], dict[int, float]]:
    """The usage low-water mark after a read: note the ids missing below the highest one
    read, drop the gaps filled or given up on, and move the mark up to just below the
    oldest gap still awaited (or to the highest id)."""
    top = max(above, default=low)
    for missing in set(range(low + 1, top)) - above:
        gaps.setdefault(missing, clock)
    gaps = {
        i: first
        for i, first in gaps.items()
        if i not in above and clock - first < USAGE_GAP_TIMEOUT
    }
    low = min(gaps) - 1 if gaps else top
    return low, {i for i in above if i > low}, gaps


@dataclass
class Changes:
    """What one refresh read, to be applied on the event loop."""

    now: dt.datetime
    remote_held: dict[str, float]
    keys: list[tuple[str, KeyInfo]]
    key_seq: int
    policy_inputs: tuple
    catalog: dict[str, ModelInfo]
    deployments: list[dict]
    spend: dict[tuple[str, dt.datetime], float]
    spenders: set[tuple[str, str | None]]
    remote: dict[str, list[int]]
    seen: set[str]
    reset: bool
    since: dt.datetime
    usage_mark: tuple
    # the terms' spend before the oldest calendar window, per term start and user (None:
    # unchanged since the last pass)
    term_base: tuple | None = None


class GatewayState:
    """The gateway's memory of the database, and the parts that act on it."""

    def __init__(
        self,
        db_url: str,
        refresh_interval: float = 2.0,
        alert_webhook_url: str = "",
        alert_threshold: float = 0.8,
        *,
        max_queue: int = 100_000,
        refusal_interval: float = 10.0,
        key_lookup_rate: float = KEY_LOOKUP_RATE,
        key_lookup_burst: int = KEY_LOOKUP_BURST,
        ready_timeout: float = 5.0,
        now: Callable[[], dt.datetime] = utcnow,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.engine = make_engine(db_url, statement_timeout=STATEMENT_TIMEOUT)
        self.sessions = make_session_factory(self.engine)
        self.instance = uuid.uuid4().hex[:12]  # marks the usage rows this process writes
        self.refresh_interval = refresh_interval
        self.ready_timeout = ready_timeout
        self.now = now
        self.clock = clock
        # keys
        self.keys: dict[str, KeyInfo] = {}
        self._hash_of: dict[str, tuple[str, int]] = {}  # key id -> (its hash, its seq)
        self._unknown: dict[str, float] = {}  # hash -> when a direct look found nothing
        self.lookups = TokenBucket(key_lookup_rate, key_lookup_burst, clock)
        self._key_seq: int | None = None
        # policy inputs and the policies built from them
        self._profiles: dict[str, Profile] = {}
        self._overrides: dict[tuple[str, str], PolicyOverride] = {}
        self._groups: dict[str, list[str]] = {}
        self._teams: dict[str, Team] = {}
        self._term_key: tuple | None = None  # what the ledger's term bases were read for
        self._adjustments: dict[tuple[str, str], TeamMember] = {}  # (team, user)
        self._policy_inputs: tuple | None = None
        self._policies: dict[tuple[str, str | None], policies.Policy] = {}
        # catalog
        self.catalog: dict[str, ModelInfo] = {}
        self._deployments: list[dict] | None = None
        self._allowed: dict[tuple[str, ...], list[str]] = {}
        # usage rows counted so far: every id up to _usage_low and those in
        # _usage_above; ids missing above _usage_low wait in _usage_gaps
        self._spend_since: dt.datetime | None = None
        self._usage_low = 0
        self._usage_above: set[int] = set()
        self._usage_gaps: dict[int, float] = {}
        self._published_holds = False
        # the parts
        self.metrics = GatewayMetrics(self)
        self.tz = windows.zone()  # the budget windows' time zone ($MAAS_BUDGET_TIMEZONE)
        self.ledger = Ledger(now=now, clock=clock, tz=self.tz)
        self.limiter = RateLimiter(clock=clock)
        self.refusals = RefusalCounts(now=now, metric=self.metrics.refusals)
        self.writer = UsageWriter(
            self.engine,
            self.instance,
            self.refusals,
            max_queue=max_queue,
            refusal_interval=refusal_interval,
            clock=clock,
        )
        self.alerts = Alerts(self.engine, alert_webhook_url, alert_threshold)
        # the refresh loop
        self.refreshes = 0  # completed refresh passes (tests wait on this)
        self.last_refresh: float | None = None
        self.database_error: str | None = None
        self._last_error_log = float("-inf")
        self._tasks: set[asyncio.Task] = set()
        self._ready: asyncio.Event | None = None
        self._refresher: asyncio.Task | None = None

    # -- the refresh loop ----------------------------------------------------------

    def start(self) -> None:
        """Start the refresh loop (inside LiteLLM's event loop), once."""
        if self._ready is None:
            self._ready = asyncio.Event()
            self._refresher = asyncio.get_running_loop().create_task(self._refresh_forever())

    async def ready(self) -> bool:
        """Wait up to ``ready_timeout`` for the refresh loop's first pass (starting the
        loop if need be); False if the database has not answered yet."""
        self.start()
        if not self._ready.is_set() and self.database_error is None:
            try:
                await asyncio.wait_for(asyncio.shield(self._ready.wait()), self.ready_timeout)
            except TimeoutError:
                return False
        return self._ready.is_set()

    async def _refresh_forever(self) -> None:
        backoff = self.refresh_interval
        while True:
            try:
                await self.refresh()
                backoff = self.refresh_interval
            except Exception as e:  # noqa: BLE001 - keep serving from what we know
                self.note_database_error(e)
                backoff = min(backoff * 2, 30)
            await asyncio.sleep(backoff)

    def note_database_error(self, error: BaseException) -> None:
        """Remember that the database failed; say so in the log at most once a minute."""
        self.database_error = type(error).__name__
        self.metrics.database_errors.inc()
        now = self.clock()
        if now - self._last_error_log > 60:
            self._last_error_log = now
            first = str(error).strip().splitlines()
            log.error(
                "The MaaS database cannot be read (%s: %s); serving keys known in memory",
                type(error).__name__,
                first[0][:200] if first else "",
            )

    async def refresh(self) -> None:
        """One pass: read in a thread, apply on the loop."""
        changes = await asyncio.to_thread(
            self.load_changes, self.ledger.settled_ids(), self.ledger.holds()
        )
        self.apply(changes)
        self.database_error = None
        self.refreshes += 1
        self.last_refresh = self.clock()
        if self._ready is not None:
            self._ready.set()

    def load_changes(self, settled: list[str], holds: dict[str, float] | None = None) -> Changes:
        """(in a thread) Everything that changed since the last pass; ``settled``: the
        requests this gateway settled whose rows it has not read back yet; ``holds``:
        what its requests in flight hold per user, published for the other gateways."""
        now = self.now()
        remote_held = self._exchange_holds(holds or {}, now)
        with self.sessions() as session:
            seen = self._load_seen(session, settled)
            keys, key_seq = self._load_keys(session, now)
            profiles = {p.slug: p for p in session.scalars(select(Profile))}
            overrides = {(o.kind, o.name): o for o in session.scalars(select(PolicyOverride))}
            groups: dict[str, list[str]] = collections.defaultdict(list)
            for user, group in session.execute(select(UserGroup.user, UserGroup.group)):
                groups[user].append(group)
            teams = {t.name: t for t in session.scalars(select(Team))}
            adjustments = {(a.team, a.user): a for a in session.scalars(select(TeamMember))}
            rows = session.scalars(select(CatalogModel).order_by(CatalogModel.name)).all()
            catalog = {
                m.name: ModelInfo(
                    m.name,
                    m.enabled,
                    m.input_cost_per_token,
                    m.output_cost_per_token,
                    m.context_window,
                    m.max_output_tokens,
                    m.mode,
                    backend_problem(m) if m.enabled else None,
                )
                for m in rows
            }
            deployments = [
                deployment(m) for m in rows if m.enabled and catalog[m.name].problem is None
            ]
            since = self._oldest(now)
            spend = self._load_spend(session, since)
            term_base = self._load_term_base(session, teams.values(), since, now)
        return Changes(
            now=now,
            remote_held=remote_held,
            keys=keys,
            key_seq=key_seq,
            policy_inputs=(profiles, overrides, dict(groups), teams, adjustments),
            catalog=catalog,
            deployments=deployments,
            seen=seen,
            term_base=term_base,
            **spend,
        )

    def _exchange_holds(self, holds: dict[str, float], now: dt.datetime) -> dict[str, float]:
        """Publish this process's budget holds and read the other processes' (those
        refreshed lately: a gateway that died stops counting)."""
        fresh = now - dt.timedelta(seconds=3 * self.refresh_interval + 5)
        with self.engine.begin() as conn:
            if holds or self._published_holds:  # no write while there is nothing to say
                conn.execute(
                    delete(BudgetHold).where(
                        (BudgetHold.gateway == self.instance)
                        | (BudgetHold.updated < now - dt.timedelta(days=1))  # dead gateways
                    )
                )
                if holds:
                    conn.execute(
                        insert(BudgetHold),
                        [
                            {"gateway": self.instance, "user": u, "amount": a, "updated": now}
                            for u, a in holds.items()
                        ],
                    )
                self._published_holds = bool(holds)
            rows = conn.execute(
                select(BudgetHold.user, func.sum(BudgetHold.amount))
                .where(BudgetHold.gateway != self.instance, BudgetHold.updated >= fresh)
                .group_by(BudgetHold.user)
            ).all()
        return {user: float(amount) for user, amount in rows}

    def _load_seen(self, session, ids: list[str]) -> set[str]:
        """Which requests settled here have their usage row in the database (read
        before the spend, so every row found here is counted by it)."""
        if not ids:
            return set()
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            found.update(
                session.scalars(
                    select(Usage.request_id).where(Usage.request_id.in_(ids[start : start + 500]))
                )
            )
        return found

    def _load_keys(self, session, now: dt.datetime) -> tuple[list, int]:
        if self._key_seq is None:
            # first pass: the active keys; the rest are looked up when used
            key_seq = session.scalar(select(Counter.value).where(Counter.name == KEY_COUNTER))
            rows = session.scalars(
                select(ApiKey).where(ApiKey.revoked_at.is_(None), ApiKey.expires_at > now)
            )
        else:
            key_seq = self._key_seq
            rows = session.scalars(select(ApiKey).where(ApiKey.seq > key_seq))
        keys = [(row.key_hash, _key_info(row)) for row in rows]
        return keys, max([key_seq or 0, *(info.seq for _, info in keys)])

    def _oldest(self, now: dt.datetime) -> dt.datetime:
        """The start of the oldest calendar window that can be running (a week may start
        in the previous month): spend since then is kept per quarter hour."""
        return windows.bucket(windows.earliest_start(now, self.tz))

    def _load_term_base(self, session, teams, since: dt.datetime, now: dt.datetime):
        """Each running term that began before ``since``: its members' spend from its start
        to ``since``, summed by the database per user (a term's months of rows are not
        read), once per change of the terms or of ``since``."""
        starts = sorted(
            {
                t.starts_at
                for t in teams
                if t.starts_at and t.ends_at and t.starts_at < since and now < t.ends_at
            }
        )
        key = (since, tuple(starts))
        if key == self._term_key:
            return None
        base = {}
        for start in starts:
            r = usage.requests(session, start, since).c
            base[start] = {
                user: float(cost)
                for user, cost in session.execute(
                    select(r.user, func.sum(r.cost_usd)).where(r.cost_usd > 0).group_by(r.user)
                )
            }
        return key, base

    def _load_spend(self, session, since: dt.datetime) -> dict:
        """Spend per (user, quarter hour) since ``since``, the start of the oldest
        window that can be running, from the rows not yet counted.

        Rows are read by id above a low-water mark, below which every row is counted
        or known absent; a gap above it (a row another gateway has inserted but not yet
        committed) holds the mark until the row appears or USAGE_GAP_TIMEOUT passes.
        The new mark is returned, not kept: it takes effect with the spend it counted.

        Also returned: per user, the requests and tokens of the last minute that other
        gateways wrote, which the rate limits add to their own."""
        now = self.now()
        reset = self._spend_since is None or self._spend_since > since
        spend: dict[tuple[str, dt.datetime], float] = collections.defaultdict(float)
        spenders: set[tuple[str, str | None]] = set()
        remote: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
        recent = now - dt.timedelta(seconds=RATE_WINDOW)

        def count(user, profile, ts, cost):
            if ts >= since and cost > 0:
                spend[(user, windows.bucket(ts))] += cost
                spenders.add((user, profile))

        columns = (Usage.id, Usage.user, Usage.profile, Usage.ts, Usage.cost_usd)
        if reset:  # first pass, or an older window: read the windows again
            top = session.scalar(select(func.coalesce(func.max(Usage.id), 0)))
            low, above, gaps = max(0, top - USAGE_GAP_WINDOW), set(), {}
            for _, user, profile, ts, cost in session.execute(
                select(*columns).where(Usage.id <= low, Usage.ts >= since, Usage.cost_usd > 0)
            ):
                count(user, profile, ts, cost)
        else:
            since = self._spend_since
            low, above, gaps = self._usage_low, set(self._usage_above), dict(self._usage_gaps)
        for row_id, user, profile, ts, cost, gateway, prompt, completion in session.execute(
            select(*columns, Usage.gateway, Usage.prompt_tokens, Usage.completion_tokens).where(
                Usage.id > low
            )
        ):
            if row_id not in above:
                above.add(row_id)
                count(user, profile, ts, cost)
                if gateway != self.instance and ts >= recent:
                    seen = remote[user]
                    seen[0] += 1
                    seen[1] += (prompt or 0) + (completion or 0)
        return {
            "spend": spend,
            "spenders": spenders,
            "remote": dict(remote),
            "reset": reset,
            "since": since,
            "usage_mark": advance_usage_mark(low, above, gaps, self.clock()),
        }

    def apply(self, c: Changes) -> None:
        """(on the event loop) Swap the changes in between two requests."""
        self.ledger.count(c.spend, c.seen, c.reset)
        if c.term_base is not None:
            self._term_key, self.ledger.term_base = c.term_base
            self.ledger.horizon = c.term_base[0][0]
        self.ledger.remote = c.remote_held
        for user, (requests, tokens) in c.remote.items():
            # counted from when this gateway learns of them, a refresh late at most
            self.limiter.add(user, requests=requests, tokens=tokens)
        self._usage_low, self._usage_above, self._usage_gaps = c.usage_mark
        self._spend_since = c.since
        for key_hash, info in c.keys:
            self._remember_key(key_hash, info)
        self._key_seq = c.key_seq
        fingerprint = _fingerprint(c.policy_inputs)
        if fingerprint != self._policy_inputs:
            profiles, overrides, groups, teams, adjustments = c.policy_inputs
            self._profiles, self._overrides, self._groups = profiles, overrides, groups
            self._teams, self._adjustments = teams, adjustments
            self._policy_inputs = fingerprint
            self._policies = {}
            members = collections.defaultdict(list)
            for user, names in groups.items():
                for name in names:
                    if name in teams:
                        members[name].append(user)
            self.ledger.members = {name: tuple(sorted(m)) for name, m in members.items()}
        elif self._teams:  # a term may have started or ended since
            self._policies = {}
        if c.catalog != self.catalog:
            for model in c.catalog.values():
                known = self.catalog.get(model.name)
                if model.problem and (known is None or known.problem != model.problem):
                    log.error("The model %r is not served: %s", model.name, model.problem)
            self.catalog = c.catalog
            self._allowed = {}
        if c.deployments != self._deployments:
            self._apply_deployments(c.deployments)
        self._forget(c.now)
        for user, profile in c.spenders:
            policy = self.policy(user, profile)
            stand = policies.binding(self.ledger.standings(user, policy))
            if stand is not None and self.alerts.due(user, stand):
                self.schedule(self.alerts.send(user, policy, stand))

    def _forget(self, now: dt.datetime) -> None:
        """Drop what no longer matters, so memory stays flat over time."""
        cutoff = now - KEY_RETENTION
        stale = [
            h
            for h, k in self.keys.items()
            if (k.revoked_at is not None and k.revoked_at < cutoff) or k.expires_at < cutoff
        ]
        for key_hash in stale:
            self._hash_of.pop(self.keys.pop(key_hash).id, None)
        oldest = self._oldest(now)
        self.ledger.forget_before(oldest)
        self.ledger.expire()
        self.limiter.forget_idle()
        self.alerts.forget_before(oldest)
        clock = self.clock()
        for key_hash in [h for h, t in self._unknown.items() if clock - t > UNKNOWN_TTL]:
            del self._unknown[key_hash]

    def _remember_key(self, key_hash: str, info: KeyInfo) -> None:
        """Keep the newest version of a key (a direct lookup may finish after a refresh
        brought a newer one). A key regenerated has a new hash: its old one is dropped,
        and a late lookup of the old one does not bring it back."""
        self._unknown.pop(key_hash, None)
        current = self._hash_of.get(info.id)
        if current is not None and current[0] != key_hash:
            if current[1] > info.seq:
                return  # an older version, under a secret since replaced
            self.keys.pop(current[0], None)
        known = self.keys.get(key_hash)
        if known is None or info.seq >= known.seq:
            self.keys[key_hash] = info
            self._hash_of[info.id] = (key_hash, info.seq)

    def _apply_deployments(self, deployments: list[dict]) -> None:
        """Give LiteLLM's router the catalog's model list (synchronously, between two
        requests of the event loop, so none sees a half-built list)."""
        from litellm.proxy import proxy_server

        model_list = json.loads(json.dumps(deployments))
        if proxy_server.llm_router is not None:
            if self._deployments is not None or self._router_models() != model_list:
                proxy_server.llm_router.set_model_list(model_list)
                log.info("Catalog changed: the gateway now serves %d model(s)", len(model_list))
        elif model_list:  # started without the database: build the router now
            import litellm

            proxy_server.llm_router = litellm.Router(model_list=model_list)
            log.info("The gateway now serves %d model(s)", len(model_list))
        proxy_server.llm_model_list = json.loads(json.dumps(deployments))
        self._deployments = deployments

    @staticmethod
    def _router_models() -> list[dict]:
        """The model list LiteLLM loaded from the config file, in catalog form."""
        from litellm.proxy import proxy_server

        return [
            {k: m[k] for k in ("model_name", "litellm_params", "model_info") if k in m}
            for m in (proxy_server.llm_model_list or [])
        ]

    # -- lookups on the request path -----------------------------------------------

    def _load_key(self, key_hash: str) -> KeyInfo | None:
        with self.sessions() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))
            return None if row is None else _key_info(row)

    def _load_key_by_id(self, key_id: str) -> tuple[str, KeyInfo] | None:
        with self.sessions() as session:
            row = session.get(ApiKey, key_id)
            return None if row is None else (row.key_hash, _key_info(row))

    async def key_by_id(self, key_id: str) -> KeyInfo | None:
        """The key with this id (a kernel's key's server key): from memory, else looked
        up once directly."""
        known = self._hash_of.get(key_id)
        if known is not None and known[0] in self.keys:
            return self.keys[known[0]]
        found = await asyncio.to_thread(self._load_key_by_id, key_id)
        if found is None:
            return None
        self._remember_key(*found)
        return self.keys.get(found[0])

    async def key(self, key_hash: str) -> KeyInfo | None:
        """The key with this hash; a key not in memory is looked up once directly (so
        a new key works at once), a miss is remembered (UNKNOWN_TTL). Direct lookups
        are rate-limited (KEY_LOOKUP_RATE): beyond that ``LookupsBusy`` is raised at
        once (the next refresh brings any new key), so made-up keys cost neither a
        query nor a wait each."""
        info = self.keys.get(key_hash)
        if info is not None:
            return info
        if key_hash in self._unknown:
            return None
        if not self.lookups.take():
            self.metrics.key_lookups.labels("busy").inc()
            raise LookupsBusy()
        info = await asyncio.to_thread(self._load_key, key_hash)
        if info is None:
            self.metrics.key_lookups.labels("unknown").inc()
            self._note_unknown(key_hash)
            return None
        self.metrics.key_lookups.labels("found").inc()
        self._remember_key(key_hash, info)
        return self.keys[key_hash]

    def _note_unknown(self, key_hash: str) -> None:
        if len(self._unknown) >= MAX_UNKNOWN:  # bound memory against floods
            self._unknown.clear()
        self._unknown[key_hash] = self.clock()

    def policy(self, user: str, profile: str | None) -> policies.Policy:
        found = self._policies.get((user, profile))
        if found is None:
            groups = self._groups.get(user, [])
            found = policies.effective(
                self._profiles.get(profile) if profile else None,
                [o for g in groups if (o := self._overrides.get(("group", g)))],
                self._overrides.get(("user", user)),
                [
                    policies.team_grant(t, self._adjustments.get((g, user)))
                    for g in groups
                    if (t := self._teams.get(g))
                ],
                self.now(),
            )
            self._policies[(user, profile)] = found
        return found

    def profile_closed(self, user: str, slug: str | None, policy: policies.Policy) -> str | None:
        """Why ``user`` may not use the profile ``slug`` now, or None: it is open to
        some of their groups only, and those are all teams outside their terms."""
        profile = self._profiles.get(slug) if slug else None
        if profile is None or not profile.groups or not policy.idle_teams:
            return None
        theirs = [g for g in profile.groups if g in self._groups.get(user, ())]
        if theirs and all(g in policy.idle_teams for g in theirs):
            return policy.idle_teams[theirs[0]][1]
        return None

    def allowed(self, entitlement: tuple[str, ...]) -> list[str]:
        """The enabled models an entitlement grants (memoised per catalog)."""
        names = self._allowed.get(entitlement)
        if names is None:
            names = self._allowed[entitlement] = catalog_rules.allowed_model_names(
                entitlement, self.catalog.values()
            )
        return names

    def schedule(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        """Write every queued row and the refusal counts (called at exit)."""
        self.writer.close()
