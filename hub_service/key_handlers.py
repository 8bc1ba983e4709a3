"""The key endpoints of the service's API (``{prefix}api/v1/users/{user}/keys...``):
issue, list, edit, regenerate, renew and revoke a user's keys, and the keys of their
server's kernels. The rules themselves (hashing, revocation, caps) are in ``keys``."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select

from . import catalog, hub, keys, policy, starts, usage
from .db import ApiKey, Profile
from .hub import HubAPIError
from .validation import ISSUE_KEY_FIELDS, KERNEL_KEY_FIELDS, KEY_FIELDS
from .web import KERNEL_ID, KEY_ID, USER, APIError, APIHandler, caller_server

log = logging.getLogger(__name__)


class IssuingHandler(APIHandler):
    def _issued(self, row: ApiKey, key: str, allowed: list[str], now) -> dict:
        """The answer that shows a key's secret, the one time it is shown (issued or
        regenerated): the key's public fields, the secret, the models it reaches (its
        own subset, else its profile's) and the gateway's URL for clients."""
        return {
            **keys.key_public(row, now),
            "key": key,
            "models": row.models if row.models is not None else allowed,
            "base_url": self.service.client_base_url,
        }


class UserKeysHandler(IssuingHandler):
    """GET: your keys (never the key itself), each with its requests, spend and last
    use. POST: issue a key.

    POST body: ``{"server_name": "<name>"}`` issues the key of one of your running
    servers (replacing its previous key; a server's own token may only ask for its own
    server); ``{"name": "<label>"}`` without ``server_name`` issues a personal key.
    A personal key may also have ``models`` (a subset of yours; null for all) and
    ``expires_in_days``. The key appears in this response only.
    """

    def get(self, user):
        self.check_owner(user)
        now = self.now()
        with self.db as db:
            rows = db.scalars(
                select(ApiKey)
                .where(
                    ApiKey.user == user,
                    ApiKey.user_deleted_at.is_(None),
                    ApiKey.parent_id.is_(None),  # kernels' keys belong to their server's
                    ApiKey.kernel_id.is_(None),  # nor the playground's, held by the service
                )
                .order_by(ApiKey.created.desc())
            ).all()
            r = usage.requests(db).c
            use = {
                key_id: (int(n), float(cost), last)
                for key_id, n, cost, last in db.execute(
                    select(
                        r.key_id,
                        func.coalesce(func.sum(r.requests), 0),
                        func.coalesce(func.sum(r.cost_usd), 0.0),
                        func.max(r.last_at),
                    )
                    .where(r.user == user, r.key_id.in_([row.id for row in rows]))
                    .group_by(r.key_id)
                )
            }
            answer = []
            for row in rows:
                n, cost, last = use.get(row.id, (0, 0.0, None))
                answer.append(
                    {
                        **keys.key_public(row, now),
                        "requests": n,
                        "spend_usd": cost,
                        "last_used": keys.iso(last),
                    }
                )
            self.write_json({"keys": answer})

    async def _hub_user(self, user: str) -> dict:
        """The hub's model of ``user``: when it was created, which servers run."""
        try:
            model = await self.service.hub.user(user)
        except HubAPIError as e:
            log.error("Cannot reach the hub API: %s", e)
            raise APIError(503, "The hub cannot be reached; try again shortly.") from None
        if model is None:
            raise APIError(404, f"The hub has no user {user!r}.")
        return model

    def _check_personal_key_cap(self, db, user: str) -> None:
        cap = self.service.max_personal_keys
        if keys.active_personal_keys(db, user, self.now()) >= cap:
            raise APIError(
                409, f"You have {cap} active personal keys, the limit: revoke one first."
            )

    async def post(self, user):
        me = self.check_owner(user)
        body = self.checked(ISSUE_KEY_FIELDS)
        server_name = body.get("server_name")
        name = body.get("name")
        own_server = caller_server(me)
        if own_server is not None and server_name != own_server:
            raise APIError(403, "A server's token may only obtain the key of its own server.")
        if server_name is not None and {"models", "expires_in_days"} & set(body):
            raise APIError(
                400,
                "A server's key follows its server: its models are its profile's and it "
                "lives while the server runs. models and expires_in_days are for personal keys.",
            )
        lifetime = (
            self.service.server_key_lifetime
            if server_name is not None
            else self.service.personal_key_lifetime
        )
        if body.get("expires_in_days") is not None:
            longest = lifetime // 86400
            if body["expires_in_days"] > longest:
                raise APIError(400, f"expires_in_days may be at most {longest} (days).")
            lifetime = body["expires_in_days"] * 86400

        # a server asking with its own token, whose start the hub reported: no need to
        # ask the hub (hub_service.starts); a user's own token may say when they were made
        told = None
        if own_server is not None:
            with self.db as db:
                start = starts.of_server(db, user, server_name, self.now())
                told = (start.profile, start.user_created) if start else None
        elif server_name is None and me.get("created"):
            told = (None, hub.created(me))
        profile_slug = None
        if told is not None:
            profile_slug, user_created = told
        else:
            hub_user = await self._hub_user(user)
            user_created = hub.created(hub_user)
            if server_name is not None:
                server = (hub_user.get("servers") or {}).get(server_name)
                if server is None:
                    raise APIError(
                        409, f"Server {server_name!r} of {user!r} is not running: start it first."
                    )
                profile_slug = (server.get("user_options") or {}).get("profile")

        now = self.now()
        with self.db as db:
            if server_name is None:
                # personal keys: the policy of the user's default profile, and a cap that
                # holds however many requests (and service replicas) race for it
                keys.lock_user(db, user)
                self._check_personal_key_cap(db, user)
            elif (
                profile_slug
                and db.scalar(select(Profile.id).where(Profile.slug == profile_slug)) is None
            ):
                raise APIError(409, f"The server's profile {profile_slug!r} does not exist.")
            # the server's profile as the hub told it (never the caller's claim), and only
            # if the caller's hub groups may use it: a server started otherwise gets no key
            profile = self.own_profile(db, profile_slug or None, "have a key for")
            slug = profile.slug
            allowed = _allowed_models(db, user, slug, profile)
            subset = _key_models(body.get("models"), allowed)
            row, key = keys.issue(
                db,
                user=user,
                server_name=server_name,
                profile_slug=slug,
                name=name
                or (
                    f"server {server_name or '(default)'}"
                    if server_name is not None
                    else "personal"
                ),
                lifetime=dt.timedelta(seconds=lifetime),
                now=now,
                hub_user_created=user_created,
                models=subset,
            )
            payload = self._issued(row, key, allowed, now)
        log.info(
            "Issued key %s for user %s server %s (profile %s)",
            row.id,
            user,
            server_name,
            row.profile_slug,
        )
        self.write_json(payload, status=201)


