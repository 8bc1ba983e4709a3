"""Keys on a real database: random, hashed at rest, one per server, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select

from hub_service import db, keys
from hub_service.db import ApiKey, session_scope

NOW = dt.datetime(2026, 1, 1, 12, 0)
DAY = dt.timedelta(days=1)


def issue(session, user="alice", server_name="", now=NOW, hub_user_created=None):
    return keys.issue(
        session,
        user=user,
        server_name=server_name,
        profile_slug=None,
        name="t",
        lifetime=DAY,
        now=now,
        hub_user_created=hub_user_created,
    )


def test_a_key_has_32_random_bytes_and_only_its_hash_is_stored(sessions):
    with session_scope(sessions) as s:
        row, key = issue(s)
        other_row, other = issue(s, user="bob")
    assert key.startswith("sk-maas-") and len(key) == len("sk-maas-") + 43
    assert key != other
    with session_scope(sessions) as s:
        stored = s.get(ApiKey, row.id)
        assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key not in repr(vars(stored))
        assert stored.masked == f"{key[:12]}...{key[-4:]}"
        assert stored.expires_at == NOW + DAY


def test_issuing_for_a_server_revokes_its_previous_key_only(sessions):
    with session_scope(sessions) as s:
        first, _ = issue(s)
        other_server, _ = issue(s, server_name="gpu")
        personal, _ = keys.issue(
            s,
            user="alice",
            server_name=None,
            profile_slug=None,
            name="laptop",
            lifetime=DAY,
            now=NOW,
        )
        second, _ = issue(s, now=NOW + dt.timedelta(minutes=1))
    with session_scope(sessions) as s:
        states = {r.id: (r.state(NOW), r.revoked_reason) for r in s.scalars(select(ApiKey))}
    assert states[first.id] == ("revoked", "replaced")
    assert states[second.id][0] == "active"
    assert states[other_server.id][0] == "active"
    assert states[personal.id][0] == "active"


def test_stopped_servers_lose_their_keys_but_new_and_personal_keys_stay(sessions):
    with session_scope(sessions) as s:
        running, _ = issue(s, user="alice")
        stopped, _ = issue(s, user="bob")
        personal, _ = keys.issue(
            s, user="bob", server_name=None, profile_slug=None, name="p", lifetime=DAY, now=NOW
        )
        fresh, _ = issue(s, user="carol", now=NOW + dt.timedelta(seconds=5))
    with session_scope(sessions) as s:
        revoked = keys.revoke_stopped_servers(
            s, {("alice", "")}, issued_before=NOW + dt.timedelta(seconds=1), now=NOW
        )
    assert [r.id for r in revoked] == [stopped.id]
    with session_scope(sessions) as s:
        assert s.get(ApiKey, stopped.id).revoked_reason == "server stopped"
        for kept in (running, personal, fresh):
            assert s.get(ApiKey, kept.id).revoked_at is None


def test_the_public_view_of_a_key_has_neither_key_nor_hash(sessions):
    with session_scope(sessions) as s:
        row, key = issue(s)
        view = keys.key_public(row, NOW + 2 * DAY)
    assert view["state"] == "expired"
    assert key not in str(view) and row.key_hash not in str(view)


def test_usage_rows_round_trip(sessions):
    with session_scope(sessions) as s:
        s.add(
            db.Usage(
                user="alice",
                model="m",
                prompt_tokens=3,
                completion_tokens=4,
                cost_usd=0.5,
                status_code=200,
            )
        )
    with session_scope(sessions) as s:
        row = s.scalar(select(db.Usage))
        assert (row.user, row.prompt_tokens, row.completion_tokens, row.cost_usd) == (
            "alice",
            3,
            4,
            0.5,
        )


def test_a_deleted_hub_users_keys_are_revoked_and_hidden_from_a_new_user_of_that_name(sessions):
    """alice was created at T0 and deleted; an alice created at T1 is someone else."""
    t0, t1 = NOW - 10 * DAY, NOW - dt.timedelta(minutes=5)
    with session_scope(sessions) as s:
        server, _ = issue(s, hub_user_created=t0)
        personal, _ = issue(s, server_name=None, hub_user_created=t0)
        stopped, _ = issue(s, server_name="gpu", hub_user_created=t0)
        keys.revoke_where(s, (ApiKey.id == stopped.id,), reason="server stopped", now=NOW)
        new_alice, _ = issue(s, server_name=None, hub_user_created=t1)
        bob, _ = issue(s, user="bob", hub_user_created=None)  # issued before hub times
        carol, _ = issue(s, user="carol", hub_user_created=t0)
        late, _ = issue(s, user="dan", now=NOW + dt.timedelta(seconds=5))
        seq_before = s.get(ApiKey, personal.id).seq

    listed = {"alice": t1, "bob": t0, "carol": None}  # dan was created after the listing
    with session_scope(sessions) as s:
        gone = keys.forget_deleted_users(
            s, listed, listed_at=NOW + dt.timedelta(seconds=1), now=NOW
        )
    assert gone == {"alice": 2}
    with session_scope(sessions) as s:
        rows = {r.id: r for r in s.scalars(select(ApiKey))}
    for old in (server, personal, stopped):
        assert rows[old.id].user_deleted_at == NOW and rows[old.id].state(NOW) == "revoked"
    assert rows[server.id].revoked_reason == rows[personal.id].revoked_reason == "user deleted"
    assert rows[stopped.id].revoked_reason == "server stopped"
    assert rows[personal.id].seq > seq_before  # the gateway sees the change
    for kept in (new_alice, bob, carol, late):
        assert rows[kept.id].state(NOW) == "active" and rows[kept.id].user_deleted_at is None

    with session_scope(sessions) as s:
        gone = keys.forget_deleted_users(s, {}, listed_at=NOW + DAY, now=NOW + DAY)
    assert gone == {"alice": 1, "bob": 1, "carol": 1, "dan": 1}


def _kernel_key(session, server_key, kernel_id="k1", now=NOW):
    return keys.issue_for_kernel(
        session, server_key, kernel_id=kernel_id, notebook_path="a.ipynb", now=now
    )[0]


def test_renewing_a_server_key_renews_its_live_kernels_keys(sessions):
    with session_scope(sessions) as s:
        server, _ = issue(s)
        live, stopped = _kernel_key(s, server, "k1"), _kernel_key(s, server, "k2")
        keys.revoke_where(s, (ApiKey.id == stopped.id,), reason="kernel stopped", now=NOW)
        assert keys.live_kernel_keys(s, server) == 1
        keys.renew(s, server, NOW + 3 * DAY, now=NOW + DAY)
    with session_scope(sessions) as s:
        assert s.get(ApiKey, live.id).expires_at == NOW + 3 * DAY
        assert s.get(ApiKey, stopped.id).expires_at == NOW + DAY  # left as it ended
        assert s.get(ApiKey, live.id).seq > s.get(ApiKey, stopped.id).seq  # gateways see it


def test_keys_past_their_retention_are_deleted_and_no_others(sessions):
    """Personal and server keys are kept ``keys_before`` (long: usage by key names them),
    kernels' keys only ``kernel_keys_before``; active keys are never deleted."""
    old = NOW - 500 * DAY
    with session_scope(sessions) as s:
        ancient, _ = issue(s, "ann", None, now=old)  # expired 499 days ago
        revoked_lately, _ = issue(s, "bob", None, now=NOW - 10 * DAY)
        keys.revoke_where(s, (ApiKey.id == revoked_lately.id,), reason="t", now=NOW - 9 * DAY)
        server, _ = issue(s, "cat", "")
        gone_kernel = _kernel_key(s, server, "k1")
        keys.revoke_where(s, (ApiKey.id == gone_kernel.id,), reason="t", now=NOW - 2 * DAY)
        live_kernel = _kernel_key(s, server, "k2")
        # its own expiry says nothing (issued before renewals moved it): its server lives
        live_kernel.expires_at = NOW - 450 * DAY
        gone_server, _ = issue(s, "dan", "", now=old)  # expired 499 days ago ...
        orphan = _kernel_key(s, gone_server, "k3", now=old)  # ... and its kernel with it
        pruned = keys.prune(s, keys_before=NOW - 400 * DAY, kernel_keys_before=NOW - DAY)
    assert pruned == 4
    with session_scope(sessions) as s:
        left = set(s.scalars(select(ApiKey.id)))
    assert left == {revoked_lately.id, server.id, live_kernel.id}
    assert orphan.id not in left
