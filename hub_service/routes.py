"""The service's route table, assembled in one place: the API's routes (each handler
module exports its own), the metrics, a JSON 404 for any other API path, and the
portal's page and its assets. The OpenAPI document is derived from ``API_ROUTES``."""

from __future__ import annotations

import re

from .admin import ADMIN_ROUTES
from .handlers import ROUTES, MetricsHandler
from .key_handlers import KEY_ROUTES
from .playground import PLAYGROUND_ROUTES, PlaygroundSignOutHandler
from .portal import STATIC, PortalHandler, StaticHandler
from .servers import SERVER_ROUTES
from .teams import TEAM_ROUTES
from .web import NotFoundHandler

# (pattern under api/v1/, handler class)
API_ROUTES = [
    *ADMIN_ROUTES,
    *ROUTES,
    *KEY_ROUTES,
    *PLAYGROUND_ROUTES,
    *SERVER_ROUTES,
    *TEAM_ROUTES,
]


def routes(prefix: str, service) -> list:
    """tornado's handler list for a service served under ``prefix``."""
    api = re.escape(prefix) + "api/v1/"
    kwargs = {"service": service}
    return [
        *((api + pattern + "/?", cls, kwargs) for pattern, cls in API_ROUTES),
        (re.escape(prefix) + "metrics", MetricsHandler, kwargs),
        (re.escape(prefix) + "logout", PlaygroundSignOutHandler, kwargs),
        (api + ".*", NotFoundHandler, kwargs),
        (re.escape(prefix) + "static/portal/(.*)", StaticHandler, {"path": str(STATIC)}),
        (re.escape(prefix) + "?", PortalHandler, kwargs),
    ]
