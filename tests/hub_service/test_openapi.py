"""The OpenAPI document is derived from what the service routes and validates with: it
describes every route the service serves and no other, each route's methods are the
ones its handler answers, its path parameters are the route's groups, and its request
bodies are the field specifications the API checks. (That every answer declares all
its fields is tested against real answers in tests/stack/test_service_api.py.)"""

from __future__ import annotations

import re

import pytest

from hub_service.openapi import OPERATIONS, implemented_methods, openapi_document
from hub_service.routes import API_ROUTES, routes
from hub_service.validation import MODEL_FIELDS, OVERRIDE_FIELDS, PROFILE_FIELDS, validate

PREFIX = "/services/maas/"
DOC = openapi_document(PREFIX, API_ROUTES)


def _as_openapi_path(pattern: str) -> str | None:
    """A served pattern as the document would name it, worked out independently of
    the document's own derivation."""
    api = re.escape(PREFIX) + "api/v1/"
    if not pattern.startswith(api) or pattern.endswith(".*"):
        return None
    path = pattern[len(api) :].removesuffix("/?")
    # a named group may hold one level of groups of its own: (?P<name>[^/]+(?:/[^/]+)*)
    path = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", r"{\1}", path).replace("\\.", ".")
    return "/" + path


def test_every_api_route_is_documented_and_every_documented_path_served():
    served = {p for pattern, *_ in routes(PREFIX, service=None) if (p := _as_openapi_path(pattern))}
    assert served == set(DOC["paths"])


@pytest.mark.parametrize("pattern, handler", API_ROUTES, ids=[h.__name__ for _, h in API_ROUTES])
def test_each_route_documents_exactly_the_methods_its_handler_answers(pattern, handler):
    documented = set(DOC["paths"][_as_openapi_path(re.escape(PREFIX) + "api/v1/" + pattern)])
    assert documented - {"parameters"} == implemented_methods(handler)
    assert set(OPERATIONS[handler.__name__]) - {"parameters"} == implemented_methods(handler)


def test_path_parameters_are_the_routes_groups():
    item = DOC["paths"]["/admin/overrides/{kind}/{name}"]
    kind, name = item["parameters"]
    assert kind["schema"] == {"enum": ["group", "user"]}  # the route takes only these
    assert name["name"] == "name" and name["required"]
    for path, item in DOC["paths"].items():
        declared = [p["name"] for p in item.get("parameters", []) if p["in"] == "path"]
        assert declared == re.findall(r"{(\w+)}", path), path


@pytest.mark.parametrize(
    "schema, fields",
    [
        ("NewModel", MODEL_FIELDS),
        ("NewProfile", PROFILE_FIELDS),
        ("OverrideFields", OVERRIDE_FIELDS),
    ],
)
def test_request_bodies_are_the_field_specifications(schema, fields):
    body = DOC["components"]["schemas"][schema]
    assert set(body["properties"]) == set(fields)
    assert set(body.get("required", [])) == {n for n, f in fields.items() if f.required}
    assert body["additionalProperties"] is False  # validate() refuses unknown fields
    with pytest.raises(ValueError, match="Unknown fields"):
        validate({"no_such_field": 1}, fields, partial=True)


def test_a_field_rule_reaches_the_document():
    """Change a rule where the API checks it, and the document follows."""
    model = DOC["components"]["schemas"]["NewModel"]["properties"]
    assert model["context_window"] == {"type": ["integer", "null"], "minimum": 1}
    assert model["mode"]["enum"][0] == "chat"
    profile = DOC["components"]["schemas"]["NewProfile"]["properties"]
    assert set(profile["resources"]["properties"]) >= {"cpu_limit", "mem_limit", "gpu"}
    window = profile["budgets"]["items"]["properties"]["window"]
    assert window == {"enum": ["hour", "day", "week", "month"]}
    team = DOC["components"]["schemas"]["TeamSettings"]["properties"]
    assert team["caps"]["items"]["properties"]["window"]["enum"][-1] == "term"


def test_every_operation_documents_its_errors_as_json():
    for path, item in DOC["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert op["summary"], (path, method)
            for code, response in op["responses"].items():
                if code.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, code)


def test_every_operation_that_takes_a_body_documents_the_413():
    for path, item in DOC["paths"].items():
        for method, op in item.items():
            if method != "parameters" and "requestBody" in op:
                assert "413" in op["responses"], (path, method)


def test_the_portals_types_are_generated_from_this_document(tmp_path):
    """portal/src/schema.d.ts is what openapi-typescript makes of the document today:
    change the API and forget `npm --prefix portal run types`, and this fails."""
    import json
    import subprocess
    from pathlib import Path

    portal = Path(__file__).resolve().parents[2] / "portal"
    (tmp_path / "openapi.json").write_text(json.dumps(DOC, indent=2))
    subprocess.run(
        [
            portal / "node_modules" / ".bin" / "openapi-typescript",
            "openapi.json",
            "-o",
            "schema.d.ts",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "schema.d.ts").read_text() == (portal / "src" / "schema.d.ts").read_text()
