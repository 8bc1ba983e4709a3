"""Issuing, renewing and revoking keys.

A key is ``sk-maas-`` followed by 32 random bytes (base64url). Only its SHA-256 is
stored: 256 bits of entropy make a salt or a slow hash pointless, and a fast hash keeps
the gateway's lookup cheap.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session, aliased

from .db import ApiKey, next_key_seq

KEY_PREFIX = "sk-maas-"
KEY_RANDOM_BYTES = 32
# what ``ApiKey.state`` answers
KEY_STATES = ("active", "revoked", "expired")


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue(
    session: Session,
    *,
    user: str,
    server_name: str | None,
    profile_slug: str | None,
    name: str,
    lifetime: dt.timedelta,
    now: dt.datetime,
    hub_user_created: dt.datetime | None = None,
    models: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; return its row and the key itself (the only time it exists).

    A server has one key at a time: issuing for a server revokes its previous keys.
    ``hub_user_created`` (when the hub created the user) tells this user's keys from
    those of a user of the same name created later.
    """
    if server_name is not None:
        revoke_where(
            session,
            (ApiKey.user == user, ApiKey.server_name == server_name),
            reason="replaced",
            now=now,
        )
    row = ApiKey(
        id=secrets.token_hex(8),
        user=user,
        server_name=server_name,
        name=name,
        profile_slug=profile_slug,
        created=now,
        updated=now,
        expires_at=now + lifetime,
        hub_user_created=hub_user_created,
        models=models,
    )
    key = _new_secret(row)
    session.add(row)
    session.flush()
    return row, key


def issue_for_kernel(
    session: Session,
    server_key: ApiKey,
    *,
    kernel_id: str,
    notebook_path: str | None,
    now: dt.datetime,
) -> tuple[ApiKey, str]:
    """A key for one kernel of a server, derived from the server's key: the gateway
    takes it as the server's key (its user, profile, models, budget, expiry and
    revocation) and records the kernel and notebook with each request. Replacing or
    revoking the server's keys (``issue``, ``revoke_where``) revokes it too."""
    row = ApiKey(
        id=secrets.token_hex(8),
        user=server_key.user,
        server_name=server_key.server_name,
        name=f"kernel {kernel_id}",
        profile_slug=server_key.profile_slug,
        created=now,
        updated=now,
        expires_at=server_key.expires_at,  # shown only: the server key's expiry rules
        hub_user_created=server_key.hub_user_created,
        parent_id=server_key.id,
        kernel_id=kernel_id,
        notebook_path=notebook_path,
    )
    key = _new_secret(row)
    session.add(row)
    session.flush()
    return row, key


# The portal's chat playground's keys: personal keys that the service holds for the
# user's portal sessions (never shown), marked, and named in usage, by this
PLAYGROUND = "playground"


def playground_keys(user: str) -> tuple:
    """The criteria of ``user``'s playground keys."""
    return (ApiKey.user == user, ApiKey.parent_id.is_(None), ApiKey.kernel_id == PLAYGROUND)


def issue_for_playground(
    session: Session,
    *,
    user: str,
    profile_slug: str | None,
    lifetime: dt.timedelta,
    now: dt.datetime,
    hub_user_created: dt.datetime | None = None,
) -> tuple[ApiKey, str]:
    """The user's playground key, replacing any other (one at a time): a personal key
    whose requests the gateway records as from the notebook "playground"."""
    revoke_where(session, playground_keys(user), reason="replaced", now=now)
    row, key = issue(
        session,
        user=user,
        server_name=None,
        profile_slug=profile_slug,
        name=PLAYGROUND,
        lifetime=lifetime,
        now=now,
        hub_user_created=hub_user_created,
    )
    row.kernel_id = row.notebook_path = PLAYGROUND
    session.flush()
    return row, key


def live_kernel_keys(session: Session, server_key: ApiKey) -> int:
    """How many kernels' keys of ``server_key`` are not revoked (they live as long as
    it does)."""
    return session.scalar(
        select(func.count(ApiKey.id)).where(
            ApiKey.parent_id == server_key.id, ApiKey.revoked_at.is_(None)
        )
    )


