"""Usage: what the usage API answers (a user's requests summed by model, key and day,
their last requests and refusals, and every request as CSV rows), and its retention.

Usage rows older than the retention are summed per day into ``usage_rollups``
(``roll_up``) and deleted. Every read counts both through ``REQUESTS``, the union of
the rows (one request each) and the rollups (``requests`` each), so that no total
changes when rows are rolled up. A rollup counts at the start (midnight UTC) of its
day; only the list of last requests is read from the rows alone.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import Integer, String, delete, false, func, literal, null, select, true, update
from sqlalchemy.orm import Session, sessionmaker

from .db import ApiKey, Refusal, Usage, UsageRollup, session_scope
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


def _requests():
    rows = select(
        Usage.ts,
        *(getattr(Usage, d) for d in ROLLUP_DIMENSIONS),
        literal(1, Integer).label("requests"),
        *(getattr(Usage, s) for s in ROLLUP_SUMS),
        Usage.kernel_id,
        false().label("rolled_up"),
    )
    rollups = select(
        UsageRollup.day.label("ts"),
        *(getattr(UsageRollup, d) for d in ROLLUP_DIMENSIONS),
        UsageRollup.requests,
        *(getattr(UsageRollup, s) for s in ROLLUP_SUMS),
        null().cast(String(64)).label("kernel_id"),
        true().label("rolled_up"),
    )
    return rows.union_all(rollups).subquery("requests")


# Every request: the usage rows and the rollups, in the same columns (``requests``: how
# many requests a row stands for; ``latency_ms``: the sum of their latencies).
REQUESTS = _requests()
R = REQUESTS.c

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
    return float(
        db.scalar(
            select(func.coalesce(func.sum(R.cost_usd), 0.0)).where(
                R.user.in_(list(users)), R.ts >= start, R.ts < end
            )
        )
    )


def spend(n, prompt, completion, cost) -> dict:
    return {
        "requests": int(n),
        "prompt_tokens": int(prompt),
        "completion_tokens": int(completion),
        "cost_usd": float(cost),
    }


SPEND_COLUMNS = (
    func.coalesce(func.sum(R.requests), 0),
    func.coalesce(func.sum(R.prompt_tokens), 0),
    func.coalesce(func.sum(R.completion_tokens), 0),
    func.coalesce(func.sum(R.cost_usd), 0.0),
)


def summary(db, where: list, refusals: list) -> dict:
    """Spend by model, key, notebook and day, the last requests and the refusals matching
    (``where``: conditions on ``REQUESTS``' columns, ``R``)."""
    by_model = [
        {"model": m, **spend(*sums)}
        for m, *sums in db.execute(
            select(R.model, *SPEND_COLUMNS).where(*where).group_by(R.model).order_by(R.model)
        )
    ]
    by_key = [
        {"key_id": key_id, "name": name, "server_name": server, **spend(*sums)}
        for key_id, name, server, *sums in db.execute(
            select(R.key_id, ApiKey.name, ApiKey.server_name, *SPEND_COLUMNS)
            .outerjoin(ApiKey, ApiKey.id == R.key_id)
            .where(*where)
            .group_by(R.key_id, ApiKey.name, ApiKey.server_name)
            .order_by(func.sum(R.cost_usd).desc(), R.key_id)
        )
    ]
    by_notebook = [
        {"server_name": server, "notebook_path": path, **spend(*sums)}
        for server, path, *sums in db.execute(
            select(R.server_name, R.notebook_path, *SPEND_COLUMNS)
            .where(*where, R.server_name.is_not(None))
            .group_by(R.server_name, R.notebook_path)
            .order_by(func.sum(R.cost_usd).desc(), R.notebook_path)
        )
    ]
    # single requests: the rows alone (a rollup is a day's requests)
    recent = db.execute(
        select(REQUESTS).where(*where, R.rolled_up.is_(False)).order_by(R.ts.desc()).limit(20)
    ).all()
    day = func.date(R.ts)
    by_day = db.execute(
        select(day, SPEND_COLUMNS[0], SPEND_COLUMNS[3]).where(*where).group_by(day).order_by(day)
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


def csv_rows(db, user: str, where: list):
    """Every request matching ``where``, oldest first, as ``CSV_COLUMNS`` dicts; a rollup
    is one line for its day's requests (``requests``; its mean latency, no kernel)."""
    names = dict(db.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.user == user)).all())
    for u in db.execute(select(REQUESTS).where(*where).order_by(R.ts, R.rolled_up.desc())):
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


# -- retention ----------------------------------------------------------------------

# The shortest retention allowed: the gateway counts budget spend from the usage rows
# alone, since the start of the longest period (a month, 31 days at most).
MIN_RETENTION_DAYS = 35.0
# rows deleted and summed per transaction (a busy day is several)
ROLLUP_BATCH = 5000


def midnight(t: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(t.date(), dt.time())


def roll_up(factory: sessionmaker[Session], before: dt.datetime, batch: int = ROLLUP_BATCH) -> int:
    """Sum the usage rows of the days before ``before``'s (midnight UTC) into the
    rollups and delete them; return how many rows were rolled up.

    Each batch is one transaction that deletes its rows and returns them (``DELETE ...
    RETURNING``), so a row is summed exactly when it is deleted: a crash loses nothing,
    and two replicas rolling up at once never count a row twice. A row written late for
    a day already rolled up is added to that day's rollup by the next run."""
    cutoff = midnight(before)
    done = 0
    while True:
        with session_scope(factory) as session:
            first = session.scalar(select(func.min(Usage.ts)).where(Usage.ts < cutoff))
            if first is None:
                return done
            day = midnight(first)
            ids = (
                select(Usage.id)
                .where(Usage.ts >= day, Usage.ts < day + dt.timedelta(days=1))
                .order_by(Usage.id)
                .limit(batch)
            )
            columns = [getattr(Usage, c) for c in (*ROLLUP_DIMENSIONS, *ROLLUP_SUMS)]
            rows = session.execute(
                delete(Usage).where(Usage.id.in_(ids)).returning(*columns),
                execution_options={"synchronize_session": False},
            ).all()
            _add_to_rollups(session, day, rows)
            done += len(rows)


def _add_to_rollups(session: Session, day: dt.datetime, rows) -> None:
    n = len(ROLLUP_DIMENSIONS)
    groups: dict[tuple, list] = {}
    for row in rows:
        groups.setdefault(tuple(row[:n]), []).append(row[n:])
    existing = {
        tuple(getattr(r, d) for d in ROLLUP_DIMENSIONS): r.id
        for r in session.scalars(select(UsageRollup).where(UsageRollup.day == day))
    }
    for dims, members in groups.items():
        prompt, completion, cost, latency = zip(*members, strict=True)
        sums = {
            "requests": len(members),
            "prompt_tokens": sum(p or 0 for p in prompt),
            "completion_tokens": sum(c or 0 for c in completion),
            "cost_usd": math.fsum(c or 0.0 for c in cost),
            "latency_ms": math.fsum(x or 0.0 for x in latency),
        }
        rollup_id = existing.get(dims)
        if rollup_id is None:
            session.add(
                UsageRollup(day=day, **dict(zip(ROLLUP_DIMENSIONS, dims, strict=True)), **sums)
            )
        else:  # increments in SQL: another replica may be adding to it too
            session.execute(
                update(UsageRollup)
                .where(UsageRollup.id == rollup_id)
                .values({k: getattr(UsageRollup, k) + v for k, v in sums.items()})
            )
