"""Several replicas of the service behind one Kubernetes Service: a cookie that one
replica sets (the portal's sign-in, signed) must be accepted by the others. They share
``MaaSService.cookie_secret`` ($MAAS_COOKIE_SECRET, from the deployment's Secret); a
lone replica without one gets a random secret. (A sign-in's OAuth state stays in the
memory of the replica that began it: infra/ routes the hub's proxy to one replica.)"""

from __future__ import annotations

import pytest
from tornado.web import create_signed_value, decode_signed_value

from hub_service.app import MaaSService


def replica(tmp_path, monkeypatch, secret: str | None) -> MaaSService:
    if secret is None:
        monkeypatch.delenv("MAAS_COOKIE_SECRET", raising=False)
    else:
        monkeypatch.setenv("MAAS_COOKIE_SECRET", secret)
    monkeypatch.setenv("MAAS_DB_URL", f"sqlite:///{tmp_path / 'maas.sqlite'}")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "the-service-token")
    monkeypatch.chdir(tmp_path)
    app = MaaSService()
    app.initialize([])
    return app


def passes(issuer: MaaSService, verifier: MaaSService) -> bool:
    name = "service-maas-oauth-state"
    value = create_signed_value(issuer.web_app.settings["cookie_secret"], name, "state-1")
    return decode_signed_value(verifier.web_app.settings["cookie_secret"], name, value) == (
        b"state-1"
    )


@pytest.mark.parametrize("secret", ["a-shared-secret-0123456789abcdef"])
def test_replicas_with_the_shared_secret_accept_each_others_cookies(tmp_path, monkeypatch, secret):
    first = replica(tmp_path, monkeypatch, secret)
    second = replica(tmp_path, monkeypatch, secret)
    assert passes(first, second) and passes(second, first)


def test_replicas_without_one_do_not(tmp_path, monkeypatch):
    first = replica(tmp_path, monkeypatch, None)
    second = replica(tmp_path, monkeypatch, None)
    assert not passes(first, second)
