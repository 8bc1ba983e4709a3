"""A server's key without a question to the hub: the hub's ``server-starting`` notice
carries the hash of the server's own token (``hub_service.starts``), and the service
then knows the server's token as the hub would. The service runs in this process, with
a stand-in for the hub's ``/user`` that records every token it is asked about."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import pytest
import requests
from inprocess import ACCESS, ServedService

NOW = dt.datetime(2026, 12, 4, 10, 0)


@pytest.fixture
def served(db_url, monkeypatch):
    service = ServedService(db_url, monkeypatch, lambda: NOW)
    hub_token = secrets.token_hex(16)  # the service's own token, which the hub's hooks use
    service.users[hub_token] = {"kind": "service", "name": "maas", "scopes": [ACCESS]}
    service.hub_token = hub_token
    yield service
    service.stop()


def call(served, method, path, token, **kwargs) -> requests.Response:
    return requests.request(
        method,
        f"http://127.0.0.1:{served.port}{served.prefix}api/v1/{path}",
        headers={"Authorization": f"token {token}"},
        timeout=30,
        **kwargs,
    )


def notice(served, event: str, user: str, token: str | None = None, **more) -> requests.Response:
    body = {"event": event, "user": user, "server_name": "", "at": NOW.isoformat(), **more}
    if event == "server-starting":
        body.update(
            profile=None,
            user_created=(NOW - dt.timedelta(days=30)).isoformat(),
            groups=["cs101"],
            admin=False,
            token_hash=hashlib.sha256(token.encode()).hexdigest() if token else None,
        )
    return call(served, "POST", "hub/events", served.hub_token, json=body)


def test_a_started_servers_token_gets_its_key_without_asking_the_hub(served):
    token = secrets.token_hex(16)  # the hub made it; its stand-in here does not know it
    assert notice(served, "server-starting", "ann", token).status_code == 200
    r = call(served, "POST", "users/ann/keys", token, json={"server_name": ""})
    assert r.status_code == 201, r.text
    assert r.json()["server_name"] == "" and r.json()["key"].startswith("sk-maas-")
    assert token not in served.asked  # not one question to the hub
    # the token speaks for its own server only, as the hub's would
    r = call(served, "POST", "users/ann/keys", token, json={"server_name": "other"})
    assert r.status_code == 403 and "its own server" in r.json()["message"]
    r = call(served, "POST", "users/bob/keys", token, json={"server_name": ""})
    assert r.status_code == 403
    r = call(served, "POST", "users/ann/keys", token, json={"name": "laptop"})
    assert r.status_code == 403  # no personal key with a server's token

    # the server stops: its token is the hub's to vouch for again (here: unknown, 401)
    assert notice(served, "server-stopped", "ann").status_code == 200
    r = call(served, "POST", "users/ann/keys", token, json={"server_name": ""})
    assert r.status_code == 401 and token in served.asked


def test_only_the_hub_registers_a_token_and_only_as_a_hash(served):
    token = secrets.token_hex(16)
    body = {"event": "server-starting", "user": "ann", "server_name": "", "at": NOW.isoformat()}
    r = call(
        served, "POST", "hub/events", served.token("ann"), json={**body, "token_hash": "0" * 64}
    )
    assert r.status_code == 403
    r = call(served, "POST", "hub/events", served.hub_token, json={**body, "token_hash": token})
    assert r.status_code == 400 and "SHA-256" in r.json()["message"]
    r = call(served, "POST", "hub/events", served.hub_token, json={**body, "groups": "cs101"})
    assert r.status_code == 400 and "groups" in r.json()["message"]


def test_a_token_the_hub_answered_for_is_not_asked_about_again(served):
    token = served.token("cleo")
    for _ in range(3):
        assert call(served, "GET", "users/cleo/keys", token).status_code == 200
    assert served.asked.count(token) == 1


def test_a_users_own_token_says_when_they_were_made(served):
    """A personal key needs the user's creation time; the hub's answer for a user's own
    token has it, so it is not asked again."""
    token = served.token("dora")
    served.users[token]["created"] = (NOW - dt.timedelta(days=3)).isoformat() + "Z"
    r = call(served, "POST", "users/dora/keys", token, json={"name": "laptop"})
    assert r.status_code == 201, r.text
    assert served.asked.count(token) == 1  # the token's own check, nothing else
