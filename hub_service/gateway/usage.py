"""Writing usage rows and refusal counts without slowing requests or losing accounting.

Rows are queued (a bounded queue: past ``max_queue`` rows are dropped and counted, never
blocking a request) and written in batches by a background thread. A batch the database
refuses is split until the row it refuses is alone; that row is logged (sanitised) and
dropped, so one bad row never holds up the others. While the database is away, batches
wait and are retried.

Refused requests are not rows: ``RefusalCounts`` adds them up per minute, key, model,
status and reason, and the writer stores one row per such group, so a loop of refused
requests cannot grow the table faster than a row a minute.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import re
import threading
import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy import insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from ..db import Refusal, Usage, utcnow
from ..validation import DEFAULT_KEY_ENV_PREFIXES, OWN_SECRETS, backend_rules

log = logging.getLogger("maas.gateway")

BATCH_WINDOW = 0.2  # seconds the writer waits to batch rows
MAX_BATCH = 1000
MAX_BACKOFF = 5.0  # seconds between retries while the database is away
REFUSALS_FLUSH = 10.0  # seconds between writes of the refusal counts
MAX_REFUSAL_GROUPS = 10_000  # beyond this many groups a flush, refusals lose their key
PLACEHOLDER_MODEL = "(not in catalog)"

# Every usage row has every column, so one executemany can insert a batch.
USAGE_DEFAULTS = {
    "server_name": None,
    "key_id": None,
    "profile": None,
    "kernel_id": None,
    "notebook_path": None,
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "cost_usd": 0.0,
    "latency_ms": 0.0,
    "error": None,
    "request_id": None,
    "gateway": None,
}
_TEXT_LIMITS = {
    c.name: c.type.length
    for c in (*Usage.__table__.columns, *Refusal.__table__.columns)
    if getattr(c.type, "length", None)
}
_TEXT_LIMITS["error"] = 1000


def clean_text(value: str, limit: int) -> str:
    """A string any database stores: no NUL, valid UTF-8, at most ``limit`` chars."""
    value = value.replace("\x00", "")
    value = value.encode("utf-8", "replace").decode("utf-8")
    return value[:limit]


SECRET_PATTERNS = (
    (re.compile(r"(?i)\bbearer\s+\S+"), "Bearer [redacted]"),
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"), "sk-[redacted]"),
    (re.compile(r"://[^/\s:@]+:[^/\s@]+@"), "://[redacted]@"),
)


def redact(text: str) -> str:
    """``text`` without what looks like a secret (bearer tokens, sk- keys, passwords in
    URLs) or is one of the gateway's own (its database URL, master key, backend keys)."""
    for value in _own_secrets():
        text = text.replace(value, "[redacted]")
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _own_secrets() -> list[str]:
    """The values of the gateway's own secrets and of the variables that may hold backend
    keys (the configured prefixes, and the default one whatever they are)."""
    prefixes = (*backend_rules().key_env_prefixes, *DEFAULT_KEY_ENV_PREFIXES)
    return [
        v
        for k, v in os.environ.items()
        if (k in OWN_SECRETS or k.startswith(prefixes)) and len(v) >= 8
    ]


def clean_row(row: dict) -> dict:
    """A row any database stores, with no secret in its error text."""
    if isinstance(row.get("error"), str):
        row = {**row, "error": redact(row["error"])}
    return {
        k: clean_text(v, _TEXT_LIMITS[k]) if isinstance(v, str) and k in _TEXT_LIMITS else v
        for k, v in row.items()
    }


def log_safe(value: object, limit: int = 80) -> str:
    """A value as it may appear in the log: printable, cut short."""
    text_ = str(value)
    shown = "".join(c if c.isprintable() else "?" for c in text_[:limit])
    return shown + ("..." if len(text_) > limit else "")


class Unwritten(Exception):
    """The database is unreachable; ``rows`` were not written."""

    def __init__(self, rows: list[dict], cause: Exception):
        super().__init__(str(cause))
        self.rows = rows
        self.cause = cause


class RefusalCounts:
    """Refused requests per (minute, user, key, model, status, reason)."""

    def __init__(self, now: Callable[[], dt.datetime] = utcnow, metric=None):
        self.now = now
        self.metric = metric  # a Prometheus counter by (reason, status), if any
        self.counts: Counter = Counter()
        self._lock = threading.Lock()

    def add(
        self,
        status: int,
        reason: str,
        *,
        user: str | None = None,
        key_id: str | None = None,
        model: str | None = None,
    ) -> None:
        minute = self.now().replace(second=0, microsecond=0)
        group = (minute, user or "", key_id or "", model or "", status, reason)
        with self._lock:
            if group not in self.counts and len(self.counts) >= MAX_REFUSAL_GROUPS:
                group = (minute, "", "", "", status, reason)
            self.counts[group] += 1
        if self.metric is not None:
            self.metric.labels(reason, str(status)).inc()

    def take(self) -> list[dict]:
        with self._lock:
            counts, self.counts = self.counts, Counter()
        return [
            {
                "minute": minute,
                "user": user,
                "key_id": key_id,
                "model": model,
                "status": status,
                "reason": reason,
                "count": n,
            }
            for (minute, user, key_id, model, status, reason), n in counts.items()
        ]


