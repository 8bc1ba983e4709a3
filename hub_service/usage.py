"""Usage: what the usage API answers (a user's requests summed by model, key and day,
their last requests and refusals, and every request as CSV rows), its daily summary and
its retention.

Every usage row is summed once into its day's rollup (``summarize``, every
``usage_summary_interval``), per what the reports tell apart. A report over [start, end)
reads the rollups of the whole days in it, and the rows of its partial days and the rows
not yet summed (``requests``): what a term of usage costs to read grows with its days,
not its rows. Rows older than the retention are then deleted (``roll_up``), their days
"pruned": a pruned day's rollup counts at the start (midnight UTC) of its day, and the
CSV gives it as one line (``lines``). Only the list of last requests is read from the
rows alone.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from .db import USAGE_PRUNED, ApiKey, Counter, Refusal, Usage, UsageRollup, session_scope
from .keys import iso

# what a rollup tells apart: the usage reports group and filter by these
ROLLUP_DIMENSIONS = (
    "user",
    "model",
    "key_id",
    "server_name",
    "notebook_path",
    "profile",
    "status_code",
)
ROLLUP_SUMS = ("prompt_tokens", "completion_tokens", "cost_usd", "latency_ms")

# the rows not summed yet (PostgreSQL reads it as ``ix_usage_unsummarized``'s condition)
UNSUMMARIZED = Usage.summarized == false()


def midnight(t: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(t.date(), dt.time())


def _next_midnight(t: dt.datetime) -> dt.datetime:
    """The midnight after ``t`` (the last representable time on the last day)."""
    if t.date() == dt.date.max:
        return dt.datetime.max
    return midnight(t) + dt.timedelta(days=1)


def _epoch(t: dt.datetime) -> int:
    return int(t.replace(tzinfo=dt.timezone.utc).timestamp())


def _from_epoch(value: int) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(value, dt.timezone.utc).replace(tzinfo=None) if value else None


def pruned_before(db) -> dt.datetime | None:
    """The midnight before which the rows summed are deleted (None: no day pruned)."""
    return _from_epoch(db.scalar(select(Counter.value).where(Counter.name == USAGE_PRUNED)))


def _union(rows_where: list, rollups_where: list):
    """Rows and rollups in the same columns (``requests``: how many requests a line
    stands for; ``latency_ms``: the sum of their latencies; ``last_at``: the last)."""
    rows = select(
        Usage.ts,
        *(getattr(Usage, d) for d in ROLLUP_DIMENSIONS),
        literal(1, Integer).label("requests"),
        *(getattr(Usage, s) for s in ROLLUP_SUMS),
        Usage.kernel_id,
        false().label("rolled_up"),
        Usage.ts.label("last_at"),
    ).where(*rows_where)
    rollups = select(
        UsageRollup.day.label("ts"),
        *(getattr(UsageRollup, d) for d in ROLLUP_DIMENSIONS),
        UsageRollup.requests,
        *(getattr(UsageRollup, s) for s in ROLLUP_SUMS),
        null().cast(String(64)).label("kernel_id"),
        true().label("rolled_up"),
        func.coalesce(UsageRollup.last_at, UsageRollup.day).label("last_at"),
    ).where(*rollups_where)
    return rows.union_all(rollups).subquery("requests")


def requests(db, start: dt.datetime | None = None, end: dt.datetime | None = None):
    """Every request in [start, end) (None: unbounded), each counted once: the rollups
    of the whole days in the range, and the rows of its partial days and those not yet
    summed. A pruned day at the range's end counts if its midnight is in the range (its
    rows are gone); at its start, only its rows not yet summed count."""
    rows, edges, rollups = [], [], []
    if start is not None:
        # the first whole day's midnight
        first = start if start == midnight(start) else _next_midnight(start)
        rows.append(Usage.ts >= start)
        edges.append(Usage.ts < first)
        rollups.append(UsageRollup.day >= first)
    if end is not None:
        last = midnight(end)  # the end of the whole days
        rows.append(Usage.ts < end)
        edges.append(Usage.ts >= last)
        ends = UsageRollup.day < last
        pruned = pruned_before(db)
        if pruned is not None and last < end:
            ends = or_(ends, and_(UsageRollup.day == last, UsageRollup.day < pruned))
        rollups.append(ends)
    rows.append(or_(UNSUMMARIZED, *edges))
    return _union(rows, rollups)


def lines(db, start: dt.datetime):
    """Every request since ``start`` as a line: the rows still here, and a pruned day's
    rollup as one line for its requests (counted at its midnight)."""
    pruned = pruned_before(db)
    rollups = [UsageRollup.day >= start, UsageRollup.day < (pruned or start)]
    return _union([Usage.ts >= start], rollups)


CSV_COLUMNS = (
    "time",
    "model",
    "key_id",
    "key_name",
    "server_name",
    "notebook_path",
    "kernel_id",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "latency_ms",
    "status_code",
    "requests",
)


def spent(db, users, start: dt.datetime, end: dt.datetime) -> float:
    """What ``users`` spent together in [start, end)."""
    r = requests(db, start, end).c
    return float(
        db.scalar(select(func.coalesce(func.sum(r.cost_usd), 0.0)).where(r.user.in_(list(users))))
    )


def spend(n, prompt, completion, cost) -> dict:
    return {
        "requests": int(n),
        "prompt_tokens": int(prompt),
        "completion_tokens": int(completion),
        "cost_usd": float(cost),
    }


def spend_columns(r) -> tuple:
    """Requests, prompt and completion tokens, and cost, summed over ``r`` (the columns
    of ``requests`` or ``lines``)."""
    return (
        func.coalesce(func.sum(r.requests), 0),
        func.coalesce(func.sum(r.prompt_tokens), 0),
        func.coalesce(func.sum(r.completion_tokens), 0),
        func.coalesce(func.sum(r.cost_usd), 0.0),
    )


def summary(db, since: dt.datetime, match: dict, refusals: list) -> dict:
    """Spend by model, key, notebook and day since ``since``, the last requests and the
    refusals, of the requests whose columns equal ``match``'s values."""
    r = requests(db, since).c
    where = [r[name] == value for name, value in match.items()]
    sums = spend_columns(r)
    by_model = [
        {"model": m, **spend(*sums)}
        for m, *sums in db.execute(
            select(r.model, *sums).where(*where).group_by(r.model).order_by(r.model)
        )
    ]
    by_key = [
        {"key_id": key_id, "name": name, "server_name": server, **spend(*sums)}
        for key_id, name, server, *sums in db.execute(
            select(r.key_id, ApiKey.name, ApiKey.server_name, *sums)
            .outerjoin(ApiKey, ApiKey.id == r.key_id)
            .where(*where)
            .group_by(r.key_id, ApiKey.name, ApiKey.server_name)
            .order_by(func.sum(r.cost_usd).desc(), r.key_id)
        )
    ]
    by_notebook = [
        {"server_name": server, "notebook_path": path, **spend(*sums)}
        for server, path, *sums in db.execute(
            select(r.server_name, r.notebook_path, *sums)
            .where(*where, r.server_name.is_not(None))
            .group_by(r.server_name, r.notebook_path)
            .order_by(func.sum(r.cost_usd).desc(), r.notebook_path)
        )
    ]
    # single requests: the rows alone (a rollup is a day's requests)
    recent = db.scalars(
        select(Usage)
        .where(Usage.ts >= since, *(getattr(Usage, k) == v for k, v in match.items()))
        .order_by(Usage.ts.desc())
        .limit(20)
    ).all()
    day = func.date(r.ts)
    by_day = db.execute(
        select(day, sums[0], sums[3]).where(*where).group_by(day).order_by(day)
    ).all()
    refused = db.execute(
        select(Refusal.status, Refusal.reason, func.sum(Refusal.count))
        .where(*refusals)
        .group_by(Refusal.status, Refusal.reason)
        .order_by(Refusal.status, Refusal.reason)
    ).all()
    return {
        "total_cost_usd": sum(m["cost_usd"] for m in by_model),
        "total_requests": sum(m["requests"] for m in by_model),
        "total_prompt_tokens": sum(m["prompt_tokens"] for m in by_model),
        "total_completion_tokens": sum(m["completion_tokens"] for m in by_model),
        "by_model": by_model,
        "by_key": by_key,
        "by_notebook": by_notebook,
        "by_day": [
            {"day": str(d)[:10], "requests": int(n), "cost_usd": float(cost)}
            for d, n, cost in by_day
        ],
        "recent": [
            {
                "ts": iso(u.ts),
                "model": u.model,
                "server_name": u.server_name,
                "key_id": u.key_id,
                "notebook_path": u.notebook_path,
                "prompt_tokens": u.prompt_tokens,
                "completion_tokens": u.completion_tokens,
                "cost_usd": u.cost_usd,
                "latency_ms": u.latency_ms,
                "status_code": u.status_code,
            }
            for u in recent
        ],
        "refused": [
            {"status": status, "reason": reason, "requests": int(n)}
            for status, reason, n in refused
        ],
    }