def _allowed_models(db, user: str, profile_slug: str | None, profile=None) -> list[str]:
    """The enabled models ``user``'s policy with this profile allows, sorted."""
    return catalog.granted(db, policy.for_user(db, user, profile_slug, profile=profile).models)


def _key_models(wanted: list[str] | None, allowed: list[str]) -> list[str] | None:
    """A key's own model subset, checked against what its owner may use now; None (or
    ["*"]) for all of it. The gateway checks the key's subset and the policy at each
    request, so a model the policy drops later is dropped from the key too."""
    if wanted is None or "*" in wanted:
        return None
    if not wanted:
        raise APIError(400, "models must name at least one model, or be null for all yours.")
    outside = [m for m in wanted if m not in allowed]
    if outside:
        raise APIError(
            400,
            f"You may not use {', '.join(map(repr, outside))}. "
            f"Models you can use: {', '.join(allowed) or 'none'}.",
        )
    return wanted


class OwnKeyHandler(IssuingHandler):
    """Endpoints on one of the caller's own keys."""

    def _own_key(self, db, user, key_id) -> ApiKey:
        """The key, if it is this user's: a deleted hub user's keys are no one's."""
        me = self.check_owner(user)
        row = db.scalar(
            select(ApiKey).where(
                ApiKey.id == key_id, ApiKey.user == user, ApiKey.user_deleted_at.is_(None)
            )
        )
        if row is None:
            raise APIError(404, f"No key {key_id!r} for user {user!r}.")
        own_server = caller_server(me)
        if own_server is not None and row.server_name != own_server:
            raise APIError(403, "A server's token may only manage the key of its own server.")
        return row

    def _active_personal_key(self, db, user, key_id, doing: str) -> ApiKey:
        row = self._own_key(db, user, key_id)
        if row.server_name is not None:
            raise APIError(
                409,
                f"Key {key_id!r} is a server's key, which follows its server: you cannot "
                f"{doing} it.",
            )
        state = row.state(self.now())
        if state != "active":
            raise APIError(409, f"Key {key_id!r} is {state}; issue a new one instead.")
        self._still_open(db, row)
        return row

    def _still_open(self, db, row: ApiKey) -> None:
        """403 if the key's profile is no longer open to the caller's hub groups (an
        admin narrowed it, or the user left the group): such a key may still be used
        until it ends, but not renewed, regenerated, edited or given kernels' keys."""
        self.own_profile(db, row.profile_slug, "keep a key for")


