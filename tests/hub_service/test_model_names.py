"""Models are named as their users know them: Hugging Face style ids (``org/model``,
case as given) pass the name rule, the service's routes and the gateway's; what could
break a URL path, a CSV cell or a log line does not."""

from __future__ import annotations

import re

import pytest

from hub_service.gateway import routes as gateway_routes
from hub_service.openapi import openapi_document
from hub_service.routes import API_ROUTES
from hub_service.routes import routes as service_routes
from hub_service.validation import MODEL_FIELDS, OVERRIDE_FIELDS, PROFILE_FIELDS, Invalid, validate

PREFIX = "/services/maas/"
HF_IDS = [
    "Qwen/Qwen2.5-7B-Instruct",
    "HuggingFaceTB/SmolLM2-135M-Instruct",
    "meta-llama/Llama-3.1-8B-Instruct",
    "mistralai/Mistral-7B-Instruct-v0.3",
    "org/sub/model:q4@rev",
]
REFUSED = [
    "",
    "a//b",
    "/Qwen2.5",
    "Qwen/",
    "../etc",
    "a/../b",
    "a/./b",
    "..",
    "a/.hidden",
    "Qwen 2.5",
    "Qwen/Qwen2.5\n",
    "Qwen\tx",
    "a\x00b",
    "a\x7fb",
    "a%2Fb",
    "a?b",
    "a#b",
    "a\\b",
    "=HYPERLINK(1)",
    "+1",
    "-1",
    "@SUM(1)",
    "Qwen/Qwén",
    "a" * 256,
]


def model(name) -> dict:
    return {"name": name, "provider_model": "openai/m"}


@pytest.mark.parametrize("name", ["smollm2-135m", "gpt-4o", "a" * 255, *HF_IDS])
def test_a_hugging_face_style_id_is_a_valid_name_kept_as_given(name):
    assert validate(model(name), MODEL_FIELDS)["name"] == name


@pytest.mark.parametrize("name", REFUSED)
def test_names_that_could_break_a_path_a_cell_or_a_line_are_refused(name):
    with pytest.raises(Invalid) as refused:
        validate(model(name), MODEL_FIELDS)
    said = str(refused.value)
    assert "letters, digits and . _ : @ -" in said or "at most 255 characters" in said


def test_the_refusal_names_the_allowed_characters_and_the_slash():
    with pytest.raises(Invalid) as refused:
        validate(model("Qwen//Qwen2.5"), MODEL_FIELDS)
    assert str(refused.value) == (
        "name 'Qwen//Qwen2.5' is not valid: letters, digits and . _ : @ -, in segments "
        "joined by / (such as Qwen/Qwen2.5-7B-Instruct), each beginning with a letter or "
        "digit."
    )


def test_profiles_and_overrides_list_such_ids_and_refuse_the_rest():
    body = {"slug": "p", "display_name": "P", "models": HF_IDS}
    assert validate(body, PROFILE_FIELDS)["models"] == HF_IDS
    assert validate({"extra_models": HF_IDS[:1]}, OVERRIDE_FIELDS)["extra_models"] == HF_IDS[:1]
    for bad in ("a//b", "a/../b", "a b"):
        with pytest.raises(Invalid):
            validate({**body, "models": [bad]}, PROFILE_FIELDS)


def _route(path: str):
    """The service's handler for ``path`` under its API, with its (raw) path groups."""
    for pattern, handler, *_ in service_routes(PREFIX, service=None):
        if m := re.fullmatch(pattern, PREFIX + "api/v1/" + path):
            return handler.__name__, m.groupdict()
    return None


@pytest.mark.parametrize(
    "path",
    ["admin/models/Qwen%2FQwen2.5-7B-Instruct", "admin/models/Qwen/Qwen2.5-7B-Instruct"],
)
def test_the_admin_model_route_takes_the_id_encoded_or_with_its_slash(path):
    # tornado matches the raw path and unquotes the group: %2F arrives as /
    handler, groups = _route(path)
    assert handler == "AdminModelHandler"
    assert groups["name"] in ("Qwen%2FQwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct")
    assert _route(path + "/")[0] == "AdminModelHandler"


def test_the_openapi_document_says_how_to_send_an_id_with_a_slash():
    [param] = openapi_document(PREFIX, API_ROUTES)["paths"]["/admin/models/{name}"]["parameters"]
    assert param["name"] == "name" and "%2F" in param["description"]


@pytest.mark.parametrize("prefix", ["/v1", ""])
@pytest.mark.parametrize("name", ["smollm2-135m", *HF_IDS])
def test_the_gateway_route_names_the_whole_id(prefix, name):
    route, model_name = gateway_routes.match("GET", f"{prefix}/models/{name}")
    assert route.model_in == "path" and model_name == name


FIRST_ROUTE = """
import json, sys
from starlette.routing import Match
from hub_service.gateway import asgi  # noqa: F401 - registers our model route
from litellm.proxy._lazy_features import register_all_features
from litellm.proxy.proxy_server import app

register_all_features(app)  # the routes LiteLLM adds on first use come after ours too
found = {}
for path in sys.argv[1:]:
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    first = next(r for r in app.router.routes if r.matches(scope)[0] == Match.FULL)
    found[path] = getattr(getattr(first, "endpoint", None), "__name__", type(first).__name__)
print(json.dumps(found))
"""


def test_an_admitted_model_path_reaches_model_info_and_no_other_litellm_route(tmp_path):
    """The gate admits GET /models/<name> for a catalog name the key may use; LiteLLM
    must then run that name's model_info, not a route of its own whose pattern the
    path also fits (GET /{provider}/v1/files/{file_id:path} fits /models/v1/files/x: a
    provider's file, on the gateway's credentials)."""
    import json
    import os
    import subprocess
    import sys

    paths = [
        "/models/v1/files/x",
        "/models/v1/files/x/content",
        "/v1/models/Qwen/Qwen2.5-7B-Instruct",
    ]
    out = subprocess.run(
        [sys.executable, "-c", FIRST_ROUTE, *paths],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == dict.fromkeys(paths, "model_info")
