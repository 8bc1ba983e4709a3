"""The OpenAPI document describes every route the service serves, and no other."""

from __future__ import annotations

import re

from hub_service.handlers import routes
from hub_service.openapi import openapi_document

PREFIX = "/services/maas/"


def _as_openapi_path(pattern: str) -> str | None:
    api = re.escape(PREFIX) + "api/v1/"
    if not pattern.startswith(api) or pattern.endswith(".*"):
        return None
    path = pattern[len(api) :].removesuffix("/?")
    # a named group may hold one level of groups of its own: (?P<name>[^/]+(?:/[^/]+)*)
    path = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", r"{\1}", path).replace("\\.", ".")
    return "/" + path


def test_every_api_route_is_documented_and_every_documented_path_served():
    served = {p for pattern, *_ in routes(PREFIX, service=None) if (p := _as_openapi_path(pattern))}
    documented = set(openapi_document(PREFIX)["paths"])
    assert served == documented


def test_every_operation_documents_its_errors_as_json():
    doc = openapi_document(PREFIX)
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert op["summary"], (path, method)
            for code, response in op["responses"].items():
                if code.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, code)


def test_every_operation_that_takes_a_body_documents_the_413():
    doc = openapi_document(PREFIX)
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method != "parameters" and "requestBody" in op:
                assert "413" in op["responses"], (path, method)
