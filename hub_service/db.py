"""The service's database: tables, engine and migrations.

The hub service owns the schema (it runs the alembic migrations at start, or
``python -m hub_service --migrate-only`` does once per deploy); the gateway plugin reads
keys and the catalog and appends usage rows through the same models.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    false,
    inspect,
    text,
    update,
)
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


# A clock seam for tests that run the service or gateway as processes: a file holding
# a number of seconds to add to the clock (budget periods roll over without sleeping).
_CLOCK_OFFSET_FILE = os.environ.get("MAAS_CLOCK_OFFSET_FILE")


def utcnow() -> dt.datetime:
    """The current time, naive UTC (how every timestamp is stored).

    A seam: in-process tests replace it; process tests set MAAS_CLOCK_OFFSET_FILE.
    """
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    if _CLOCK_OFFSET_FILE:
        try:
            now += dt.timedelta(seconds=float(Path(_CLOCK_OFFSET_FILE).read_text() or 0))
        except (FileNotFoundError, ValueError):
            pass
    return now


class Base(DeclarativeBase):
    pass


class CatalogModel(Base):
    """A model in the catalog: what users see and what the gateway routes."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    # LiteLLM parameters: provider/model, where it is served, and the name of the
    # environment variable holding its API key (never the key itself).
    provider_model: Mapped[str] = mapped_column(String(255))
    api_base: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    api_key_env: Mapped[str | None] = mapped_column(String(255), nullable=True)
    mode: Mapped[str] = mapped_column(String(32), default="chat")
    description: Mapped[str] = mapped_column(Text, default="")
    context_window: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_output_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    capabilities: Mapped[list] = mapped_column(JSON, default=list)
    # Further LiteLLM parameters for the deployment (timeout, mock_response, ...).
    extra_params: Mapped[dict] = mapped_column(JSON, default=dict)
    input_cost_per_token: Mapped[float] = mapped_column(Float, default=0.0)
    output_cost_per_token: Mapped[float] = mapped_column(Float, default=0.0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Profile(Base):
    """A notebook profile: resources, the models it may use, and its budget."""

    __tablename__ = "profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    # cpu_limit, cpu_guarantee, mem_limit, mem_guarantee, gpu, node_selector,
    # tolerations, image: what the spawner applies.
    resources: Mapped[dict] = mapped_column(JSON, default=dict)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # Model names this profile may call; ["*"] means every enabled model.
    models: Mapped[list] = mapped_column(JSON, default=list)
    # [{"window": "day", "usd": 1.0}, ...]: a budget per user for each window named
    budgets: Mapped[list | None] = mapped_column(JSON, nullable=True, default=list)
    rpm_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tpm_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The hub groups whose members may use it; empty (or null, before revision 0008)
    # means everyone. Hub admins may use any profile.
    groups: Mapped[list | None] = mapped_column(JSON, nullable=True, default=list)


class ApiKey(Base):
    """An issued key. Only its SHA-256 is stored; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    # For display only ("sk-maas-AbCd...wxyz"): too short to help guess the key.
    prefix: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    user: Mapped[str] = mapped_column(String(255), index=True)
    # The server this key belongs to; None for a personal key.
    server_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    profile_slug: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("profiles.slug", ondelete="SET NULL"), nullable=True
    )
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # When it last changed (issue, renewal, revocation), for people reading the API.
    updated: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, index=True
    )
    # The number of its last change (see ``next_key_seq``): the gateway reads the keys
    # changed after the last number it saw, whatever the clocks of the service and the
    # gateway say and whenever a transaction commits.
    seq: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    # The hub user's creation time when the key was issued: a hub user deleted and
    # created again under the same name is another person, who does not inherit keys.
    hub_user_created: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # Set when the key's hub user was deleted: the key is revoked and no longer listed
    # as the (new) user's.
    user_deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # The models this key may call, a subset of what its owner's policy allows; None:
    # whatever the policy allows (personal keys the user narrowed; server keys never).
    models: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # A kernel's key: the server key it derives from (valid only while that one is), the
    # kernel and the notebook (or console, or file) it runs for, relative to the
    # server's root, kept current when the notebook is renamed.
    parent_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    kernel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    notebook_path: Mapped[str | None] = mapped_column(String(1024), nullable=True)

    @property
    def masked(self) -> str:
        return f"{self.prefix}...{self.last4}"

    def state(self, now: dt.datetime) -> str:
        """``active``, ``revoked`` or ``expired``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"


class Usage(Base):
    """One gateway request, successful or not, with its tokens and cost."""

    __tablename__ = "usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user: Mapped[str] = mapped_column(String(255))
    server_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    model: Mapped[str] = mapped_column(String(255))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    status_code: Mapped[int] = mapped_column(Integer, default=200)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    profile: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the kernel that made the request, and its notebook's path at the time
    kernel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    notebook_path: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    # the gateway process that wrote the row, so gateways sharing a database can count
    # each other's requests toward rate limits
    gateway: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # counted in its day's rollup already (``usage.summarize``): reports read whole days
    # from the rollups and only the rows not yet summed, and the edges of their range
    summarized: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        # a user's or a team's rows in a range (the partial days of a report)
        Index("ix_usage_user_ts", "user", "ts"),
        # the rows not yet summed: few, whatever the table's size
        Index(
            "ix_usage_unsummarized",
            "id",
            postgresql_where=text("NOT summarized"),
            sqlite_where=text("NOT summarized"),
        ),
    )


