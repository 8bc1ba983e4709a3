"""Fixtures for the service and gateway tests: real SQLite and PostgreSQL databases,
and real LiteLLM gateway processes with our plugin."""

from __future__ import annotations

import os

import pytest
from pg import PostgresServer
from slowbackend import SlowBackend

from hub_service import db


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


_counter = 0


def _empty_database(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'maas.sqlite'}"
    global _counter
    _counter += 1
    return request.getfixturevalue("postgres").create_database(f"maas_{os.getpid()}_{_counter}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """An empty database of each kind."""
    return _empty_database(request, tmp_path)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(request, tmp_path_factory) -> str:
    """An empty database of each kind, shared by a module's tests."""
    return _empty_database(request, tmp_path_factory.mktemp("db"))


def _sessions(url):
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield db.make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def sessions(db_url):
    yield from _sessions(db_url)


@pytest.fixture(scope="module")
def module_sessions(module_db_url):
    yield from _sessions(module_db_url)


@pytest.fixture(scope="module")
def backend():
    """A real HTTP model backend that streams slowly and records what it is sent
    (tests/slowbackend.py), for a module's gateway."""
    slow = SlowBackend()
    yield slow
    slow.close()