class UserKeyHandler(OwnKeyHandler):
    """GET: one of your keys (never the key itself), with its state; a server's token
    may read only its own server's key (the lab extension checks that it is still
    active). PATCH ``{"name": ..., "models": [...] | null}``: rename a personal key or
    narrow it to some of your models (null: all of them). DELETE: revoke one of your
    keys; a server's token may revoke only its own key."""

    def get(self, user, key_id):
        with self.db as db:
            self.write_json(keys.key_public(self._own_key(db, user, key_id), self.now()))

    def patch(self, user, key_id):
        changes = self.checked(KEY_FIELDS, partial=True)
        now = self.now()
        with self.db as db:
            row = self._active_personal_key(db, user, key_id, "edit")
            if "name" in changes:
                row.name = changes["name"]
            if "models" in changes:
                allowed = _allowed_models(db, user, row.profile_slug)
                row.models = _key_models(changes["models"], allowed)
            row.updated = now
            payload = keys.key_public(row, now)
        log.info("Changed key %s of user %s: %s", key_id, user, ", ".join(sorted(changes)))
        self.write_json(payload)

    def delete(self, user, key_id):
        with self.db as db:
            row = self._own_key(db, user, key_id)
            if row.revoked_at is None:
                row.revoked_at = self.now()
                row.revoked_reason = "revoked by user"
        log.info("Revoked key %s of user %s", key_id, user)
        self.set_status(204)
        self.finish()


class UserKeyRegenerateHandler(OwnKeyHandler):
    """POST: a new secret for an active personal key; its id, name, models, expiry and
    usage history stay, and the old secret stops working within the gateway's refresh
    interval. The new key is in this response only."""

    def post(self, user, key_id):
        now = self.now()
        with self.db as db:
            row = self._active_personal_key(db, user, key_id, "regenerate")
            key = keys.regenerate(row, now=now)
            payload = self._issued(row, key, _allowed_models(db, user, row.profile_slug), now)
        log.info("Regenerated key %s of user %s", key_id, user)
        self.write_json(payload)


