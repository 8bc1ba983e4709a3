"""The server extension's REST API, under ``{base_url}jupyterlab-maas/``."""

from __future__ import annotations

import json

import tornado
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

NAMESPACE = "jupyterlab-maas"


class StatusHandler(APIHandler):
    """GET: the extension's version and the state of this server's credentials
    (never the key itself)."""

    @tornado.web.authenticated
    def get(self):
        self.finish(json.dumps(self.settings["maas_extension"].status()))


def setup_handlers(web_app) -> None:
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [(url_path_join(base_url, NAMESPACE, "status"), StatusHandler)])
