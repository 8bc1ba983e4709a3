"""pytest-jupyter fixtures for the server extension (its own pytest invocation: the
plugin takes over async test execution for the whole session)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytest_jupyter.jupyter_server"]

MAAS_VARS = (
    "MAAS_SERVICE_URL",
    "JUPYTERHUB_API_TOKEN",
    "JUPYTERHUB_USER",
    "JUPYTERHUB_SERVER_NAME",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
)


@pytest.fixture
def maas_env(monkeypatch):
    """A clean slate of the variables the extension reads and writes; tests set theirs."""
    for name in MAAS_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def jp_server_config(maas_env, jp_server_config):
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyterlab_maas": True},
            "allow_unauthenticated_access": False,
        },
        "MaaSExtension": {"timeout": 1.0},
    }
