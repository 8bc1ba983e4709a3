"""The portal: a page at the service's root (``/services/maas/``, signed in through the
hub's OAuth) that loads the portal's static assets (built from ``portal/`` into
``hub_service/static/portal/``, shipped in the wheel: no CDN at run time) and talks to
the JSON API with the hub's sign-in cookie and XSRF token."""

from __future__ import annotations

import json
from pathlib import Path

from tornado import web

from . import __version__
from .metrics import ADMIN_SCOPE
from .web import BaseHandler

STATIC = Path(__file__).parent / "static" / "portal"
# what the page may load: its own files only (charts set inline styles)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Model-as-a-Service</title>
<link rel="stylesheet" href="{static}portal.css?v={version}">
</head>
<body>
<div id="root"></div>
<script id="maas-config" type="application/json">{config}</script>
<script src="{static}portal.js?v={version}"></script>
</body>
</html>
"""


class PortalHandler(BaseHandler):
    """GET: the portal's page, for a user signed in through the hub (others are sent
    to the hub's sign-in)."""

    async def prepare(self):
        await self._identify()  # without blocking the service while the hub answers

    @web.authenticated
    def get(self):
        if not (STATIC / "portal.js").exists():
            raise web.HTTPError(
                503,
                "The portal's assets are not built: run `bash scripts/setup.sh` "
                "(or `npm --prefix portal run build`).",
            )
        me = self.current_user
        config = {
            "prefix": self.service.api_prefix,
            "user": me["name"],
            "admin": ADMIN_SCOPE in (me.get("scopes") or []),
            "baseUrl": self.service.public_base_url,
            "xsrf": self.xsrf_token.decode()
            if isinstance(self.xsrf_token, bytes)
            else self.xsrf_token,
            "version": __version__,
        }
        # no <, > or & in the script element, whatever a user's name holds
        text = (
            json.dumps(config)
            .replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
        )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.finish(
            PAGE.format(
                static=f"{self.service.api_prefix}static/portal/",
                version=__version__,
                config=text,
            )
        )


class StaticHandler(web.StaticFileHandler):
    """The portal's built assets (no sign-in needed: nothing in them is private)."""

    def set_extra_headers(self, path):
        self.set_header("Cache-Control", "public, max-age=3600")
        self.set_header("X-Content-Type-Options", "nosniff")
