"""What the service asks the JupyterHub REST API: which users exist and since when,
which servers run, with which options."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import OrderedDict
from urllib.parse import quote, urlencode

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


class StartingServers:
    """What the hub said of servers as they started (``server-starting`` notices): their
    profile and their user's creation time, so that a server asking for its key with its
    own token needs no further question to the hub. Bounded; entries expire."""

    def __init__(self, ttl: float = 900.0, limit: int = 50_000):
        self.ttl, self.limit = ttl, limit
        self._entries: OrderedDict[tuple[str, str], tuple] = OrderedDict()

    def put(self, user: str, server: str, profile: str | None, created: dt.datetime | None):
        self._entries.pop((user, server), None)
        self._entries[(user, server)] = (profile, created, time.monotonic())
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)

    def get(self, user: str, server: str) -> tuple[str | None, dt.datetime | None] | None:
        found = self._entries.get((user, server))
        if found is None or time.monotonic() - found[2] > self.ttl:
            return None
        return found[0], found[1]

    def drop(self, user: str, server: str) -> None:
        self._entries.pop((user, server), None)
