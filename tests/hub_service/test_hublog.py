"""The hub's access log keeps everything but the MaaS service's periodic reads.

The logger is set up the way traitlets sets up the hub's: the logger itself at DEBUG,
the level on its handler."""

from __future__ import annotations

import logging

import pytest

from hub_service.hublog import quiet_service_polls

POLLS = [
    "200 GET /hub/api/users?offset=0&limit=200&state=[secret] (maas@127.0.0.1) 4.20ms",
    "200 GET /hub/api/groups?offset=0&limit=200 (maas@127.0.0.1) 1.90ms",
    "200 GET /prefix/hub/api/groups (maas@10.0.0.5) 1.90ms",
]


class Lines(logging.Handler):
    def __init__(self, level):
        super().__init__(level)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def hub_log(request):
    """Log lines through a logger like the hub's access log, with one handler at the
    given level (pytest's own capture handlers are taken off while logging); return
    the lines that reached the handler."""
    logger = logging.getLogger(f"test-hublog.{request.node.name}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = Lines(request.param)
    quiet_service_polls("maas", logger)

    def log(messages: list[str]) -> list[str]:
        logger.handlers = [handler]
        for message in messages:
            logger.info(message)
        logger.handlers = []
        return handler.lines

    yield log
    logger.filters.clear()


@pytest.mark.parametrize("hub_log", [logging.INFO], indirect=True)
def test_the_services_polls_are_dropped_and_everything_else_kept(hub_log):
    keep = [
        "200 GET /hub/api/users/alice (maas@127.0.0.1) 3.10ms",  # a server lookup
        "200 GET /hub/api/users?offset=0&limit=200 (admin@127.0.0.1) 2.00ms",  # a person
        "403 GET /hub/api/groups?offset=0&limit=200 (maas@127.0.0.1) 1.00ms",  # a failure
        "302 GET /hub/login (@127.0.0.1) 1.00ms",
    ]
    assert hub_log(keep + POLLS) == keep


@pytest.mark.parametrize("hub_log", [logging.DEBUG], indirect=True)
def test_debug_logging_shows_the_polls_again(hub_log):
    assert hub_log(POLLS) == POLLS