class UsageWriter:
    """The background thread that writes usage rows and refusal counts."""

    def __init__(
        self,
        engine: Engine,
        gateway: str,
        refusals: RefusalCounts,
        *,
        max_queue: int = 100_000,
        refusal_interval: float = REFUSALS_FLUSH,
        clock: Callable[[], float] = time.monotonic,
        start: bool = True,
    ):
        self.engine = engine
        self.gateway = gateway
        self.refusals = refusals
        self.refusal_interval = refusal_interval
        self.clock = clock
        self.queue: queue.Queue[dict | None] = queue.Queue(maxsize=max_queue)
        self.dropped_full = 0  # rows dropped because the queue was full
        self.dropped_bad = 0  # rows the database refused, alone
        self.written = 0
        self._last_drop_log = float("-inf")
        self._last_refusal_flush = clock()
        self._thread = threading.Thread(target=self._run, name="maas-usage", daemon=True)
        if start:
            self.start()

    def start(self) -> None:
        self._thread.start()

    # -- producers (the event loop) ----------------------------------------------

    def put(self, row: dict) -> None:
        """Queue one usage row; never blocks, never raises into the request."""
        row.setdefault("ts", utcnow())
        try:
            self.queue.put_nowait(clean_row({**USAGE_DEFAULTS, **row, "gateway": self.gateway}))
        except queue.Full:
            self.dropped_full += 1
            now = self.clock()
            if now - self._last_drop_log > 60:
                self._last_drop_log = now
                log.error(
                    "The usage queue is full (%d rows): %d usage row(s) dropped so far; "
                    "is the database keeping up?",
                    self.queue.maxsize,
                    self.dropped_full,
                )

    # -- the writer thread ---------------------------------------------------------

    def _run(self) -> None:
        pending: list[dict] = []
        backoff = 0.5
        stopping = False
        while not stopping or pending:
            if not pending:
                try:
                    item = self.queue.get(timeout=self.refusal_interval)
                except queue.Empty:
                    item = ...
                if item is None:
                    stopping = True
                elif item is not ...:
                    pending.append(item)
                    # Gather what arrives in the next moment: fewer, larger
                    # transactions take less from the request path.
                    time.sleep(BATCH_WINDOW)
                while len(pending) < MAX_BATCH and not stopping:
                    try:
                        item = self.queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stopping = True
                    else:
                        pending.append(item)
            try:
                self._write(pending)
                pending = []
                backoff = 0.5
                if stopping or self.clock() - self._last_refusal_flush >= self.refusal_interval:
                    self._flush_refusals()
            except Unwritten as e:  # the database is away: keep the rows, retry
                pending = e.rows
                log.error(
                    "Writing %d usage row(s) failed (%s); retrying in %.1f s",
                    len(pending),
                    log_safe(e.cause, 200),
                    backoff,
                )
                if stopping:
                    return  # at exit: nothing to wait for
                time.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _insert(self, rows: list[dict]) -> None:
        # One executemany of plain rows: far less work (and GIL) than ORM objects.
        with self.engine.begin() as conn:
            conn.execute(insert(Usage), rows)

    def _write(self, rows: list[dict]) -> None:
        """Write ``rows``, in order. If the database refuses a batch while it is up,
        split the batch until the refused row is alone, and drop that row; if it is
        down, raise ``Unwritten`` with the rows not yet written."""
        chunks = [rows] if rows else []
        while chunks:
            chunk = chunks.pop(0)
            try:
                self._insert(chunk)
                self.written += len(chunk)
                continue
            except Exception as e:
                if not self._database_up():
                    raise Unwritten([r for c in (chunk, *chunks) for r in c], e) from e
            if len(chunk) == 1:
                self.dropped_bad += 1
                row = chunk[0]
                log.error(
                    "The database refused a usage row; dropped (user %s, model %s, status %s)",
                    log_safe(row.get("user")),
                    log_safe(row.get("model")),
                    row.get("status_code"),
                )
                continue
            half = len(chunk) // 2
            chunks[0:0] = [chunk[:half], chunk[half:]]

    def _database_up(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001
            return False

    def _flush_refusals(self) -> None:
        groups = self.refusals.take()
        self._last_refusal_flush = self.clock()
        if not groups:
            return
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(Refusal)
        upsert = upsert.on_conflict_do_update(
            index_elements=["minute", "gateway", "user", "key_id", "model", "status", "reason"],
            set_={"count": Refusal.count + upsert.excluded["count"]},
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(upsert, [clean_row({**g, "gateway": self.gateway}) for g in groups])
        except Exception as e:  # noqa: BLE001 - counts, not worth a retry loop
            log.error("Could not write %d refusal count(s): %s", len(groups), log_safe(e, 200))

    def close(self, timeout: float = 30) -> None:
        """Write every queued row and the refusal counts (called at exit)."""
        if self._thread.is_alive():
            try:
                self.queue.put(None, timeout=timeout)
            except queue.Full:
                pass
            self._thread.join(timeout=timeout)