class KernelKeyHandler(OwnKeyHandler):
    """PUT ``{"notebook_path": "analysis/churn.ipynb" | null}``: the key of one kernel
    of your server, derived from the server's key ``key_id`` (only that server's token,
    or you, may ask): issued the first time (201; the key is in this response only),
    its notebook path changed after (200: the notebook was renamed); 429 once the server
    has ``MaaSService.max_kernel_keys`` kernels' keys alive (the kernel then uses the
    server's key); 409 if the server's key is no longer active. DELETE: revoke it (the
    kernel stopped). A terminal's key is a kernel's (``terminal-<uuid>``, its notebook
    ``terminal <name>``)."""

    def _server_key(self, db, user, key_id) -> ApiKey:
        row = self._own_key(db, user, key_id)
        if row.server_name is None or row.parent_id is not None:
            raise APIError(409, f"Key {key_id!r} is not a server's key: only those have kernels.")
        return row

    def _kernel_key(self, db, parent: ApiKey, kernel_id: str) -> ApiKey | None:
        return db.scalar(
            select(ApiKey).where(
                ApiKey.parent_id == parent.id,
                ApiKey.kernel_id == kernel_id,
                ApiKey.revoked_at.is_(None),
            )
        )

    def put(self, user, key_id, kernel_id):
        path = self.checked(KERNEL_KEY_FIELDS).get("notebook_path")
        now = self.now()
        with self.db as db:
            parent = self._server_key(db, user, key_id)
            state = parent.state(now)
            if state != "active":
                raise APIError(409, f"The server's key {key_id!r} is {state}.")
            keys.lock_user(db, user)  # the look-up, the count and the insert, atomic
            row = self._kernel_key(db, parent, kernel_id)
            if row is not None:
                row.notebook_path = path
                row.updated = now
                payload, status = keys.key_public(row, now), 200
            else:
                self._still_open(db, parent)
                cap = self.service.max_kernel_keys
                if keys.live_kernel_keys(db, parent) >= cap:
                    raise APIError(
                        429,
                        f"This server has {cap} kernels and terminals with keys of their "
                        "own, the limit: this one uses the server's key (its requests count "
                        "for the server, not a notebook or terminal) until some of those "
                        "stop.",
                    )
                row, key = keys.issue_for_kernel(
                    db, parent, kernel_id=kernel_id, notebook_path=path, now=now
                )
                payload, status = {**keys.key_public(row, now), "key": key}, 201
        self.write_json(payload, status=status)

    def delete(self, user, key_id, kernel_id):
        with self.db as db:
            parent = self._server_key(db, user, key_id)
            row = self._kernel_key(db, parent, kernel_id)
            if row is not None:
                row.revoked_at = self.now()
                ended = "terminal closed" if kernel_id.startswith("terminal-") else "kernel stopped"
                row.revoked_reason = ended
        self.set_status(204)
        self.finish()


class UserKeyRenewHandler(OwnKeyHandler):
    """POST: push an active key's expiry to now + its lifetime (and its kernels' keys'
    with it); the key stays the same.

    A server's own token may also renew its key after it expired (not after it was
    revoked): the token proves the server still runs, and its kernels hold that key,
    so a service outage longer than the key's half-life costs them nothing."""

    def post(self, user, key_id):
        now = self.now()
        with self.db as db:
            row = self._own_key(db, user, key_id)
            state = row.state(now)
            own_server = row.server_name is not None and (
                caller_server(self.current_user) == row.server_name
            )
            if state == "revoked" or (state == "expired" and not own_server):
                raise APIError(409, f"Key {key_id!r} is {state}; issue a new one instead.")
            self._still_open(db, row)
            lifetime = (
                self.service.server_key_lifetime
                if row.server_name is not None
                else self.service.personal_key_lifetime
            )
            keys.renew(db, row, now + dt.timedelta(seconds=lifetime), now=now)
            payload = keys.key_public(row, now)
        self.write_json(payload)


# routes.py adds these to the API's table
KEY_ROUTES = [
    (rf"users/{USER}/keys", UserKeysHandler),
    (rf"users/{USER}/keys/{KEY_ID}", UserKeyHandler),
    (rf"users/{USER}/keys/{KEY_ID}/renew", UserKeyRenewHandler),
    (rf"users/{USER}/keys/{KEY_ID}/regenerate", UserKeyRegenerateHandler),
    (rf"users/{USER}/keys/{KEY_ID}/kernels/{KERNEL_ID}", KernelKeyHandler),
]