def csv_rows(db, user: str, since: dt.datetime, match: dict):
    """Every request since ``since`` whose columns equal ``match``'s values, oldest
    first, as ``CSV_COLUMNS`` dicts; a pruned day's rollup is one line for its requests
    (``requests``; their mean latency, no kernel)."""
    names = dict(db.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.user == user)).all())
    r = lines(db, since).c
    query = select(r).where(*(r[k] == v for k, v in match.items()))
    for u in db.execute(query.order_by(r.ts, r.rolled_up.desc())):
        yield {
            "time": iso(u.ts),
            "model": u.model,
            "key_id": u.key_id,
            "key_name": names.get(u.key_id),
            "server_name": u.server_name,
            "notebook_path": u.notebook_path,
            "kernel_id": u.kernel_id,
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "cost_usd": round(u.cost_usd or 0.0, 10),
            "latency_ms": round(u.latency_ms / u.requests, 3) if u.rolled_up else u.latency_ms,
            "status_code": u.status_code,
            "requests": u.requests,
        }


# -- the daily summary and retention -------------------------------------------------

# The shortest retention allowed: the gateway counts budget spend from the usage rows
# alone, since the start of the longest period (a month, 31 days at most).
MIN_RETENTION_DAYS = 35.0
# rows summed per transaction
SUMMARY_BATCH = 10_000


