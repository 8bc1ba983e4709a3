"""The MaaS service's own app, served in this process against a database, with a stand-in
for the hub's ``/user`` endpoint (a token -> the user it belongs to, with the scopes the
hub would grant): the API as a client sees it, without starting a hub."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading

import requests
from jupyterhub.services.auth import HubAuth, HubOAuth
from pg import free_port
from tornado import web
from tornado.httpserver import HTTPServer

from hub_service.app import MaaSService
from hub_service.metrics import ADMIN_SCOPE

ACCESS = "access:services!service=maas"


class _WhoAmI(web.RequestHandler):
    def initialize(self, users, asked):
        self.users = users
        self.asked = asked

    def get(self):
        token = self.request.headers.get("Authorization", "").partition(" ")[2]
        self.asked.append(token)
        model = self.users.get(token)
        if model is None:
            raise web.HTTPError(403)
        self.write(json.dumps(model))


class ServedService:
    """``MaaSService`` on ``db_url``, its clock ``now`` (a callable), listening on a free
    port until ``stop``; ``get(path, user)`` calls its API as that user."""

    def __init__(self, db_url: str, monkeypatch, now, admin: str = "root", **traits):
        self.port, hub_port = free_port(), free_port()
        self.prefix = "/services/maas/"
        self.tokens: dict[str, str] = {}
        self.users: dict[str, dict] = {}
        self.asked: list[str] = []  # the tokens the service asked the hub about
        for name, value in {
            "JUPYTERHUB_API_URL": f"http://127.0.0.1:{hub_port}/hub/api",
            "JUPYTERHUB_API_TOKEN": secrets.token_hex(16),
            "JUPYTERHUB_SERVICE_PREFIX": self.prefix,
            "JUPYTERHUB_OAUTH_ACCESS_SCOPES": json.dumps([ACCESS]),
            "MAAS_MIGRATE_AT_START": "1",
        }.items():
            monkeypatch.setenv(name, value)
        HubOAuth.clear_instance()  # handlers ask the hub through one per process
        HubAuth.clear_instance()
        self.service = MaaSService(config_file="/nonexistent/maas_config.py", **traits)
        self.service.initialize([f"--db-url={db_url}"])
        self.service.utcnow = now
        self.admin = admin
        self.hub_app = web.Application(
            [(r"/hub/api/user", _WhoAmI, {"users": self.users, "asked": self.asked})]
        )
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.servers = [
                HTTPServer(self.service.web_app),
                HTTPServer(self.hub_app),
            ]
            self.servers[0].listen(self.port, "127.0.0.1")
            self.servers[1].listen(hub_port, "127.0.0.1")
            self.loop.call_soon(ready.set)
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(30), "the service did not start listening"

    def token(self, user: str) -> str:
        if user not in self.tokens:
            token = self.tokens[user] = secrets.token_hex(16)
            scopes = [ACCESS, *([ADMIN_SCOPE] if user == self.admin else [])]
            self.users[token] = {"kind": "user", "name": user, "scopes": scopes, "groups": []}
        return self.tokens[user]

    def get(self, path: str, user: str, timeout: float = 30, **params) -> requests.Response:
        return requests.get(
            f"http://127.0.0.1:{self.port}{self.prefix}api/v1/{path}",
            params=params,
            headers={"Authorization": f"token {self.token(user)}"},
            timeout=timeout,
        )

    def stop(self) -> None:
        async def close():
            for server in self.servers:
                server.stop()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.service.engine.dispose()
        HubOAuth.clear_instance()
        HubAuth.clear_instance()
