"""The key the service holds for a user's chat playground (``playground.PlaygroundKeys``),
on SQLite and PostgreSQL, with the clock given: one key per user, reused while it has
more than a minute left, replaced after (and when revoked, or when the user's default
profile changes), revoked at sign-out, and never counted among the user's personal
keys."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from sqlalchemy import select

from hub_service import catalog, keys
from hub_service.db import ApiKey, session_scope
from hub_service.playground import PlaygroundKeys

NOW = dt.datetime(2026, 12, 4, 12, 0)
HOUR = dt.timedelta(hours=1)
PROFILES = [
    {"slug": "base", "display_name": "Base", "is_default": True, "models": []},
    {"slug": "gpu", "display_name": "GPU", "models": []},
]


def rows(sessions, user="ana") -> list[ApiKey]:
    with session_scope(sessions) as s:
        return s.scalars(
            select(ApiKey).where(ApiKey.user == user).order_by(ApiKey.created, ApiKey.seq)
        ).all()


def test_one_key_per_user_reused_then_replaced_and_revoked_at_sign_out(sessions):
    with session_scope(sessions) as s:
        catalog.seed(s, [], PROFILES)
    held = PlaygroundKeys(SimpleNamespace(playground_key_lifetime=3600))

    def key(now, profile="base"):
        with session_scope(sessions) as s:
            return held.key(s, "ana", profile, None, now)

    first = key(NOW)
    assert key(NOW + 58 * dt.timedelta(minutes=1)) == first  # more than a minute left
    (row,) = rows(sessions)
    assert (row.name, row.kernel_id, row.notebook_path) == ("playground",) * 3
    assert row.expires_at == NOW + HOUR and keys.hash_key(first) == row.key_hash

    second = key(NOW + 59.5 * dt.timedelta(minutes=1))  # half a minute left: a new one
    assert second != first
    old, new = rows(sessions)
    assert (old.revoked_reason, new.revoked_at) == ("replaced", None)

    with session_scope(sessions) as s:  # an admin revokes it: the next turn gets another
        keys.revoke_where(s, (ApiKey.id == new.id,), reason="admin", now=NOW + HOUR)
    third = key(NOW + HOUR)
    assert third not in (first, second)
    assert key(NOW + HOUR, "gpu") != third  # the default profile changed
    assert [r.profile_slug for r in rows(sessions)][-1] == "gpu"

    with session_scope(sessions) as s:
        assert keys.active_personal_keys(s, "ana", NOW + HOUR) == 0  # not a personal key
        assert held.revoke(s, "ana", NOW + HOUR) == 1
    assert [r.revoked_reason for r in rows(sessions)][-1] == "signed out"
    assert all(r.revoked_at is not None for r in rows(sessions))
    assert key(NOW + HOUR) not in (first, second, third)  # after sign-out: a fresh one
