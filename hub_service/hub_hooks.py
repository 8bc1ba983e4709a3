"""What the hub tells the MaaS service as it happens, so that a stopped server's key
(and a deleted user's keys) die at once instead of at the service's next poll.

In ``jupyterhub_config.py``::

    from hub_service.hub_hooks import NotifyMaaS
    from hub_service.spawner import ProfileSource, profile_gate

    url = "http://maas-service:10101/services/maas/"
    profiles = ProfileSource(url, maas_service_token)  # shared with the spawn form
    notify = NotifyMaaS(url, maas_service_token, gate=profile_gate(profiles))
    c.Spawner.pre_spawn_hook = notify.pre_spawn_hook  # the user's profiles only; told early
    c.Spawner.post_stop_hook = notify.post_stop_hook  # the culler's stops too
    c.JupyterHub.authenticator_class = notify.authenticator(DummyAuthenticator)

The hook returns at once: the notice is delivered in the background, retried every
RETRY_MAX seconds at most while the service is away (for up to ``give_up`` seconds; the
service's slow poll, ``MaaSService.reconcile_interval``, catches anything later). It is
sent with the service's own hub token, which only the hub's configuration and the
service hold.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .db import utcnow

log = logging.getLogger("maas.hub-hooks")
RETRY_MAX = 2.0  # seconds between attempts while the service is away


class NotifyMaaS:
    """The hub's notices to the service. With ``gate`` (``spawner.profile_gate``), its
    ``pre_spawn_hook`` first refuses a start whose profile is not the user's."""

    def __init__(
        self,
        service_url: str,
        token: str,
        *,
        gate=None,
        timeout: float = 5.0,
        give_up: float = 600.0,
    ):
        self.url = service_url.rstrip("/") + "/api/v1/hub/events"
        self.token = token
        self.gate = gate
        self.timeout = timeout
        self.give_up = give_up
        self._tasks: set[asyncio.Task] = set()

    def send(self, event: dict) -> None:
        """Deliver ``event`` in the background (retried until delivered or given up)."""
        task = asyncio.ensure_future(self._deliver(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event: dict) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.give_up
        wait = 0.5
        body = json.dumps(event)
        while True:
            try:
                await AsyncHTTPClient().fetch(
                    HTTPRequest(
                        self.url,
                        method="POST",
                        body=body,
                        headers={
                            "Authorization": f"token {self.token}",
                            "Content-Type": "application/json",
                        },
                        request_timeout=self.timeout,
                    )
                )
                return
            except HTTPClientError as e:
                if e.code is not None and 400 <= e.code < 500 and e.code != 429:
                    log.error(
                        "The MaaS service refused the hub's notice %s: HTTP %s",
                        event["event"],
                        e.code,
                    )
                    return
                why = f"HTTP {e.code}"
            except OSError as e:
                why = str(e)
            if loop.time() + wait > deadline:
                log.warning(
                    "Gave up telling the MaaS service of %s (%s); its poll will notice", event, why
                )
                return
            await asyncio.sleep(wait)
            wait = min(wait * 2, RETRY_MAX)

    async def pre_spawn_hook(self, spawner) -> None:
        """``Spawner.pre_spawn_hook``: refuse a profile that is not the user's (with a
        ``gate``); then the service notes the server's profile, its user's creation
        time, groups and admin flag, and the hash of the server's own token (made and
        committed by the hub before this hook runs), so that the server's key request
        needs no question to the hub (``hub_service.starts``)."""
        if self.gate is not None:
            await self.gate(spawner)
        user = spawner.user
        created = getattr(user, "created", None)
        token = getattr(spawner, "api_token", None)
        self.send(
            {
                "event": "server-starting",
                "user": user.name,
                "server_name": spawner.name,
                "profile": (spawner.user_options or {}).get("profile"),
                "user_created": created.isoformat() if created else None,
                # who the server's own token speaks for, and its hash (never the token):
                # the server's key request is then answered without asking the hub
                "groups": sorted(getattr(g, "name", g) for g in getattr(user, "groups", [])),
                "admin": bool(getattr(user, "admin", False)),
                "token_hash": hashlib.sha256(token.encode()).hexdigest() if token else None,
                "at": utcnow().isoformat(),
            }
        )

    def post_stop_hook(self, spawner) -> None:
        """``Spawner.post_stop_hook``: the server's key is revoked now (keys issued
        after the stop, to a server started again meanwhile, stay)."""
        self.send(
            {
                "event": "server-stopped",
                "user": spawner.user.name,
                "server_name": spawner.name,
                "at": utcnow().isoformat(),
            }
        )

    def authenticator(self, base: type) -> type:
        """``base`` (an Authenticator class) whose ``delete_user`` also tells the
        service: every key of the user is revoked now."""
        notify = self

        class Authenticator(base):
            def delete_user(self, user):
                notify.send(
                    {"event": "user-deleted", "user": user.name, "at": utcnow().isoformat()}
                )
                return super().delete_user(user)

        Authenticator.__name__ = f"{base.__name__}NotifyingMaaS"
        return Authenticator
