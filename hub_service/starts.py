"""Servers as the hub saw them start: what a server's own key request needs, so that it
is answered without a question to the hub.

The hub's ``pre_spawn_hook`` (``hub_hooks.NotifyMaaS``) runs after the hub has made and
committed the server's own API token and before the server starts. Its
``server-starting`` notice, sent with this service's own token (only the hub has it),
tells the service the server's profile, its user's creation time, hub groups and admin
flag, and the SHA-256 of the server's token (never the token). A request bearing a token
of that hash is the server's own: the service knows who it is as the hub would say
(``identity``) and issues the key at once. A class of 300 starting at 10:00 then costs
the hub nothing past the spawns themselves.

Nothing here widens who may get a key: the identity carries exactly the scopes the hub
gives a server's token (its own server, this service), so it may obtain only its own
server's key, under the profile the hub recorded. A registration lives ``TTL`` (a
server's first key request comes within seconds of its start; later renewals ask the
hub as before) and goes at the server's stop notice. A token the hub never announced
(an older hub, a notice still on its way, a spawner that replaced its token) is checked
with the hub, as before.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Row, delete, or_, select
from sqlalchemy.orm import Session

from .db import ServerStart
from .keys import hash_key

TTL = dt.timedelta(minutes=15)


def register(
    db: Session,
    *,
    user: str,
    server_name: str,
    token_hash: str | None,
    profile: str | None,
    user_created: dt.datetime | None,
    groups: list[str],
    admin: bool,
    now: dt.datetime,
) -> None:
    """Note a server's start (replacing its previous one)."""
    db.execute(
        delete(ServerStart).where(
            or_(
                (ServerStart.user == user) & (ServerStart.server_name == server_name),
                ServerStart.token_hash == token_hash if token_hash else False,
            )
        )
    )
    db.add(
        ServerStart(
            user=user,
            server_name=server_name,
            token_hash=token_hash,
            profile=profile,
            user_created=user_created,
            groups=groups,
            admin=admin,
            at=now,
        )
    )


def forget(db: Session, user: str, server_name: str, before: dt.datetime) -> None:
    """The server stopped at ``before``: its start is forgotten (a later one stays)."""
    db.execute(
        delete(ServerStart).where(
            ServerStart.user == user,
            ServerStart.server_name == server_name,
            ServerStart.at <= before,
        )
    )


def of_server(db: Session, user: str, server_name: str, now: dt.datetime) -> ServerStart | None:
    return db.scalar(
        select(ServerStart).where(
            ServerStart.user == user,
            ServerStart.server_name == server_name,
            ServerStart.at > now - TTL,
        )
    )


def by_token(connection: Connection, token: str, now: dt.datetime) -> Row | None:
    """The fresh registration of the server whose own token is ``token`` (a row of
    ``server_starts``). Every request with a bearer token asks, so it is read on a plain
    connection, without an ORM session."""
    starts = ServerStart.__table__
    return connection.execute(
        select(starts).where(starts.c.token_hash == hash_key(token), starts.c.at > now - TTL)
    ).first()


def identity(start: ServerStart | Row, service_name: str) -> dict:
    """Who the bearer of the server's token is, as the hub's ``GET /hub/api/user``
    answers for a server's own token."""
    user = start.user
    return {
        "kind": "user",
        "name": user,
        "admin": bool(start.admin),
        "groups": list(start.groups or []),
        "session_id": None,
        "scopes": [
            f"access:servers!server={user}/{start.server_name}",
            f"access:services!service={service_name}",
            f"users:activity!user={user}",
        ],
    }


def prune(db: Session, now: dt.datetime) -> int:
    """Forget the registrations past ``TTL``; return how many."""
    return db.execute(delete(ServerStart).where(ServerStart.at <= now - TTL)).rowcount or 0
