"""The API reference, ``docs/api.md``, written from what the service and the gateway
route with: ``python -m hub_service.apidocs > docs/api.md``.

The service's part is the OpenAPI document (``openapi.openapi_document`` over
``routes.API_ROUTES``) rendered as Markdown, with each route's handler docstring for its
input and who may call it read from the handler class (the admins' base class, the
service-only hub events, the user in the path, no authentication). The gateway's part is
its route table (``gateway.routes.ROUTES``). Nothing here is typed twice: a route, field
or answer added to the service appears once the document is regenerated, and
``tests/hub_service/test_api_docs.py`` fails while ``docs/api.md`` is stale.
"""

from __future__ import annotations

import inspect
import re

from .admin import ADMIN_SCOPE, AdminHandler
from .gateway import routes as gateway_routes
from .handlers import HubEventsHandler
from .openapi import openapi_document, openapi_path
from .routes import API_ROUTES
from .teams import TEAM_ADMIN_SCOPE, TeamHandler
from .web import MAX_BODY_BYTES

PREFIX = "/services/maas/"
COMMAND = "python -m hub_service.apidocs > docs/api.md"


def anchor(text: str) -> str:
    """An explicit anchor for a path or an object (GitHub's own slugs drop braces)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def docstring(handler: type) -> str:
    """A handler's docstring (what it takes), reStructuredText literals as Markdown's."""
    return (inspect.getdoc(handler) or "").replace("``", "`")


def who(path: str, operation: dict, handler: type) -> tuple[str, str]:
    """Who may call an operation, from the handler's authorization: a few words for the
    route table and a sentence for the operation."""
    if operation.get("security") == [] or not handler.require_auth:
        return "anyone", "Anyone: no token needed."
    if issubclass(handler, AdminHandler):
        return "MaaS admins", (
            f"MaaS admins: a token or sign-in with `{ADMIN_SCOPE}` (hub admins have it "
            "through the `maas-admin` role); 403 for anyone else."
        )
    if issubclass(handler, TeamHandler):
        return "the team's admins", (
            f"The team's admins: a token or sign-in with `{TEAM_ADMIN_SCOPE}!group=<the "
            f"team>` (or without a filter: every team), and MaaS admins; 403 for anyone "
            "else, 404 for a group that is no team."
        )
    if handler.authorize is HubEventsHandler.authorize:
        return "the hub (this service's token)", (
            "Only this service's own token (the hub's hooks send it); 403 for anyone else."
        )
    if "{user}" in path:
        return "the user in the path", (
            "Only the user named in the path: their sign-in or one of their tokens (a "
            "server's own token included, within the limits the details above state); 403 "
            "for anyone else."
        )
    return "any signed-in caller", (
        "Anyone the hub signs in for this service: a user, a server or a service."
    )


def describe(schema: dict) -> str:
    """A schema in a few words: its type, its limits, a link to a named object."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{anchor('object-' + name)})"
    if "anyOf" in schema:
        return " or ".join(describe(s) for s in schema["anyOf"])
    if "const" in schema:
        return f"`{schema['const']!r}`".replace("'", '"')
    if "enum" in schema:
        return "one of " + ", ".join("null" if v is None else f"`{v}`" for v in schema["enum"])
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    words = []
    for kind in kinds:
        if kind == "array" and "items" in schema:
            words.append(f"array of {describe(schema['items'])}")
        elif kind == "object" and schema.get("properties"):
            props = schema["properties"]
            if len(props) == 1:  # a list or a count in an envelope: say what it holds
                [(name, prop)] = props.items()
                words.append(f"object: `{name}`, {describe(prop)}")
            else:
                words.append("object: " + ", ".join(f"`{p}`" for p in props))
        elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            words.append(f"object of {describe(schema['additionalProperties'])}")
        elif "format" in schema and kind == "string":
            words.append(f"string ({schema['format']})")
        else:
            words.append(kind)
    text = " or ".join(words)
    limits = []
    if "minimum" in schema:
        limits.append(f"from {schema['minimum']:g}")
    if "maximum" in schema:
        limits.append(f"to {schema['maximum']:g}")
    if "maxLength" in schema:
        limits.append(f"at most {schema['maxLength']} characters")
    if "pattern" in schema:
        limits.append(f"matching `{schema['pattern']}`")
    return f"{text}, {' '.join(limits)}" if limits else text


