"""The server extension's status endpoint, and how the server starts when the MaaS
service is absent or down (its success path runs against the real service in
tests/stack)."""

from __future__ import annotations

import json
import os
import socket

import pytest
from tornado.httpclient import HTTPClientError


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_status_requires_authentication(jp_fetch):
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("jupyterlab-maas", "status", headers={"Authorization": ""})
    assert e.value.code == 403


async def test_without_a_maas_service_the_extension_says_so(jp_fetch):
    r = await jp_fetch("jupyterlab-maas", "status")
    status = json.loads(r.body)
    assert status["state"] == "disabled"
    assert "MAAS_SERVICE_URL" in status["message"]
    assert "OPENAI_API_KEY" not in os.environ


@pytest.fixture
def service_down(maas_env):
    maas_env.setenv("MAAS_SERVICE_URL", f"http://127.0.0.1:{closed_port()}/services/maas/")
    maas_env.setenv("JUPYTERHUB_API_TOKEN", "hub-token-for-tests")
    maas_env.setenv("JUPYTERHUB_USER", "alice")


async def test_the_server_starts_and_explains_when_the_service_is_down(service_down, jp_fetch):
    r = await jp_fetch("jupyterlab-maas", "status")
    status = json.loads(r.body)
    assert status["state"] == "error"
    assert "MaaS service unreachable" in status["message"]
    assert "Retrying in" in status["message"]
    assert status["base_url"] is None
    assert "OPENAI_API_KEY" not in os.environ  # nothing half-set for kernels
    assert "hub-token-for-tests" not in r.body.decode()


async def test_unknown_routes_of_the_namespace_are_404(jp_fetch):
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("jupyterlab-maas", "nope")
    assert e.value.code == 404


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "models", None),
        ("GET", "usage", None),
        ("GET", "key", None),
        ("PUT", "default-model", "{}"),
    ],
)
async def test_every_handler_requires_authentication(jp_fetch, method, path, body):
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(
            "jupyterlab-maas", path, method=method, body=body, headers={"Authorization": ""}
        )
    assert e.value.code == 403


async def test_models_and_usage_say_why_when_there_is_no_service(jp_fetch):
    for path in ("models", "usage", "key"):
        with pytest.raises(HTTPClientError) as e:
            await jp_fetch("jupyterlab-maas", path)
        assert e.value.code == 503
        assert "No MaaS service is configured" in json.loads(e.value.response.body)["message"]


async def test_models_and_usage_say_the_service_is_unreachable_when_it_is_down(
    service_down, jp_fetch
):
    for path in ("models", "usage"):
        with pytest.raises(HTTPClientError) as e:
            await jp_fetch("jupyterlab-maas", path)
        assert e.value.code == 503
        body = e.value.response.body.decode()
        assert "MaaS service unreachable" in json.loads(body)["message"]
        assert "hub-token-for-tests" not in body


async def test_no_default_model_can_be_chosen_before_a_key_is_obtained(service_down, jp_fetch):
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("jupyterlab-maas", "default-model", method="PUT", body='{"model": "m"}')
    assert e.value.code == 400
    assert "this server's models: none" in json.loads(e.value.response.body)["message"]


@pytest.mark.parametrize(
    "body, message",
    [
        ("not json", "Send JSON"),
        ('{"model": 3}', "Send JSON"),
        ('{"model": "gpt-17"}', "is not one of this server's models"),
    ],
)
async def test_a_bad_default_model_is_a_400_with_a_message(jp_fetch, body, message):
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("jupyterlab-maas", "default-model", method="PUT", body=body)
    assert e.value.code == 400
    assert message in json.loads(e.value.response.body)["message"]
    assert "MAAS_DEFAULT_MODEL" not in os.environ
