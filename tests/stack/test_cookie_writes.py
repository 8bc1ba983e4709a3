"""No write on a sign-in cookie alone: every POST, PUT, PATCH and DELETE route of the
service's OpenAPI document, sent as a cross-site page could send it (the hub admin's
sign-in cookie, no XSRF token, ``Sec-Fetch-Mode: no-cors``, a ``text/plain`` body), is
refused and changes nothing. The document is the list: a new write route is covered the
moment it is described, and one whose path has a parameter not named here fails until
it is classified. A change of JupyterHub version or of the service's identification
that reopened this would fail here."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import create_engine, text

# a value for each path parameter, naming things that exist (so that a refusal is not
# merely a 404)
PARAMETERS = {
    "user": "admin",
    "name": "smollm2-135m",  # a model (admin/models/{name}); an override's name too
    "slug": "cpu-standard",
    "kind": "user",
    "key_id": None,  # the admin's own key, made below
    "kernel_id": "kernel-0",
    "server_name": "cookie-test",
    "group": "cookie-team",  # a team (teams/{group}), none of whose rows may change
}
WRITES = ("post", "put", "patch", "delete")
# what a write may touch; every row of these is compared before and after
TABLES = (
    "models",
    "profiles",
    "api_keys",
    "policy_overrides",
    "audit_log",
    "user_groups",
    "teams",
    "team_members",
)


def snapshot(db_url: str) -> dict[str, list]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return {
                table: sorted(map(repr, conn.execute(text(f"SELECT * FROM {table}")).all()))  # noqa: S608 - our table names
                for table in TABLES
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def admin_browser(stack):
    """The hub admin's browser session, signed in to the MaaS portal (its cookie), and
    the id of a personal key of theirs."""
    admin = stack.user("admin")
    page = admin.session.get(f"{stack.hub_url}/services/maas/")  # the OAuth dance
    assert page.status_code == 200 and "xsrf" in page.text
    xsrf = re.search(r'"xsrf": "([^"]+)"', page.text)[1]
    r = admin.session.post(
        f"{stack.hub_url}/services/maas/api/v1/users/admin/keys",
        json={"name": "cookie test"},
        headers={"X-XSRFToken": xsrf},
    )
    assert r.status_code == 201, r.text  # with the page's token, the cookie signs in
    stack.issued_keys.append(r.json()["key"])
    return admin, r.json()["id"]


def write_operations(stack) -> list[tuple[str, str]]:
    doc = stack.api("GET", "openapi.json").json()
    return [
        (method.upper(), path)
        for path, item in sorted(doc["paths"].items())
        for method in WRITES
        if method in item
    ]


def test_every_write_route_refuses_a_cookie_without_the_xsrf_token(stack, admin_browser):
    admin, key_id = admin_browser
    values = {**PARAMETERS, "key_id": key_id}
    operations = write_operations(stack)
    assert len(operations) >= 20, operations  # the document lists the writes
    before = snapshot(stack.db_url)
    for method, path in operations:
        names = re.findall(r"{(\w+)}", path)
        unknown = [n for n in names if n not in values]
        assert not unknown, f"{method} {path}: classify its parameters {unknown} here"
        url = f"{stack.hub_url}/services/maas/api/v1{path.format(**values)}"
        r = admin.session.request(
            method,
            url,
            data=json.dumps({"name": "forged", "profile": "cpu-standard", "enabled": False}),
            headers={"Content-Type": "text/plain", "Sec-Fetch-Mode": "no-cors"},
            timeout=60,
        )
        assert r.status_code in (401, 403), (method, path, r.status_code, r.text[:200])
    assert snapshot(stack.db_url) == before
    # nor did the hub start a server for the service's start route
    servers = admin.hub_api("GET", "users/admin").json().get("servers") or {}
    assert "cookie-test" not in servers
