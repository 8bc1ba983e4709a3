"""The daily summary and usage retention: rows are summed per day into rollups, which
reports read whole days from, and rows past ``MaaSService.usage_retention_days`` are
deleted once summed. Every total the API shows (a user's usage page, its CSV, their
keys' spend and last use, admin chargeback by every dimension, a policy's spend, ranges
that start and end inside a day) is the same before and after each. The service's own
app answers, on SQLite and PostgreSQL, with its clock injected."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import subprocess
import sys

import pytest
from inprocess import ServedService
from sqlalchemy import func, select

from hub_service import db, usage
from hub_service.app import MaaSService
from hub_service.keys import iso

NOW = dt.datetime(2027, 3, 15, 12, 30)
USERS = ("ann", "bob", "cy")
MODELS = ("small", "large", "vision")
RETENTION = 40
TEAM = "course"
# the course's term: it began before the oldest calendar window (so the roster reads
# from its start) and ended two days ago (the requests since do not count in it)
TERM = (dt.datetime(2026, 12, 1, 8, 15), dt.datetime(2027, 3, 13, 9, 45))
TEAM_BUDGETS = [{"window": w, "usd": 5} for w in ("day", "week", "month", "term")]


def populate(factory, days: int = 90, per_day: int = 12, seed: int = 7) -> None:
    """Requests of every user, model, key, notebook and status over ``days`` days."""
    rnd = random.Random(seed)
    with db.session_scope(factory) as session:
        for user in USERS:
            for n, server in enumerate((None, "", "gpu")):
                session.add(
                    db.ApiKey(
                        id=f"{user}{n}",
                        key_hash=f"{user}-hash-{n}",
                        prefix="sk-maas-Ab",
                        last4="wxyz",
                        user=user,
                        server_name=server,
                        name=f"{user}'s key {n}",
                        expires_at=NOW + dt.timedelta(days=30),
                    )
                )
        session.add(
            db.Team(
                name=TEAM, available_models=["*"], models=[], budgets=TEAM_BUDGETS, caps=[],
                starts_at=TERM[0], ends_at=TERM[1], alert_percent=80,
            )
        )  # fmt: skip
        session.add_all(db.UserGroup(user=user, group=TEAM) for user in USERS[:2])
        session.flush()
        for day in range(days):
            for _ in range(per_day):
                user = rnd.choice(USERS)
                n = rnd.randrange(3)
                server = (None, "", "gpu")[n]
                session.add(
                    db.Usage(
                        ts=NOW - dt.timedelta(days=day, seconds=rnd.randrange(86400)),
                        user=user,
                        server_name=server,
                        key_id=f"{user}{n}",
                        model=rnd.choice(MODELS),
                        prompt_tokens=rnd.randrange(1000),
                        completion_tokens=rnd.randrange(500),
                        cost_usd=rnd.randrange(1, 10**6) / 1e7,
                        latency_ms=rnd.uniform(5, 500),
                        status_code=rnd.choice((200, 200, 200, 429, 500)),
                        profile=rnd.choice(("cpu", "gpu", None)),
                        kernel_id=rnd.choice((None, "k1")),
                        notebook_path=None if server is None else rnd.choice(("a.ipynb", None)),
                    )
                )


def csv_totals(text: str) -> dict:
    rows = list(csv.DictReader(io.StringIO(text)))
    return {
        "requests": sum(int(r["requests"]) for r in rows),
        "prompt_tokens": sum(int(r["prompt_tokens"]) for r in rows),
        "completion_tokens": sum(int(r["completion_tokens"]) for r in rows),
        "cost_usd": pytest.approx(sum(float(r["cost_usd"]) for r in rows), rel=1e-9),
    }


def every_total(served: ServedService) -> dict:
    """What the API shows, everything but the list of last requests (single requests,
    which a rollup is not)."""
    seen = {}

    def answer(path, user, **params):
        r = served.get(path, user, **params)
        assert r.status_code == 200, r.text
        return r

    for user in USERS:
        # windows that start and end on days either all rolled up or all kept: one that
        # starts inside a rolled-up day counts that day from its start (midnight) on
        for params in (
            {"since": "2027-03-02T09:45:00Z"},
            {"days": 366},
            {"days": 366, "model": "small"},
            {"days": 366, "key_id": f"{user}2"},
            {"days": 366, "server_name": "gpu"},
            {"days": 30},
            {"period": "month"},
        ):
            body = answer(f"users/{user}/usage", user, **params).json()
            del body["recent"]
            seen[("usage", user, str(params))] = body
        seen[("csv", user)] = csv_totals(
            answer(f"users/{user}/usage", user, days=366, format="csv").text
        )
        seen[("keys", user)] = {
            k["id"]: (k["requests"], pytest.approx(k["spend_usd"], rel=1e-9), k["last_used"])
            for k in answer(f"users/{user}/keys", user).json()["keys"]
        }
        seen[("policy", user)] = answer(f"admin/policy/{user}", served.admin).json()
    seen["roster"] = answer(f"teams/{TEAM}/members", served.admin).json()
    seen["team usage"] = answer(f"teams/{TEAM}/usage", served.admin, days=120).json()
    for by in ("user", "group", "profile", "model", "notebook"):
        for start, end in (
            ("2026-01-01", "2027-04-01"),
            ("2027-01-10", "2027-02-01"),
            # inside days at both ends, and inside one day
            ("2027-03-01T07:15:00Z", "2027-03-14T16:45:00Z"),
            ("2027-03-10T03:00:00Z", "2027-03-10T21:30:00Z"),
        ):
            rows = answer("admin/chargeback", served.admin, by=by, start=start, end=end).json()
            seen[("chargeback", by, start)] = rows
    return seen


def approximately(value):
    """Sums of costs added in another order differ in the last bits."""
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-9, abs=1e-12)
    if isinstance(value, dict):
        return {k: approximately(v) for k, v in value.items()}
    if isinstance(value, list):
        return [approximately(v) for v in value]
    return value


def chargeback(served: ServedService, start: str, end: str) -> list:
    r = served.get("admin/chargeback", served.admin, by="user", start=start, end=end)
    assert r.status_code == 200, r.text
    return r.json()["rows"]


@pytest.fixture
def served(db_url, monkeypatch):
    clock = {"now": NOW}
    service = ServedService(
        db_url, monkeypatch, lambda: clock["now"], usage_retention_days=RETENTION
    )
    service.clock = clock
    yield service
    service.stop()


def count(factory, model, *where) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_daily_summary_keeps_every_total(served):
    factory = served.service.session_factory
    populate(factory)
    before = every_total(served)
    rows = count(factory, db.Usage)

    assert served.service.summarize_usage_once() == rows
    assert count(factory, db.Usage, db.Usage.summarized.is_(False)) == 0
    assert 0 < count(factory, db.UsageRollup) < rows
    assert every_total(served) == approximately(before)

    # A row written after the sum is counted from the row until the next sum
    with db.session_scope(factory) as session:
        session.add(
            db.Usage(
                ts=NOW - dt.timedelta(hours=1), user="ann", model="small", key_id="ann0",
                prompt_tokens=7, completion_tokens=3, cost_usd=0.5,
            )
        )  # fmt: skip
    usage_page = ("usage", "ann", "{'days': 366}")
    total = before[usage_page]["total_requests"] + 1
    assert served.get("users/ann/usage", "ann", days=366).json()["total_requests"] == total
    assert served.service.summarize_usage_once() == 1
    assert served.get("users/ann/usage", "ann", days=366).json()["total_requests"] == total
    assert served.service.summarize_usage_once() == 0


def test_rolling_up_old_usage_keeps_every_total(served):
    factory = served.service.session_factory
    populate(factory)
    before = every_total(served)
    whole_days = chargeback(served, "2027-01-11", "2027-01-21")
    cutoff = usage.midnight(NOW - dt.timedelta(days=RETENTION))
    old = count(factory, db.Usage, db.Usage.ts < cutoff)
    assert old > 500

    rolled = served.service.roll_up_usage_once()

    assert rolled == old
    assert count(factory, db.Usage, db.Usage.ts < cutoff) == 0
    assert count(factory, db.Usage) > 0  # the recent rows stay as they were
    assert 0 < count(factory, db.UsageRollup, db.UsageRollup.day < cutoff) < old
    after = every_total(served)
    assert after == approximately(before)
    # A range inside deleted days counts each of their rollups at its day's start
    inside = chargeback(served, "2027-01-10T05:00:00Z", "2027-01-20T13:30:00Z")
    assert inside == approximately(whole_days)

    # When a gateway writes a late row for a day already rolled up, and a day passes
    with db.session_scope(factory) as session:
        session.add(
            db.Usage(
                ts=cutoff - dt.timedelta(hours=3), user="ann", model="small",
                key_id="ann0", prompt_tokens=7, completion_tokens=3, cost_usd=0.5,
            )
        )  # fmt: skip
    rollups = count(factory, db.UsageRollup)
    served.clock["now"] = NOW + dt.timedelta(days=1)
    assert served.service.roll_up_usage_once() > 1
    # Then it joins its day's rollup of the same request kind, or starts one, and its
    # row goes with it
    assert count(factory, db.UsageRollup) >= rollups
    assert count(factory, db.Usage, db.Usage.ts < cutoff) == 0
    later = served.get("users/ann/usage", "ann", days=366).json()
    assert (
        later["total_requests"] == before[("usage", "ann", "{'days': 366}")]["total_requests"] + 1
    )
    assert served.service.roll_up_usage_once() == 0  # nothing left to do


def test_retention_off_keeps_every_row(db_url, monkeypatch):
    served = ServedService(db_url, monkeypatch, lambda: NOW)
    try:
        populate(served.service.session_factory, days=5, per_day=3)
        assert served.service.usage_retention_days == 0
        assert served.service.roll_up_usage_once() == 0
        assert count(served.service.session_factory, db.Usage) == 15
    finally:
        served.stop()


def test_a_sum_in_batches_is_the_same_as_in_one(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'batches.sqlite'}")
    db.upgrade(engine)
    factory = db.make_session_factory(engine)
    populate(factory, days=3, per_day=40)
    today = usage.midnight(NOW)
    old = count(factory, db.Usage, db.Usage.ts < today)

    assert usage.summarize(factory, batch=7) == 120
    with factory() as session:
        assert session.scalar(select(func.sum(db.UsageRollup.requests))) == 120
        days = session.scalars(select(db.UsageRollup.day).distinct()).all()
    assert sorted(days) == [today - dt.timedelta(days=d) for d in (3, 2, 1, 0)]
    assert usage.roll_up(factory, NOW) == old  # the days before today
    assert count(factory, db.Usage) == 120 - old
    engine.dispose()


@pytest.mark.parametrize("days", ["10", "-1", "nan"])
def test_a_retention_too_short_for_budgets_refuses_to_start(days, tmp_path):
    done = subprocess.run(
        [
            sys.executable, "-m", "hub_service", "--migrate-only",
            f"--db-url=sqlite:///{tmp_path / 'm.sqlite'}",
            f"--MaaSService.usage_retention_days={days}",
        ],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "usage_retention_days" in done.stderr and "at least 35" in done.stderr
    assert "Traceback" not in done.stderr
    assert MaaSService.usage_retention_days.default_value == 0


@pytest.mark.parametrize(
    "start, end",
    [
        ("9999-12-31T12:00:00Z", "9999-12-31T13:00:00Z"),  # no midnight after it
        ("0001-01-01", "0001-01-02"),  # no 30 days before it
        (None, "0001-01-10"),
    ],
)
def test_ranges_at_the_ends_of_time_answer_not_a_server_error(served, start, end):
    populate(served.service.session_factory, days=2, per_day=3)
    params = {"by": "user", "end": end, **({"start": start} if start else {})}
    assert served.get("admin/chargeback", served.admin, **params).status_code == 200
    since = "9999-12-31T23:45:00Z"
    assert served.get("users/ann/usage", "ann", since=since).json()["total_requests"] == 0


def test_the_roster_counts_each_members_requests_exactly(served):
    """A team's roster (spend per window, requests, last use, top notebooks) against the
    rows themselves, then summed and pruned: the term began before the data did (inside
    a day) and ended two days ago, after which its members went on working."""
    factory = served.service.session_factory
    populate(factory, days=110)
    bounds = {
        "day": (dt.datetime(2027, 3, 15), dt.datetime(2027, 3, 16)),
        "week": (dt.datetime(2027, 3, 15), dt.datetime(2027, 3, 22)),  # a Monday
        "month": (dt.datetime(2027, 3, 1), dt.datetime(2027, 4, 1)),
        "term": TERM,
    }
    with factory() as session:
        rows = session.scalars(select(db.Usage).where(db.Usage.ts >= TERM[0])).all()
    assert any(TERM[1] <= u.ts for u in rows)  # requests after the term

    def expected(rows) -> dict:
        members = {}
        for user in USERS[:2]:
            mine = [u for u in rows if u.user == user]
            notebooks: dict = {}
            for u in mine:
                if u.notebook_path is not None:
                    notebooks[u.notebook_path] = notebooks.get(u.notebook_path, 0) + u.cost_usd
            members[user] = {
                "requests": len(mine),
                "last_used": iso(max(u.ts for u in mine)),
                "spend": {
                    w: sum(u.cost_usd for u in mine if start <= u.ts < end)
                    for w, (start, end) in bounds.items()
                },
                "notebooks": notebooks,
            }
        return members

    def roster() -> dict:
        r = served.get(f"teams/{TEAM}/members", served.admin)
        assert r.status_code == 200, r.text
        members = {m["user"]: m for m in r.json()["members"]}
        assert sorted(members) == list(USERS[:2])
        return {
            user: {
                "requests": m["requests"],
                "last_used": m["last_used"],
                "spend": {b["window"]: b["spend_usd"] for b in m["budgets"]},
                "notebooks": {n["notebook_path"]: n["cost_usd"] for n in m["top_notebooks"]},
            }
            for user, m in members.items()
        }

    assert roster() == approximately(expected(rows))
    served.service.summarize_usage_once()
    assert roster() == approximately(expected(rows))
    served.service.roll_up_usage_once()
    # Once the term's first day is pruned (its rows deleted, a rollup of the whole day
    # left), the term counts from the next midnight, as every range that starts inside
    # a pruned day does
    first_midnight = usage.midnight(TERM[0]) + dt.timedelta(days=1)
    assert count(factory, db.Usage, db.Usage.ts < first_midnight) == 0
    assert roster() == approximately(expected([u for u in rows if u.ts >= first_midnight]))