def renew(session: Session, row: ApiKey, expires_at: dt.datetime, *, now: dt.datetime) -> None:
    """Push a key's expiry to ``expires_at``, and its kernels' keys' with it (a kernel's
    key lives as long as its server's, and the gateways, which forget expired keys,
    should not find it expired)."""
    row.expires_at = expires_at
    row.updated = now
    session.execute(
        update(ApiKey)
        .where(ApiKey.parent_id == row.id, ApiKey.revoked_at.is_(None))
        .values(expires_at=expires_at, updated=now, seq=next_key_seq(session.connection()))
        .execution_options(synchronize_session=False)
    )


def prune(session: Session, *, keys_before: dt.datetime, kernel_keys_before: dt.datetime) -> int:
    """Delete the rows of keys revoked or expired before ``keys_before``, and of kernels'
    keys revoked before ``kernel_keys_before`` (no usage row names them) or whose server
    key is deleted with them (a kernel's key lives as long as its server's, whatever its
    own expiry says); return how many. Usage rows keep the ids of the keys they were
    made with."""

    def ended(key) -> object:  # (no NULL: "not ended" must be true for a live key)
        revoked = key.revoked_at.is_not(None) & (key.revoked_at < keys_before)
        return revoked | (key.expires_at < keys_before)

    server = aliased(ApiKey)
    kept_servers = select(server.id).where(server.parent_id.is_(None), ~ended(server))
    kernels = delete(ApiKey).where(
        ApiKey.parent_id.is_not(None),
        (ApiKey.revoked_at < kernel_keys_before) | ApiKey.parent_id.not_in(kept_servers),
    )
    pruned = session.execute(kernels.execution_options(synchronize_session=False)).rowcount
    others = delete(ApiKey).where(ApiKey.parent_id.is_(None), ended(ApiKey))
    pruned += session.execute(others.execution_options(synchronize_session=False)).rowcount
    return pruned or 0


def _new_secret(row: ApiKey) -> str:
    key = new_key()
    row.key_hash = hash_key(key)
    row.prefix = key[:12]
    row.last4 = key[-4:]
    return key


def regenerate(row: ApiKey, *, now: dt.datetime) -> str:
    """Give an active key a new secret; its id, settings and history stay. The old
    secret stops working at the gateway's next refresh of keys (its hash is gone)."""
    key = _new_secret(row)
    row.updated = now
    return key