class UsageRollup(Base):
    """Usage rows summed per day and per what the usage reports tell apart (user,
    model, key, server, notebook, profile, status): the daily summary the reports read
    whole days from (``usage.requests``). A row is added once (``Usage.summarized``);
    rows past ``usage_retention_days`` are then deleted and their rollups remain."""

    __tablename__ = "usage_rollups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # midnight (UTC) of the day summed: reads count a rollup at the start of its day
    day: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    user: Mapped[str] = mapped_column(String(255), index=True)
    model: Mapped[str] = mapped_column(String(255))
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    server_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    notebook_path: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    profile: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status_code: Mapped[int] = mapped_column(Integer)
    requests: Mapped[int] = mapped_column(Integer)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_usd: Mapped[float] = mapped_column(Float)
    # the sum of the requests' latencies (their mean is latency_ms / requests)
    latency_ms: Mapped[float] = mapped_column(Float)
    # the last of its requests (None: summed before this was kept)
    last_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Refusal(Base):
    """Requests the gateway refused, counted per minute, gateway, user, key, model and
    reason: each such group is one row whose count grows, so a loop of refused requests
    adds a row a minute at most. "" stands for no user, key or model (a model not in the
    catalog is never written)."""

    __tablename__ = "refusals"
    __table_args__ = (
        UniqueConstraint("minute", "gateway", "user", "key_id", "model", "status", "reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minute: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    gateway: Mapped[str] = mapped_column(String(32))
    user: Mapped[str] = mapped_column(String(255), default="", index=True)
    key_id: Mapped[str] = mapped_column(String(32), default="")
    model: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer)


class BudgetHold(Base):
    """What each gateway process holds of each user's budget for requests in flight
    (rewritten at every refresh), so that replicas see each other's reservations."""

    __tablename__ = "budget_holds"

    gateway: Mapped[str] = mapped_column(String(32), primary_key=True)
    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    amount: Mapped[float] = mapped_column(Float)
    updated: Mapped[dt.datetime] = mapped_column(DateTime)


class Counter(Base):
    """Named counters whose increments commit in order (see ``next_key_seq``)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


KEY_COUNTER = "api_keys"
# the midnight (UTC, in seconds since the epoch; 0: none) before which usage rows were
# deleted once summed (``usage.roll_up``); its row is also the lock that summing and
# deleting take, so that they never interleave
USAGE_PRUNED = "usage_pruned_before"


def next_key_seq(connection) -> int:
    """The next key change number. Incrementing the counter row locks it until the
    transaction ends, so numbers become visible in the order they were taken: a reader
    that has seen number n has seen every change numbered below n."""
    return connection.execute(
        update(Counter)
        .where(Counter.name == KEY_COUNTER)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar_one()


@event.listens_for(Session, "before_flush")
def _number_key_changes(session: Session, _context, _instances) -> None:
    """Every key the ORM inserts or changes gets the next change number (bulk updates
    set ``seq=next_key_seq(...)`` themselves)."""
    changed = [
        obj
        for obj in (*session.new, *session.dirty)
        if isinstance(obj, ApiKey) and (obj in session.new or session.is_modified(obj))
    ]
    if changed:
        seq = next_key_seq(session.connection())
        for obj in changed:
            obj.seq = seq


class PolicyOverride(Base):
    """Extra models, a different budget or different limits for a hub group or a user.

    The effective policy of a server is its profile, then its user's groups, then the
    user (see ``hub_service.policy``).
    """

    __tablename__ = "policy_overrides"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "group" or "user"
    name: Mapped[str] = mapped_column(String(255))
    extra_models: Mapped[list] = mapped_column(JSON, default=list)
    budgets: Mapped[list | None] = mapped_column(JSON, nullable=True, default=list)
    rpm_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tpm_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Team(Base):
    """A hub group that its own team admins govern (``hub_service.teams``): the hub
    admin names the models it may use (``available_models``); its team admins choose
    among them and set the members' budgets, the team's cap and its term."""

    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)  # the hub group
    available_models: Mapped[list] = mapped_column(JSON, default=list)
    models: Mapped[list] = mapped_column(JSON, default=list)
    budgets: Mapped[list] = mapped_column(JSON, default=list)  # per member, per window
    caps: Mapped[list] = mapped_column(JSON, default=list)  # the members' total, per window
    starts_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    ends_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    alert_percent: Mapped[int] = mapped_column(Integer, default=80)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class TeamMember(Base):
    """A member's own budgets in a team (an accommodation), set by a team admin."""

    __tablename__ = "team_members"

    team: Mapped[str] = mapped_column(String(255), primary_key=True)
    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    budgets: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")


class ServerStart(Base):
    """A server as the hub saw it start (``hub_service.starts``): what its own key
    request needs, and the SHA-256 of its own hub token."""

    __tablename__ = "server_starts"

    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    server_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    profile: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_created: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    groups: Mapped[list] = mapped_column(JSON, default=list)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class UserGroup(Base):
    """Hub group membership, mirrored from the hub by the service."""

    __tablename__ = "user_groups"

    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    group: Mapped[str] = mapped_column(String(255), primary_key=True)


class AuditEntry(Base):
    """One admin change: who, what, when, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16))  # create, update, delete
    target_type: Mapped[str] = mapped_column(String(32))  # model, profile, override
    target: Mapped[str] = mapped_column(String(255))
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class BudgetAlert(Base):
    """A soft-threshold alert already sent: one per user and budget period."""

    __tablename__ = "budget_alerts"

    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    period_start: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    spend_usd: Mapped[float] = mapped_column(Float)
    budget_usd: Mapped[float] = mapped_column(Float)


def engine_url(db_url: str) -> URL:
    """``db_url`` as the engine takes it. ``postgresql://`` and ``postgres://`` (how
    CloudNativePG's ``<cluster>-app`` Secret and most hosting services give it) mean
    psycopg 3, the driver we install: SQLAlchemy would pick psycopg2 for the first and
    know no dialect for the second. A URL naming its driver is kept as it is."""
    url = make_url(db_url)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def make_engine(db_url: str, *, statement_timeout: float | None = None) -> Engine:
    """An engine for ``db_url``; SQLite gets WAL so the gateway and service share it.
    PostgreSQL connections give up after 10 s, and statements after
    ``statement_timeout`` seconds if given (a database that accepts connections but
    never answers must not hang the caller); their statements are planned for their
    parameters each time."""
    url = engine_url(db_url)
    kwargs: dict = {"future": True, "pool_pre_ping": True}
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif url.get_backend_name() == "postgresql":
        # psycopg prepares a statement run five times, and PostgreSQL may then plan it
        # once for any parameters: a report's range is narrow or wide by its dates, so
        # every execution gets its own plan (a generic one read a term of rows).
        # No JIT compilation: a report over a term's daily summary is estimated costly
        # enough for it, and compiling took half its time (300 of 600 ms at 10 million
        # rows) for queries that run well under a second without it. And 32 MB of
        # memory per sort or hash (4 by default), so that the reports' groupings, which
        # PostgreSQL overestimates (40,000 groups of 1 kB; they are a few thousand and
        # take 1 MB), are planned as hash tables, not as 18 MB sorts on disk.
        options = ["-c plan_cache_mode=force_custom_plan", "-c jit=off", "-c work_mem=32MB"]
        if statement_timeout:
            options.append(f"-c statement_timeout={int(statement_timeout * 1000)}")
        kwargs["connect_args"] = {"connect_timeout": 10, "options": " ".join(options)}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    return engine


def safe_url(engine: Engine) -> str:
    """The engine's URL for a log line: the password masked."""
    return engine.url.render_as_string(hide_password=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, future=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # alembic's ini interpolation would choke on '%' in passwords
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(False).replace("%", "%%"))
    return cfg


# The PostgreSQL advisory lock migrations and seeding take (any fixed number: "MaaS").
MIGRATION_LOCK = 0x4D614153


def lock_for_migration(conn) -> None:
    """Hold the migration lock until ``conn``'s transaction ends (PostgreSQL; SQLite
    serialises writers anyway): processes that migrate or seed the same database at
    once then do it one after the other, and the later ones find nothing left to do."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    from alembic import command

    cfg = _alembic_config(engine)
    # PostgreSQL's DDL is transactional: the whole upgrade is one transaction, under
    # the lock.
    with engine.begin() as conn:
        lock_for_migration(conn)
        cfg.attributes["connection"] = conn
        getattr(command, direction)(cfg, revision)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (creating it from empty if needed)."""
    _migrate(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (``base``: drop everything)."""
    _migrate(engine, "downgrade", revision)


def current_revision(engine: Engine) -> str | None:
    """The schema's alembic revision, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return MigrationContext.configure(conn).get_current_revision()


@functools.cache
def head_revision() -> str:
    """The newest revision of the migrations this code carries."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(make_engine("sqlite://"))).get_current_head()


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every revision of the migrations this code carries."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(make_engine("sqlite://")))
    return frozenset(r.revision for r in script.walk_revisions())


def schema_state(engine: Engine) -> dict:
    """Whether the database answers (``reachable``; else ``error``, the exception's
    name, and ``detail``, its first line), its schema ``revision`` and the ``head`` this
    code needs: the service's health check shows it, ``schema_problem`` says it."""
    state: dict = {"reachable": False, "revision": None, "head": head_revision()}
    try:
        state["revision"] = current_revision(engine)
    except Exception as e:  # noqa: BLE001 - any failure means "not ready", by its name
        first = str(e).strip().splitlines()
        state.update(error=type(e).__name__, detail=first[0] if first else "")
    else:
        state["reachable"] = True
    return state


def schema_problem(engine: Engine) -> str | None:
    """None when the schema is at this code's head revision; else why not, in a few
    words naming the revision found and the one needed (the database's own error if it
    cannot be read)."""
    state = schema_state(engine)
    current, head = state["revision"], state["head"]
    if not state["reachable"]:
        return f"the database cannot be read ({state['error']}: {state['detail']})"
    if current == head:
        return None
    if current is None:
        return f"the database has no schema yet; this version needs revision {head}"
    return f"the schema is at revision {current}; this version needs revision {head}"


def wait_for_schema(
    engine: Engine,
    timeout: float,
    *,
    log: Callable[[str], None] = log.info,
    interval: float = 0.5,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Wait up to ``timeout`` seconds for someone else (the migration job) to bring the
    schema to head; None once it is there, else the last problem. Each new problem is
    passed to ``log`` once (not once per look)."""
    deadline = clock() + timeout
    said = None
    while True:
        problem = schema_problem(engine)
        if problem is None:
            return None
        if problem != said:
            said = problem
            log(problem)
        if clock() >= deadline:
            return problem
        sleep(interval)