def ref_name(schema: dict) -> str | None:
    return schema["$ref"].rsplit("/", 1)[-1] if "$ref" in schema else None


def answered(document: dict) -> list[str]:
    """The named objects that answers hold, directly or inside another."""
    components = document["components"]["schemas"]
    found: dict[str, None] = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            name = ref_name(node)
            if name and name not in found:
                found[name] = None
                walk(components[name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for item in document["paths"].values():
        for method, operation in item.items():
            if method != "parameters":
                walk(operation["responses"])
    return [name for name in components if name in found]


def fields_table(schema: dict, components: dict) -> list[str]:
    """An object's fields as a table."""
    if (name := ref_name(schema)) is not None:
        schema = components[name]
    required = set(schema.get("required", []))
    lines = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, prop in schema.get("properties", {}).items():
        lines.append(
            f"| `{name}` | {cell(describe(prop))} | {'yes' if name in required else ''} "
            f"| {cell(prop.get('description', ''))} |"
        )
    return [*lines, ""]


def parameters_table(parameters: list[dict]) -> list[str]:
    lines = ["| parameter | in | type | description |", "|---|---|---|---|"]
    for p in parameters:
        lines.append(
            f"| `{p['name']}` | {p['in']} | {cell(describe(p['schema']))} "
            f"| {cell(p.get('description', ''))} |"
        )
    return [*lines, ""]


def media(kind: str, content: dict) -> str:
    """One media type of an answer: its schema, and its description if it has one."""
    schema = content.get("schema", content)  # a text/csv answer may describe itself inline
    text = describe(schema) if kind == "application/json" else f"{describe(schema)} ({kind})"
    return f"{text}; {schema['description']}" if "description" in schema else text


def responses_list(responses: dict) -> list[str]:
    lines = []
    for status, answer in responses.items():
        kinds = [media(kind, content) for kind, content in answer.get("content", {}).items()]
        body = f": {', '.join(kinds)}" if kinds else ""
        lines.append(f"- `{status}` {answer['description']}{body}")
    return [*lines, ""]


def service_section(document: dict, api_routes: list) -> list[str]:
    handlers = {openapi_path(pattern): handler for pattern, handler in api_routes}
    components = document["components"]["schemas"]
    out = ["## Routes", "", "| path | methods | who may call |", "|---|---|---|"]
    for path, item in document["paths"].items():
        methods = [m for m in item if m != "parameters"]
        callers = dict.fromkeys(who(path, item[m], handlers[path])[0] for m in methods)
        out.append(
            f"| [`{path}`](#{anchor(path)}) | {', '.join(m.upper() for m in methods)} "
            f"| {', '.join(callers)} |"
        )
    out.append("")
    for path, item in document["paths"].items():
        handler = handlers[path]
        out += [f'<a id="{anchor(path)}"></a>', "", f"### `{path}`", "", docstring(handler), ""]
        shared = [p for p in item.get("parameters", []) if p["in"] == "path"]
        query = [p for p in item.get("parameters", []) if p["in"] == "query"]
        if shared:
            out += parameters_table(shared)
        for method, operation in item.items():
            if method == "parameters":
                continue
            out += [f"#### {method.upper()} `{path}`", "", operation["summary"] + ".", ""]
            out += [f"Who may call: {who(path, operation, handler)[1]}", ""]
            if query and method == "get":
                out += ["Query parameters:", "", *parameters_table(query)]
            if "requestBody" in operation:
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                out += ["Request body (JSON):", "", *fields_table(schema, components)]
            out += ["Answers:", "", *responses_list(operation["responses"])]
    out += ["## Objects", "", "What the answers above hold.", ""]
    for name in answered(document):
        schema = components[name]
        out += [f'<a id="{anchor("object-" + name)}"></a>', "", f"### {name}", ""]
        if "description" in schema:
            out += [schema["description"], ""]
        out += fields_table(schema, components)
    return out


def gateway_section() -> list[str]:
    """The gateway's routes open to keys, from its route table."""
    routes = gateway_routes.ROUTES
    bare = {(r.method, r.path) for r in routes}
    out = [
        "## Gateway routes",
        "",
        "What a MaaS key may call on the LiteLLM gateway (`hub_service/gateway/routes.py`); "
        "every other route answers 403 whatever the key, and a body field outside a route's "
        "list is refused with a 400 naming it. Keys go in `Authorization: Bearer sk-maas-...` "
        "(on Anthropic's routes, `x-api-key: sk-maas-...` too, and refusals come in "
        "Anthropic's error shape; the query `?beta=true` its SDK adds is taken). A count "
        "of tokens is the gateway's own estimate (`hub_service.gateway.gate.count_tokens`): "
        "it is neither reserved against a budget nor billed.",
        "",
        "| method | path | key | the model is named in | models of mode | body fields |",
        "|---|---|---|---|---|---|",
    ]
    for r in routes:
        if r.path.startswith("/v1/") and (r.method, r.path[3:]) in bare:
            path = f"`{r.path}` (also `{r.path[3:]}`)"
        elif (r.method, "/v1" + r.path) in bare:
            continue  # listed with its /v1 twin
        else:
            path = f"`{r.path}`"
        fields = ", ".join(f"`{f}`" for f in sorted(r.fields - {"model"}))
        if r.ignored:
            fields += "; taken but not passed on: " + ", ".join(f"`{f}`" for f in sorted(r.ignored))
        where = {"body": "the body's `model`", "path": "the path", None: ""}[r.model_in]
        out.append(
            f"| {r.method} | {path} | {'none' if r.public else 'yes'} "
            f"{'(Anthropic) ' if r.api == 'anthropic' else ''}| {where} "
            f"| {', '.join(sorted(r.modes)) or 'any'} | {fields} |"
        )
    out += [
        "",
        f"The gateway also answers `GET {gateway_routes.METRICS_PATH}` itself, with "
        "Prometheus metrics for `Authorization: Bearer $MAAS_METRICS_TOKEN` (no key); see "
        "[metrics.md](metrics.md).",
        "",
    ]
    return out


def markdown(prefix: str = PREFIX) -> str:
    """docs/api.md."""
    document = openapi_document(prefix, API_ROUTES)
    base = document["servers"][0]["url"]
    out = [
        "# API reference",
        "",
        f"<!-- Generated from the service's OpenAPI document and the gateway's route table "
        f"by `{COMMAND}`: edit those, not this file. -->",
        "",
        f"The MaaS service's JSON API is served under `{base}/` (as the local hub and the "
        f"Pulumi program mount the service) and described by its OpenAPI "
        f"{document['openapi']} document at `{base}/openapi.json`. "
        + document["info"]["description"],
        "",
        "Every answer is JSON unless it says otherwise; an error is "
        '`{"status": 403, "message": "..."}` with a sentence saying what to do. Request '
        f"bodies are limited to {MAX_BODY_BYTES / 2**20:g} MiB (413). "
        "Send a model's name with a `/` in a path URL-encoded or as it is.",
        "",
        *service_section(document, API_ROUTES),
        *gateway_section(),
    ]
    return "\n".join(out).rstrip("\n") + "\n"


def main() -> None:
    print(markdown(), end="")


if __name__ == "__main__":
    main()
