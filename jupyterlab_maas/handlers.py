"""The server extension's REST API, under ``{base_url}jupyterlab-maas/``.

Every handler requires the server's authentication; errors are JSON with a message.
"""

from __future__ import annotations

import asyncio
import json
import os
from urllib.parse import quote, urlencode

import tornado
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .agents import agents
from .extension import MaaSServiceError

NAMESPACE = "jupyterlab-maas"


class MaaSHandler(APIHandler):
    @property
    def maas(self):
        return self.settings["maas_extension"]

    async def service(self, path: str) -> dict:
        """GET from the MaaS service; a clear 503/502 if it cannot answer."""
        if self.maas.state == "disabled":
            raise tornado.web.HTTPError(503, self.maas.message)
        try:
            return await asyncio.to_thread(self.maas.get, path)
        except MaaSServiceError as e:
            raise tornado.web.HTTPError(503 if e.status is None else 502, str(e)) from None


class StatusHandler(MaaSHandler):
    """GET: the extension's version and the state of this server's credentials
    (never the key itself)."""

    @tornado.web.authenticated
    def get(self):
        self.finish(json.dumps(self.maas.status()))


class KeyHandler(MaaSHandler):
    """GET: the key this server holds now and the gateway's URL, for ``maas-key`` in a
    terminal (whose environment keeps the key it opened with); ``?terminal=<name>``:
    that terminal's own key, if it has one. Only for the server's own callers: its
    user, or the server's token."""

    @tornado.web.authenticated
    def get(self):
        key = os.environ.get("OPENAI_API_KEY")
        if self.maas.state != "ready" or not key:
            raise tornado.web.HTTPError(503, self.maas.message)
        terminals = self.maas.terminal_keys
        terminal = self.get_argument("terminal", None)
        own = terminals.key_of(terminal) if terminals is not None and terminal else None
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"key": own or key, "base_url": self.maas.base_url}))


class ModelsHandler(MaaSHandler):
    """GET: the catalog models this server's profile allows, with prices, the default
    model new kernels get, and per model how to run each coding agent with it in a
    terminal (``agents``)."""

    @tornado.web.authenticated
    async def get(self):
        catalog = await self.service("models")
        allowed = set(self.maas.models)
        models = [m for m in catalog["models"] if m["name"] in allowed]
        how = {
            m["name"]: [
                {k: a[k] for k in ("agent", "command", "reads")}
                for a in agents(self.maas.base_url, m["name"])
            ]
            for m in models
        }
        self.finish(
            json.dumps({"models": models, "default": self.maas.default_model, "agents": how})
        )


class DefaultModelHandler(MaaSHandler):
    """PUT ``{"model": "<name>"}``: the model new kernels find in MAAS_DEFAULT_MODEL."""

    @tornado.web.authenticated
    def put(self):
        try:
            model = json.loads(self.request.body or b"{}").get("model")
        except (ValueError, AttributeError):
            raise tornado.web.HTTPError(400, 'Send JSON: {"model": "<name>"}.') from None
        if not isinstance(model, str):
            raise tornado.web.HTTPError(400, 'Send JSON: {"model": "<name>"}.')
        try:
            self.maas.set_default_model(model)
        except ValueError as e:
            raise tornado.web.HTTPError(400, str(e)) from None
        self.finish(json.dumps({"default": model}))


class UsageHandler(MaaSHandler):
    """GET: this period's spend against the budget, spend by model and the last
    requests of this server's user."""

    @tornado.web.authenticated
    async def get(self):
        user = quote(self.maas.user, safe="")
        query = f"?{urlencode({'profile': self.maas.profile})}" if self.maas.profile else ""
        policy = await self.service(f"users/{user}/policy{query}")
        # This period: the window of the budget that binds (policy["binding"]), or the
        # calendar month when there is no budget.
        period = policy.get("budget_period") or "month"
        since = policy.get("period_start")
        window = urlencode({"since": since} if since else {"period": period})
        usage = await self.service(f"users/{user}/usage?{window}")
        self.finish(
            json.dumps(
                {
                    "spend_usd": policy.get("spend_usd", usage["total_cost_usd"]),
                    "budget_usd": policy.get("budget_usd"),
                    "budget_period": period,
                    "period_start": usage["since"],
                    "resets_at": policy.get("resets_at"),
                    # every budget that applies, each with its window's spend
                    "budgets": policy.get("budgets", []),
                    # a team's share at which to warn of the binding budget (else the
                    # user's setting)
                    "alert_threshold": (policy.get("binding") or {}).get("alert"),
                    "by_model": usage["by_model"],
                    "recent": usage["recent"],
                    "refused": usage.get("refused", []),
                    # this server's notebooks (a kernel's key names its notebook)
                    "by_notebook": [
                        n
                        for n in usage.get("by_notebook", [])
                        if n["server_name"] == self.maas.server_name
                    ],
                }
            )
        )


def setup_handlers(web_app) -> None:
    base_url = web_app.settings["base_url"]
    routes = [
        ("status", StatusHandler),
        ("key", KeyHandler),
        ("models", ModelsHandler),
        ("default-model", DefaultModelHandler),
        ("usage", UsageHandler),
    ]
    web_app.add_handlers(
        ".*$", [(url_path_join(base_url, NAMESPACE, path), cls) for path, cls in routes]
    )
