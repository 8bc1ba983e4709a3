"""docs/api.md is what ``hub_service.apidocs`` makes of the service's OpenAPI document
and the gateway's route table today, and the repository's text stands on its own: it
cites no document outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from hub_service.apidocs import COMMAND, markdown
from hub_service.gateway.routes import ROUTES as GATEWAY_ROUTES
from hub_service.openapi import implemented_methods, openapi_path
from hub_service.routes import API_ROUTES

ROOT = Path(__file__).resolve().parents[2]
API_DOC = ROOT / "docs" / "api.md"


def test_the_api_reference_is_up_to_date():
    assert API_DOC.read_text() == markdown(), f"docs/api.md is stale: run `{COMMAND}`"


def test_every_service_route_and_method_has_a_section():
    text = markdown()
    for pattern, handler in API_ROUTES:
        path = openapi_path(pattern)
        assert f"### `{path}`" in text, path
        headed = set(re.findall(rf"^#### (\w+) `{re.escape(path)}`$", text, re.M))
        assert headed == {m.upper() for m in implemented_methods(handler)}, path


def test_each_operation_says_who_may_call_it():
    text = markdown()
    operations = re.findall(r"^#### .*$", text, re.M)
    assert len(operations) == text.count("\nWho may call: ")
    assert "Who may call: MaaS admins" in text
    assert "Who may call: Anyone: no token needed." in text  # health, openapi.json


def test_the_gateway_routes_open_to_keys_are_listed():
    text = markdown()
    for route in GATEWAY_ROUTES:
        assert f"`{route.path}`" in text, route.path


def test_no_tracked_file_cites_an_outside_document():
    """Product text says the fact (where prices come from, as of when) rather than
    pointing at a document that is not in the repository."""
    outside = "SEED" + ".md"  # spelled apart so that this file does not match itself
    # the demo we grew from, cited as "the seed" with an apostrophe and s, and our
    # tracker's issues as a parenthesis ("issue" and a number): neither is in here
    also = re.compile(rb"\b[Tt]he seed'" + rb"s\b|\(issue " + rb"\d+")
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    citing = {}
    for name in filter(None, tracked):
        path = ROOT / name.decode()
        if "node_modules" in path.parts or not path.is_file():
            continue
        text = path.read_bytes()
        found = also.search(text)
        if outside.encode() in text or found:
            citing[name.decode()] = found.group().decode() if found else outside
    assert not citing, f"outside documents cited (file: what): {citing}; state the fact instead"


def test_the_configuration_page_names_every_setting():
    """docs/configuration.md has every setting of the service and the lab extension
    (the gateway's: test_gateway_settings.py)."""
    from hub_service.app import MaaSService
    from jupyterlab_maas.extension import MaaSExtension

    page = (ROOT / "docs" / "configuration.md").read_text()
    missing = [
        f"{cls.__name__}.{name}"
        for cls in (MaaSService, MaaSExtension)
        for name in sorted(cls.class_own_traits(config=True))
        if f"`{name}`" not in page and f"`{cls.__name__}.{name}`" not in page
    ]
    assert not missing, f"docs/configuration.md does not name {missing}"