def revoke_where(session: Session, criteria: Iterable, *, reason: str, now: dt.datetime) -> int:
    """Revoke every active key matching ``criteria``; return how many."""
    result = session.execute(
        update(ApiKey)
        .where(*criteria, ApiKey.revoked_at.is_(None))
        .values(
            revoked_at=now,
            revoked_reason=reason,
            updated=now,
            seq=next_key_seq(session.connection()),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def revoke_stopped_servers(
    session: Session, active: set[tuple[str, str]], *, issued_before: dt.datetime, now: dt.datetime
) -> list[ApiKey]:
    """Revoke the keys of servers that are no longer running.

    ``active`` is the set of (user, server name) the hub reported as ready or pending,
    read at ``issued_before``: a key issued after that read is left alone, since its
    server may have started in between.
    """
    rows = session.scalars(
        select(ApiKey).where(
            ApiKey.server_name.is_not(None),
            ApiKey.revoked_at.is_(None),
            ApiKey.created < issued_before,
        )
    ).all()
    stopped = [row for row in rows if (row.user, row.server_name) not in active]
    for row in stopped:
        row.revoked_at = now
        row.revoked_reason = "server stopped"
        row.updated = now
    session.flush()
    return stopped


def _user_gone(user: str, created: dt.datetime | None, hub_users: Mapping) -> bool:
    if user not in hub_users:
        return True
    now_created = hub_users[user]
    return None not in (created, now_created) and created != now_created


def forget_deleted_users(
    session: Session,
    hub_users: Mapping[str, dt.datetime | None],
    *,
    listed_at: dt.datetime,
    now: dt.datetime,
) -> dict[str, int]:
    """Revoke the keys of hub users who were deleted, and mark every key of theirs
    (``user_deleted_at``) so that a new user of the same name does not see them;
    return how many keys each deleted user lost.

    ``hub_users`` maps every user the hub listed at ``listed_at`` to when it was
    created (None if unknown). A key whose user is missing, or whose user was created
    at another time than when the key was issued, belongs to a deleted user. Keys
    issued after the listing are left alone: their user may be new.
    """
    pairs = session.execute(
        select(ApiKey.user, ApiKey.hub_user_created)
        .where(ApiKey.user_deleted_at.is_(None), ApiKey.created < listed_at)
        .distinct()
    ).all()
    gone: dict[str, int] = {}
    for user, created in pairs:
        if not _user_gone(user, created, hub_users):
            continue
        same_user = (
            ApiKey.hub_user_created.is_(None)
            if created is None
            else ApiKey.hub_user_created == created
        )
        revoked = forget_user(session, user, same_user, before=listed_at, now=now)
        gone[user] = gone.get(user, 0) + revoked
    return gone


def forget_user(
    session: Session, user: str, *criteria, before: dt.datetime, now: dt.datetime
) -> int:
    """Revoke the keys of the deleted hub user ``user`` issued before ``before`` (and
    matching ``criteria``) and mark them so that a new user of the same name does not
    see them; return how many were active."""
    criteria = (
        ApiKey.user == user,
        ApiKey.user_deleted_at.is_(None),
        ApiKey.created < before,
        *criteria,
    )
    revoked = revoke_where(session, criteria, reason="user deleted", now=now)
    session.execute(
        update(ApiKey)
        .where(*criteria)
        .values(user_deleted_at=now, updated=now, seq=next_key_seq(session.connection()))
        .execution_options(synchronize_session=False)
    )
    return revoked


def in_state(state: str, now: dt.datetime) -> tuple:
    """The criteria of keys ``active``, ``revoked`` or ``expired`` at ``now``."""
    if state == "revoked":
        return (ApiKey.revoked_at.is_not(None),)
    alive = ApiKey.expires_at > now if state == "active" else ApiKey.expires_at <= now
    return (ApiKey.revoked_at.is_(None), alive)


# The PostgreSQL advisory lock space of a user's keys ("KEYS"; the second key is the
# hash of the user's name).
USER_KEYS_LOCK = 0x4B455953


def lock_user(session: Session, user: str) -> None:
    """Hold the lock on ``user``'s keys until the transaction ends, so that counting
    them and adding one is atomic across requests and service replicas. PostgreSQL: an
    advisory lock per user. SQLite: the database's write lock, taken now (a write to the
    key counter) rather than at the insert, which could find the count outdated."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:user))"),
            {"space": USER_KEYS_LOCK, "user": user},
        )
    else:
        next_key_seq(session.connection())


def active_personal_keys(session: Session, user: str, now: dt.datetime) -> int:
    """How many personal keys ``user`` has active."""
    return session.scalar(
        select(func.count(ApiKey.id)).where(
            ApiKey.user == user,
            ApiKey.server_name.is_(None),
            ApiKey.kernel_id.is_(None),  # not the playground's
            ApiKey.user_deleted_at.is_(None),
            *in_state("active", now),
        )
    )


def key_public(row: ApiKey, now: dt.datetime) -> dict:
    """What an API may say about a key: never the key, never its hash."""
    return {
        "id": row.id,
        "name": row.name,
        "masked": row.masked,
        "user": row.user,
        "server_name": row.server_name,
        "profile": row.profile_slug,
        "models": row.models,
        "created": iso(row.created),
        "expires_at": iso(row.expires_at),
        "revoked_at": iso(row.revoked_at),
        "revoked_reason": row.revoked_reason,
        "state": row.state(now),
    }


def key_admin(row: ApiKey, now: dt.datetime) -> dict:
    """What admins see of a key: its metadata and whether its hub user was deleted."""
    return {**key_public(row, now), "user_deleted_at": iso(row.user_deleted_at)}


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.replace(tzinfo=dt.timezone.utc).isoformat()
