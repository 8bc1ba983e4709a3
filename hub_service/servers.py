"""A user's notebook servers through the service's API (``users/{user}/servers``): list
them, start one with a profile, stop one. The portal's Notebooks page uses these, so
that the browser talks to the service's API only.

The service acts *as the user*, with the user's own hub token: the OAuth token the hub
issued for their sign-in to the service (HubOAuth keeps it in its cookie, and
``HubAuth.get_token`` returns it), or the token they sent in ``Authorization``. The
alternative, granting the service's own role ``servers`` on every user, would let the
service (and anyone who obtains its token) start and stop anyone's servers, while the
user's token can touch their servers only. JupyterHub 6 grants a service's sign-in
the scopes its OAuth client may ask for (``oauth_client_allowed_scopes``: here
``read:servers!user``, ``start:servers!user`` and ``delete:servers!user``, set in
``hub_config.OAUTH_CLIENT_ALLOWED_SCOPES``) intersected with the user's own, so the
service's role keeps its read-only ``read:servers``. The hub checks each request
against the token; the service checks first that the path names the caller. A sign-in
made before those scopes were allowed lacks them: the hub refuses, and the answer says
to sign in again.
"""

from __future__ import annotations

import logging

from .hub import HubAPIError, HubRefused, UserServers
from .validation import SERVER_FIELDS, Invalid, validate
from .web import USER, APIError, APIHandler

log = logging.getLogger(__name__)

# A named server's name in a path (the default server has none: ``users/{user}/server``).
SERVER_NAME = r"(?P<server_name>[A-Za-z0-9][A-Za-z0-9._-]{0,254})"

# A server's state, from the hub's ready and pending (the OpenAPI document's enum).
SERVER_STATUSES = ("pending", "ready", "stopping", "stopped")


def server_status(model: dict) -> str:
    """``ready``, ``pending`` (starting), ``stopping`` or ``stopped``."""
    if model.get("pending") == "stop":
        return "stopping"
    if model.get("pending"):
        return "pending"
    if model.get("ready"):
        return "ready"
    return "stopped"


def server_public(model: dict) -> dict:
    """A hub server model as this API answers it."""
    return {
        "name": model.get("name") or "",
        "profile": (model.get("user_options") or {}).get("profile"),
        "started": model.get("started"),
        "last_activity": model.get("last_activity"),
        "status": server_status(model),
        "url": model.get("url") or "",
    }


class ServersBase(APIHandler):
    """The caller's own servers, as the caller (see the module's docstring)."""

    def own_servers(self, user: str) -> UserServers:
        try:
            self.check_owner(user)
        except APIError:
            raise APIError(
                403, f"You may only see and manage your own servers, not those of {user!r}."
            ) from None
        token = self.hub_auth.get_token(self)
        if not token:  # signed in, yet no token (cannot happen with HubOAuth's cookie)
            raise APIError(401, "Sign in through the hub again.")
        return UserServers(self.service.hub.api_url, token, user)

    async def ask_hub(self, call, what: str):
        """Await ``call`` (a ``UserServers`` request), with the hub's refusals and
        absence as this API's errors."""
        try:
            return await call
        except HubRefused as e:
            if e.status == 403:
                raise APIError(
                    403,
                    "The hub does not let this sign-in manage your servers: sign out of "
                    "the hub and sign in again (or send a token with the servers scope).",
                ) from None
            if e.status == 404:
                raise APIError(404, f"The hub has no such server ({e.message}).") from None
            if 400 <= e.status < 500:
                raise APIError(400, f"The hub refused to {what}: {e.message}") from None
            log.error("The hub failed to %s: HTTP %s %s", what, e.status, e.message)
            raise APIError(502, f"The hub failed to {what}: {e.message}") from None
        except HubAPIError as e:
            log.error("Cannot reach the hub API: %s", e)
            raise APIError(
                503, f"The hub cannot be reached (to {what}); try again shortly."
            ) from None


class ServersHandler(ServersBase):
    """GET: your servers that run or are starting or stopping (the default server's
    name is ""), each with its profile, start, last activity, status and the URL that
    opens it."""

    async def get(self, user):
        servers = await self.ask_hub(self.own_servers(user).servers(), "list your servers")
        rows = sorted((server_public(s) for s in servers.values()), key=lambda s: s["name"])
        self.write_json({"servers": rows})


class ServerHandler(ServersBase):
    """POST ``{"profile": "<slug>"}`` (absent: your default profile; a profile not open
    to your hub groups is refused, 403): start the server, answering its state (201
    ready, 202 still starting); 409 if it runs already, or if it stopped before it was
    ready (stopped meanwhile, or its spawner failed). DELETE: stop it (204 stopped, 202
    with its state while it stops)."""

    def _profile(self, slug: str | None) -> str:
        """The slug to start with: ``slug`` if it is open to the caller, else their
        default profile (a 400 or 403 naming their profiles otherwise)."""
        with self.db as db:
            return self.own_profile(db, slug, "start a server with").slug

    async def post(self, user, server_name=""):
        servers = self.own_servers(user)
        try:
            body = validate(self.json_body(), SERVER_FIELDS)
        except Invalid as e:
            raise APIError(400, str(e)) from None
        profile = self._profile(body.get("profile"))
        running = await self.ask_hub(servers.server(server_name), "look up your server")
        if running is not None and server_status(running) != "stopped":
            raise APIError(
                409,
                f"Your server {server_name or '(default)'} is {server_status(running)} "
                "already: stop it first to start it with another profile.",
            )
        try:
            await self.ask_hub(
                servers.start(server_name, {"profile": profile}), "start your server"
            )
        except APIError as e:
            if e.status_code != 502:
                raise
            # the hub's error was its wait for the server, which a stop interrupts (or
            # the spawner failed): the server's state says which
            model = await self.ask_hub(servers.server(server_name), "look up your server")
            if model is None or server_status(model) in ("stopped", "stopping"):
                raise APIError(
                    409,
                    f"Your server {server_name or '(default)'} stopped before it was ready: "
                    f"a stop interrupted it, or it failed to start ({e.message}).",
                ) from None
        log.info("Started server %r of %s with profile %s", server_name, user, profile)
        model = await self.ask_hub(servers.server(server_name), "look up your server")
        row = server_public(model or {"name": server_name, "pending": "spawn"})
        self.write_json(row, status=201 if row["status"] == "ready" else 202)

    async def delete(self, user, server_name=""):
        servers = self.own_servers(user)
        status = await self.ask_hub(servers.stop(server_name), "stop your server")
        log.info("Stopping server %r of %s", server_name, user)
        if status == 202:
            model = await self.ask_hub(servers.server(server_name), "look up your server")
            row = server_public(model or {"name": server_name})
            if row["status"] != "stopped":
                return self.write_json(row, status=202)
        self.set_status(204)
        self.finish()


class DefaultServerHandler(ServerHandler):
    """POST ``{"profile": "<slug>"}``: start your default server (the one without a
    name); DELETE: stop it. As ``users/{user}/servers/{server_name}`` otherwise."""


# routes.py adds these to the API's table
SERVER_ROUTES = [
    (rf"users/{USER}/servers", ServersHandler),
    (rf"users/{USER}/server", DefaultServerHandler),
    (rf"users/{USER}/servers/{SERVER_NAME}", ServerHandler),
]
