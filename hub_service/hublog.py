"""Keep the hub's log readable: the MaaS service reads the hub's users and groups every
few seconds, and JupyterHub logs each of those reads at INFO. Load this in
``jupyterhub_config.py``; the reads then show only with the hub's ``--debug``::

    from hub_service.hublog import quiet_service_polls
    quiet_service_polls("maas")
"""

from __future__ import annotations

import logging
import re

ACCESS_LOG = logging.getLogger("tornado.access")


def shows_debug(logger: logging.Logger) -> bool:
    """Whether a DEBUG record of ``logger`` would reach any handler. traitlets keeps
    an application's logger at DEBUG and sets the level on its handlers, so the
    logger's own level alone does not tell."""
    if not logger.isEnabledFor(logging.DEBUG):
        return False
    current: logging.Logger | None = logger
    while current is not None:
        if any(h.level <= logging.DEBUG for h in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent
    return False


class ServicePollFilter(logging.Filter):
    """Drops the successful GETs of ``/hub/api/users`` and ``/hub/api/groups`` that a
    service makes, unless the log shows debug records. Everything else (other callers,
    other paths, any error) passes untouched."""

    def __init__(self, service: str, logger: logging.Logger = ACCESS_LOG):
        super().__init__()
        self.logger = logger
        self.pattern = re.compile(
            r"^200 GET /[^ ]*hub/api/(users|groups)(\?[^ ]*)? \(" + re.escape(service) + "@"
        )

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.pattern.match(record.getMessage()):
            return True
        return shows_debug(self.logger)


def quiet_service_polls(service: str, logger: logging.Logger = ACCESS_LOG) -> ServicePollFilter:
    """Install the filter on the hub's access log; return it."""
    poll_filter = ServicePollFilter(service, logger)
    logger.addFilter(poll_filter)
    return poll_filter