def _lock(session: Session) -> dt.datetime | None:
    """Take the lock that summing and pruning share (the counter's row, until the
    transaction ends), and read the pruned days' end."""
    value = session.execute(
        update(Counter)
        .where(Counter.name == USAGE_PRUNED)
        .values(value=Counter.value)
        .returning(Counter.value)
    ).scalar_one()
    return _from_epoch(value)


def summarize(factory: sessionmaker[Session], batch: int = SUMMARY_BATCH) -> int:
    """Sum the rows not yet summed into their days' rollups; return how many.

    Each batch is one transaction that marks its rows summed and returns them (``UPDATE
    ... RETURNING``), so a row is summed exactly once: a crash loses nothing, and two
    replicas summing at once never count a row twice. A row committed after rows with
    later ids (PostgreSQL numbers rows as they are inserted) is summed by the next run.
    A row written late for a pruned day is deleted once summed, like the rest of its
    day."""
    columns = [getattr(Usage, c) for c in (*ROLLUP_DIMENSIONS, *ROLLUP_SUMS)]
    done = after = 0
    while True:
        with session_scope(factory) as session:
            pruned = _lock(session)
            # past the last batch's rows, whose entries the index holds until a vacuum
            batch_ids = (
                select(Usage.id)
                .where(UNSUMMARIZED, Usage.id > after)
                .order_by(Usage.id)
                .limit(batch)
            )
            rows = session.execute(
                update(Usage)
                .where(Usage.id.in_(batch_ids))
                .values(summarized=True)
                .returning(Usage.id, Usage.ts, *columns),
                execution_options={"synchronize_session": False},
            ).all()
            days: dict[dt.datetime, list] = {}
            for row in rows:
                days.setdefault(midnight(row[1]), []).append(row[1:])
            for day, members in days.items():
                _add_to_rollups(session, day, members)
            late = [row[0] for row in rows if pruned and row[1] < pruned]
            if late:
                session.execute(delete(Usage).where(Usage.id.in_(late)))
            done += len(rows)
        if len(rows) == batch:
            after = max(row[0] for row in rows)
        elif after:
            # A last pass from the start: rows committed since with lower ids; and, on
            # PostgreSQL, an index scan over the summed rows' old entries marks them
            # dead, so that reports skip them
            after = 0
        else:
            return done


