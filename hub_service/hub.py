"""What the service asks the JupyterHub REST API: which users exist and since when,
which servers run, with which options."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import quote, urlencode

from jupyterhub.services.auth import _ExpiringDict  # HubAuth.cache's type
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

PAGINATION_MEDIA_TYPE = "application/jupyterhub-pagination+json"


class HubAPIError(Exception):
    """The hub did not answer as expected."""


class HubClient:
    """A thin client for the hub API, authenticated with the service's own token.

    Scopes it needs (granted by the ``maas-service`` role in the hub config):
    ``list:users`` to page through users, ``read:users`` for when each was created (a
    user deleted and created again under the same name is someone else),
    ``read:servers`` to see their servers and the options they were started with,
    ``list:groups`` and ``read:groups`` to mirror group membership.
    """

    def __init__(self, api_url: str, token: str, timeout: float = 10.0):
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.http = AsyncHTTPClient()
        self.requests = 0  # made to the hub since start (the service's load on it)

    async def _get(self, path: str, **params) -> dict | list:
        url = f"{self.api_url}/{path.lstrip('/')}"
        if params:
            url += "?" + urlencode(params)
        req = HTTPRequest(
            url,
            headers={"Authorization": f"token {self.token}", "Accept": PAGINATION_MEDIA_TYPE},
            request_timeout=self.timeout,
        )
        self.requests += 1
        try:
            resp = await self.http.fetch(req)
        except HTTPClientError as e:
            if e.code == 404:
                raise LookupError(path) from None
            raise HubAPIError(f"hub API {path}: HTTP {e.code}") from None
        except OSError as e:
            raise HubAPIError(f"hub API {path}: {e}") from None
        return json.loads(resp.body)

    async def _pages(self, path: str, **params):
        offset = 0
        while True:
            page = await self._get(path, offset=offset, limit=200, **params)
            items = page["items"] if isinstance(page, dict) else page
            for item in items:
                yield item
            nxt = page.get("_pagination", {}).get("next") if isinstance(page, dict) else None
            if not nxt:
                return
            offset = nxt["offset"]

    async def users(self) -> dict[str, dict]:
        """Every hub user's model by name, with ``created`` and the servers it has ready
        or starting."""
        return {user["name"]: user async for user in self._pages("users")}

    async def user(self, name: str) -> dict | None:
        """One user's model (with ``created`` and running ``servers``), or None."""
        try:
            return await self._get(f"users/{quote(name, safe='')}")
        except LookupError:
            return None

    async def group_members(self) -> set[tuple[str, str]]:
        """Every (user, group) membership (scopes ``list:groups``, ``read:groups``)."""
        return {
            (user, group["name"])
            async for group in self._pages("groups")
            for user in group.get("users") or []
        }


def active_servers(users: dict[str, dict]) -> set[tuple[str, str]]:
    """Every (user, server name) of ``users`` (``HubClient.users``) that is running."""
    return {(name, server) for name, user in users.items() for server in user.get("servers") or {}}


def created(user: dict) -> dt.datetime | None:
    """When the hub created ``user`` (naive UTC, as the database stores times), or None
    if the service's token may not read it (the ``read:users`` scope)."""
    value = user.get("created")
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


class BoundedCache(_ExpiringDict):
    """HubAuth's cache of who each token is, as the hub answered: entries expire after
    ``max_age`` seconds, as in HubAuth's own, and at most ``limit`` are kept (the oldest
    go first), so a flood of distinct tokens cannot grow the service's memory."""

    def __init__(self, max_age: float, limit: int):
        super().__init__(max_age)
        self.limit = limit

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        while len(self.values) > self.limit:
            oldest = next(iter(self.values))
            self.values.pop(oldest, None)
            self.timestamps.pop(oldest, None)


class HubRefused(HubAPIError):
    """The hub answered a request with an error: its status and its own sentence."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class UserServers:
    """One user's servers, through the hub API, acting as that user with a token of
    theirs (their sign-in to the service, or the token they sent it): whatever it may
    do is what the hub lets that token do, and nothing for anyone else.

    Scopes the token needs on its user: ``read:servers`` to list, ``start:servers`` to
    start and ``delete:servers`` to stop (the service's OAuth client asks for them:
    ``hub_service.hub_config.OAUTH_CLIENT_ALLOWED_SCOPES``).
    """

    def __init__(self, api_url: str, token: str, user: str, timeout: float = 60.0):
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.user = user
        # a start answers once the spawner has started or the hub's slow_spawn_timeout
        # (10 s by default) has passed, whichever comes first
        self.timeout = timeout

    def _path(self, name: str) -> str:
        user = quote(self.user, safe="")
        # the hub's own route for the default server, which has no name
        return (
            f"users/{user}/server" if name == "" else f"users/{user}/servers/{quote(name, safe='')}"
        )

    async def _call(self, method: str, path: str, body: dict | None = None):
        """(status, parsed JSON body or None) of a successful answer; ``HubRefused``
        with the hub's sentence for an error, ``HubAPIError`` if there is no answer."""
        req = HTTPRequest(
            f"{self.api_url}/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            body=None if body is None else json.dumps(body),
            request_timeout=self.timeout,
        )
        try:
            resp = await AsyncHTTPClient().fetch(req)
        except HTTPClientError as e:
            if e.response is None:  # tornado's own timeout (599)
                raise HubAPIError(f"hub API {method} {path}: {e}") from None
            try:
                message = json.loads(e.response.body)["message"]
            except (ValueError, KeyError, TypeError):
                message = e.message or ""
            raise HubRefused(e.code, str(message)) from None
        except OSError as e:
            raise HubAPIError(f"hub API {method} {path}: {e}") from None
        parsed = None
        if resp.body and resp.headers.get("Content-Type", "").startswith("application/json"):
            parsed = json.loads(resp.body)
        return resp.code, parsed

    async def servers(self) -> dict[str, dict]:
        """The user's servers that run or are starting or stopping, by name ('' is the
        default server); ``HubRefused`` 403 if the token may not read them."""
        _, model = await self._call("GET", f"users/{quote(self.user, safe='')}")
        if not isinstance(model, dict) or "servers" not in model:
            # the hub leaves out what a token may not read
            raise HubRefused(403, "this token may not read the user's servers")
        return model["servers"] or {}

    async def server(self, name: str) -> dict | None:
        """One server's model (also a stopped named one's), or None if there is none."""
        try:
            return (await self._call("GET", self._path(name)))[1]
        except HubRefused as e:
            if e.status == 404:
                return None
            raise

    async def start(self, name: str, user_options: dict) -> int:
        """Start a server with these options: 201 (started) or 202 (still starting)."""
        return (await self._call("POST", self._path(name), {"user_options": user_options}))[0]

    async def stop(self, name: str) -> int:
        """Stop a server: 204 (stopped) or 202 (still stopping)."""
        return (await self._call("DELETE", self._path(name)))[0]
