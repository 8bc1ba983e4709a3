"""What the usage API answers: a user's requests summed by model, key and day, their
last requests and refusals, and every request as CSV rows."""

from __future__ import annotations

from sqlalchemy import func, select

from .db import ApiKey, Refusal, Usage
from .keys import iso

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
)


def spend(n, prompt, completion, cost) -> dict:
    return {
        "requests": n,
        "prompt_tokens": int(prompt),
        "completion_tokens": int(completion),
        "cost_usd": float(cost),
    }


SPEND_COLUMNS = (
    func.count(Usage.id),
    func.coalesce(func.sum(Usage.prompt_tokens), 0),
    func.coalesce(func.sum(Usage.completion_tokens), 0),
    func.coalesce(func.sum(Usage.cost_usd), 0.0),
)


def summary(db, where: list, refusals: list) -> dict:
    """Spend by model, key, notebook and day, the last requests and the refusals matching."""
    by_model = [
        {"model": m, **spend(*sums)}
        for m, *sums in db.execute(
            select(Usage.model, *SPEND_COLUMNS)
            .where(*where)
            .group_by(Usage.model)
            .order_by(Usage.model)
        )
    ]
    by_key = [
        {"key_id": key_id, "name": name, "server_name": server, **spend(*sums)}
        for key_id, name, server, *sums in db.execute(
            select(Usage.key_id, ApiKey.name, ApiKey.server_name, *SPEND_COLUMNS)
            .outerjoin(ApiKey, ApiKey.id == Usage.key_id)
            .where(*where)
            .group_by(Usage.key_id, ApiKey.name, ApiKey.server_name)
            .order_by(func.sum(Usage.cost_usd).desc(), Usage.key_id)
        )
    ]
    by_notebook = [
        {"server_name": server, "notebook_path": path, **spend(*sums)}
        for server, path, *sums in db.execute(
            select(Usage.server_name, Usage.notebook_path, *SPEND_COLUMNS)
            .where(*where, Usage.server_name.is_not(None))
            .group_by(Usage.server_name, Usage.notebook_path)
            .order_by(func.sum(Usage.cost_usd).desc(), Usage.notebook_path)
        )
    ]
    recent = db.scalars(select(Usage).where(*where).order_by(Usage.ts.desc()).limit(20)).all()
    day = func.date(Usage.ts)
    by_day = db.execute(
        select(day, func.count(Usage.id), func.coalesce(func.sum(Usage.cost_usd), 0.0))
        .where(*where)
        .group_by(day)
        .order_by(day)
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
            {"day": str(d)[:10], "requests": n, "cost_usd": float(cost)} for d, n, cost in by_day
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
    """Every request matching ``where``, oldest first, as ``CSV_COLUMNS`` dicts."""
    names = dict(db.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.user == user)).all())
    for u in db.scalars(select(Usage).where(*where).order_by(Usage.ts)):
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
            "latency_ms": u.latency_ms,
            "status_code": u.status_code,
        }