def roll_up(factory: sessionmaker[Session], before: dt.datetime) -> int:
    """Delete the usage rows of the days before ``before``'s (midnight UTC), once
    summed, their rollups remaining; return how many rows were deleted.

    A day is deleted in one transaction that also marks it pruned, so that a report
    never counts a day's requests twice nor misses them."""
    cutoff = midnight(before)
    summarize(factory)
    done = 0
    while True:
        with session_scope(factory) as session:
            pruned = _lock(session)
            first = session.scalar(
                select(func.min(Usage.ts)).where(Usage.ts < cutoff, Usage.summarized == true())
            )
            day = midnight(first) if first else cutoff
            if first is not None:
                done += session.execute(
                    delete(Usage).where(
                        Usage.ts >= day,
                        Usage.ts < day + dt.timedelta(days=1),
                        Usage.summarized == true(),
                    ),
                    execution_options={"synchronize_session": False},
                ).rowcount
                day += dt.timedelta(days=1)
            if pruned is None or day > pruned:
                session.execute(
                    update(Counter).where(Counter.name == USAGE_PRUNED).values(value=_epoch(day))
                )
        if first is None:
            return done


def _add_to_rollups(session: Session, day: dt.datetime, rows) -> None:
    """Add ``rows`` (each a request's time, ``ROLLUP_DIMENSIONS`` and ``ROLLUP_SUMS``),
    all of ``day``, to the day's rollups."""
    n = len(ROLLUP_DIMENSIONS)
    groups: dict[tuple, list] = {}
    for ts, *row in rows:
        groups.setdefault(tuple(row[:n]), []).append((ts, *row[n:]))
    users = {dims[0] for dims in groups}
    existing = {
        tuple(r[1:]): r[0]
        for r in session.execute(
            select(UsageRollup.id, *(getattr(UsageRollup, d) for d in ROLLUP_DIMENSIONS)).where(
                UsageRollup.day == day, UsageRollup.user.in_(users)
            )
        )
    }
    new = []
    for dims, members in groups.items():
        last, prompt, completion, cost, latency = zip(*members, strict=True)
        sums = {
            "requests": len(members),
            "prompt_tokens": sum(p or 0 for p in prompt),
            "completion_tokens": sum(c or 0 for c in completion),
            "cost_usd": math.fsum(c or 0.0 for c in cost),
            "latency_ms": math.fsum(x or 0.0 for x in latency),
        }
        rollup_id = existing.get(dims)
        if rollup_id is None:
            new.append(
                {"day": day, **dict(zip(ROLLUP_DIMENSIONS, dims, strict=True)), **sums}
                | {"last_at": max(last)}
            )
            continue
        # increments in SQL: another replica may be adding to it too
        later = case(
            (or_(UsageRollup.last_at.is_(None), UsageRollup.last_at < max(last)), max(last)),
            else_=UsageRollup.last_at,
        )
        session.execute(
            update(UsageRollup)
            .where(UsageRollup.id == rollup_id)
            .values({k: getattr(UsageRollup, k) + v for k, v in sums.items()} | {"last_at": later})
        )
    if new:
        session.execute(insert(UsageRollup), new)
