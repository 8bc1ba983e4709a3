"""The upgrade path: a database filled at every earlier schema revision, from 0001 on,
is migrated to head on SQLite and PostgreSQL, and its data survives: every row, every
value written, and what the service makes of them (a key still authenticates by its
hash, usage totals are the same, a user's effective policy is the one set).

At each revision the tables there are filled from ``SAMPLE`` with the columns they
have then (introspected); a required column ``SAMPLE`` does not know gets a value of
its type. A new table or column only needs its sample here to be covered from its
revision on."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, MetaData, insert, select

from hub_service import db, keys, policy, usage

SECRET = "sk-maas-upgradepathsecretkey0001"
T0 = dt.datetime(2026, 11, 20, 9, 30)
FAR = dt.datetime(2099, 1, 1)

SAMPLE: dict[str, list[dict]] = {
    "models": [
        {
            "id": 1, "name": "m1", "provider_model": "openai/m1", "api_base": "http://vllm/v1",
            "api_key_env": "MAAS_BACKEND_M1", "mode": "chat", "description": "first",
            "context_window": 8192, "max_output_tokens": 1024, "capabilities": ["tools"],
            "extra_params": {"timeout": 30}, "input_cost_per_token": 1e-6,
            "output_cost_per_token": 2e-6, "enabled": True, "created": T0, "updated": T0,
        }
    ],
    "profiles": [
        {
            "id": 1, "slug": "cpu", "display_name": "CPU", "description": "small",
            "resources": {"cpu_limit": 2}, "is_default": True, "models": ["m1"],
            "budget_usd": 20.0, "budget_period": "month", "rpm_limit": 60,
            "budgets": [{"window": "month", "usd": 20.0}],
            "tpm_limit": None, "groups": ["research"],
        }
    ],
    "api_keys": [
        {
            "id": "k1", "key_hash": keys.hash_key(SECRET), "prefix": "sk-maas-up",
            "last4": "0001", "user": "ann", "server_name": None, "name": "laptop",
            "profile_slug": "cpu", "created": T0, "expires_at": FAR, "revoked_at": None,
            "revoked_reason": None, "updated": T0, "seq": 1, "hub_user_created": T0,
            "user_deleted_at": None, "models": ["m1"], "parent_id": None,
            "kernel_id": None, "notebook_path": None,
        },
        {
            "id": "k2", "key_hash": "f" * 64, "prefix": "sk-maas-ol", "last4": "dead",
            "user": "ann", "server_name": "", "name": "server", "profile_slug": "cpu",
            "created": T0, "expires_at": FAR, "revoked_at": T0 + dt.timedelta(hours=1),
            "revoked_reason": "server stopped", "updated": T0 + dt.timedelta(hours=1),
            "seq": 2,
        },
    ],
    "usage": [
        {
            "id": i, "ts": T0 + dt.timedelta(hours=i), "user": "ann", "server_name": None,
            "key_id": "k1", "model": "m1", "prompt_tokens": 100, "completion_tokens": 50,
            "cost_usd": 0.25, "latency_ms": 12.5, "status_code": 200, "error": None,
            "request_id": f"r{i}", "profile": "cpu", "gateway": "g1",
            "kernel_id": None, "notebook_path": None,
        }
        for i in range(1, 11)
    ],
    "usage_rollups": [
        {
            "id": 1, "day": dt.datetime(2026, 10, 1), "user": "ann", "model": "m1",
            "key_id": "k1", "server_name": None, "notebook_path": None, "profile": "cpu",
            "status_code": 200, "requests": 4, "prompt_tokens": 400,
            "completion_tokens": 200, "cost_usd": 1.0, "latency_ms": 50.0,
        }
    ],
    "policy_overrides": [
        {
            "id": 1, "kind": "group", "name": "research", "extra_models": ["m2"],
            "budget_usd": 100.0, "budget_period": "month", "rpm_limit": None,
            "budgets": [{"window": "month", "usd": 100.0}],
            "tpm_limit": 1000,
        }
    ],
    "user_groups": [{"user": "ann", "group": "research"}],
    "audit_log": [
        {
            "id": 1, "ts": T0, "actor": "root", "action": "create", "target_type": "model",
            "target": "m1", "before": None, "after": {"name": "m1"},
        }
    ],
    "budget_alerts": [
        {"user": "ann", "period_start": T0, "sent_at": T0, "spend_usd": 16.0, "budget_usd": 20.0}
    ],
    "refusals": [
        {
            "id": 1, "minute": T0, "gateway": "g1", "user": "ann", "key_id": "k1",
            "model": "m1", "status": 429, "reason": "rpm", "count": 3,
        }
    ],
    "budget_holds": [{"gateway": "g1", "user": "ann", "amount": 0.5, "updated": T0}],
    "teams": [
        {
            "name": "research", "available_models": ["m1", "m2"], "models": ["m2"],
            "budgets": [{"window": "day", "usd": 1.0}], "caps": [{"window": "week", "usd": 9.0}],
            "starts_at": T0, "ends_at": FAR, "alert_percent": 75, "created": T0, "updated": T0,
        }
    ],
    "team_members": [
        {"team": "research", "user": "ann", "budgets": [{"window": "day", "usd": 2.0}],
         "note": "accommodation"}
    ],
    "server_starts": [
        {"user": "ann", "server_name": "", "token_hash": "e" * 64, "profile": "cpu",
         "user_created": T0, "groups": ["research"], "admin": False, "at": T0}
    ],
}  # fmt: skip
# columns a later revision folds into another: (table, column) -> the column that holds
# them since (0010: one budget became a list of budgets over windows)
FOLDED = {
    ("profiles", "budget_usd"): "budgets",
    ("profiles", "budget_period"): "budgets",
    ("policy_overrides", "budget_usd"): "budgets",
    ("policy_overrides", "budget_period"): "budgets",
}
# rows the migrations write themselves
MIGRATIONS_OWN = {"alembic_version", "counters"}


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(db._alembic_config(db.make_engine("sqlite://")))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def filler(column):
    kind = column["type"]
    if isinstance(kind, JSON):
        return []
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, DateTime):
        return T0
    if isinstance(kind, Float):
        return 0.0
    if isinstance(kind, Integer):
        return 0
    return "x"


def fill(engine) -> dict[str, list[dict]]:
    """Insert ``SAMPLE``'s rows into the tables there are, with the columns there are;
    return what was written."""
    meta = MetaData()
    meta.reflect(engine)
    written: dict[str, list[dict]] = {}
    with engine.begin() as conn:
        for name, rows in SAMPLE.items():
            table = meta.tables.get(name)
            if table is None:
                continue
            done = [
                {
                    c.name: row[c.name]
                    if c.name in row
                    else (None if c.nullable else filler({"type": c.type}))
                    for c in table.columns
                }
                for row in rows
            ]
            conn.execute(insert(table), done)
            written[name] = done
    return written


def read(engine, name: str) -> list[dict]:
    meta = MetaData()
    meta.reflect(engine, only=[name])
    table = meta.tables[name]
    key = list(table.primary_key.columns)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(*key))]


EARLIER = revisions()[:-1]


def test_every_revision_is_covered():
    """A table added by a later revision needs its sample here."""
    engine = db.make_engine("sqlite://")
    db.upgrade(engine)
    meta = MetaData()
    meta.reflect(engine)
    engine.dispose()
    assert set(meta.tables) - MIGRATIONS_OWN <= set(SAMPLE)
    assert EARLIER[0] == "0001"


@pytest.mark.parametrize("revision", EARLIER)
def test_data_written_at_an_earlier_revision_survives_the_upgrade(revision, db_url):
    engine = db.make_engine(db_url)
    db.upgrade(engine, revision)
    written = fill(engine)
    assert {"models", "profiles", "api_keys", "usage"} <= set(written)

    db.upgrade(engine)

    assert db.current_revision(engine) == db.head_revision()
    for name, rows in written.items():
        now = read(engine, name)
        assert len(now) == len(rows), name
        for before, after in zip(rows, now, strict=True):
            kept = {k: v for k, v in before.items() if (name, k) not in FOLDED}
            assert after.items() >= kept.items(), name
    factory = db.make_session_factory(engine)
    with factory() as session:
        # the key authenticates as the gateway finds it: by the hash of what was shown
        row = session.scalar(select(db.ApiKey).where(db.ApiKey.key_hash == keys.hash_key(SECRET)))
        assert row is not None and row.user == "ann" and row.state(T0) == "active"
        total = usage.summary(
            session, dt.datetime(2000, 1, 1), {"user": "ann"}, [db.Refusal.user == "ann"]
        )
        rolled = written.get("usage_rollups", [])
        assert total["total_requests"] == 10 + sum(r["requests"] for r in rolled)
        assert total["total_cost_usd"] == pytest.approx(2.5 + sum(r["cost_usd"] for r in rolled))
        assert total["by_key"][0]["name"] == "laptop"
        if "policy_overrides" in written:  # the group's override over the profile
            eff = policy.for_user(session, "ann", "cpu", T0)
            month = [b.usd for b in eff.budgets if b.window == "month"]
            assert (month, eff.tpm_limit, eff.rpm_limit) == ([100.0], 1000, 60)
            assert set(eff.models) == {"m1", "m2"}
        profile = session.scalar(select(db.Profile).where(db.Profile.slug == "cpu"))
        assert (profile.budgets, profile.models, profile.resources) == (
            [{"window": "month", "usd": 20.0}],
            ["m1"],
            {"cpu_limit": 2},
        )
        # a profile of before 0008 is open to everyone (null groups)
        assert profile.groups == (["research"] if "groups" in written["profiles"][0] else None)
    engine.dispose()
