"""A model named as its users know it, a Hugging Face style id with a slash, on the real
stack: an admin adds it (API and ``maas``) routed to the local SmolLM2 and reaches it
by its URL-encoded path through the hub's proxy, a profile allows it, a notebook cell
calls it with the OpenAI SDK, the usage row names it, and the gateway's model route
answers for it, to the keys allowed it only."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import requests

HF_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
ENCODED = quote(HF_ID, safe="")  # HuggingFaceTB%2FSmolLM2-135M-Instruct
PROFILE = {"slug": "hf-ids", "display_name": "Hugging Face ids", "models": [HF_ID]}
# what routes the catalog's smollm2-135m to the local model, copied to the new id
BACKEND = ("provider_model", "api_base", "api_key_env", "extra_params", "mode")
BACKEND += ("context_window", "max_output_tokens")
CELL = (
    "from openai import OpenAI\n"
    f"print(OpenAI().chat.completions.create(model={HF_ID!r}, max_tokens=16, "
    "messages=[{'role': 'user', 'content': 'Say hello'}]).choices[0].message.content)"
)


@pytest.fixture(scope="module")
def hf_model(stack):
    """The id in the catalog, routed to the local SmolLM2, and a profile allowing it;
    both removed afterwards, so the rest of the session sees the catalog it knew."""
    token = stack.admin.token
    local = stack.api("GET", "admin/models/smollm2-135m", token).json()
    body = {"name": HF_ID, **{k: local[k] for k in BACKEND}}
    body |= {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}
    r = stack.api("POST", "admin/models", token, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["name"] == HF_ID
    r = stack.api("POST", "admin/profiles", token, json=PROFILE)
    assert r.status_code == 201, r.text
    stack.gateway_refreshed()
    yield body
    for path in (f"admin/profiles/{PROFILE['slug']}", f"admin/models/{ENCODED}"):
        assert stack.api("DELETE", path, token).status_code == 204


def test_an_admin_edits_and_reads_the_id_by_its_encoded_path(stack, hf_model):
    token = stack.admin.token
    r = stack.api("PATCH", f"admin/models/{ENCODED}", token, json={"description": "From HF"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == HF_ID and r.json()["description"] == "From HF"
    # %2F goes through the hub's proxy (configurable-http-proxy) as it is, and tornado
    # unquotes the matched name; the slash as it is reaches the same model
    for path in (ENCODED, HF_ID):
        r = stack.api("GET", f"admin/models/{path}", token)
        assert r.status_code == 200, (path, r.text)
        assert r.json()["name"] == HF_ID and r.json()["description"] == "From HF"
    r = stack.api("GET", "admin/models/HuggingFaceTB%2Fno-such-model", token)
    assert r.status_code == 404 and r.json()["message"] == (
        "No model named 'HuggingFaceTB/no-such-model'."
    )
    assert HF_ID in [m["name"] for m in stack.api("GET", "models", token).json()["models"]]


def test_names_that_could_break_a_path_or_a_cell_are_refused_saying_what_is_allowed(stack):
    for name in ("HuggingFaceTB//SmolLM2", "/SmolLM2", "a/../b", "Qwen 2.5", "=1+1"):
        body = {"name": name, "provider_model": "openai/x"}
        r = stack.api("POST", "admin/models", stack.admin.token, json=body)
        assert r.status_code == 400, (name, r.text)
        assert "letters, digits and . _ : @ -, in segments joined by /" in r.json()["message"]


def test_the_maas_command_takes_the_id_as_users_write_it(stack, hf_model, maas):
    r = maas("models", "edit", HF_ID, "--set", "description=Edited in a terminal", timeout=120)
    assert r.returncode == 0, r.stderr
    r = maas("models", "show", HF_ID, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["description"] == "Edited in a terminal"
    listing = maas("models", "list", timeout=120).stdout
    assert any(line.startswith(HF_ID + " ") for line in listing.splitlines()), listing


def test_a_notebook_calls_the_id_and_the_usage_row_names_it(stack, hf_model):
    user = stack.user("hugo")
    user.start_server(profile=PROFILE["slug"])
    kernel = user.start_kernel()
    key = user.execute(kernel, "import os; print(os.environ['OPENAI_API_KEY'])").strip()
    stack.issued_keys.append(key)

    # the lab extension lists it and takes it as the default for new kernels
    listed = user.server_api("GET", "jupyterlab-maas/models").json()
    assert [m["name"] for m in listed["models"]] == [HF_ID]
    r = user.server_api("PUT", "jupyterlab-maas/default-model", json={"model": HF_ID})
    assert r.status_code == 200 and r.json() == {"default": HF_ID}, r.text
    kernel = user.start_kernel()
    assert user.execute(kernel, "import os; print(os.environ['MAAS_DEFAULT_MODEL'])") == (
        HF_ID + "\n"
    )

    assert user.execute(kernel, CELL).strip()
    [row] = stack.wait_usage("hugo", 1)
    assert row.model == HF_ID and row.status_code == 200 and row.completion_tokens > 0
    assert row.cost_usd == pytest.approx(
        row.prompt_tokens * row.input_cost_per_token
        + row.completion_tokens * row.output_cost_per_token
    )
    rows = stack.api("GET", "admin/chargeback?by=model", stack.admin.token).json()["rows"]
    assert HF_ID in [r["model"] for r in rows]

    # the gateway's model route, with the id's slash as it is and encoded
    for path in (HF_ID, ENCODED):
        r = requests.get(
            f"{stack.gateway_url}/v1/models/{path}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert r.status_code == 200, (path, r.text)
        assert r.json()["id"] == HF_ID

    # a key whose profile (the default) does not allow the id
    token = user.create_token()
    other = stack.api("POST", "users/hugo/keys", token, json={"name": "default profile"})
    assert other.status_code == 201, other.text
    stack.issued_keys.append(other.json()["key"])
    assert HF_ID not in other.json()["models"]
    r = requests.get(
        f"{stack.gateway_url}/v1/models/{HF_ID}",
        headers={"Authorization": f"Bearer {other.json()['key']}"},
        timeout=30,
    )
    assert r.status_code == 403, r.text
    assert f"The model '{HF_ID}' is not allowed for profile 'cpu-standard'" in r.text
    user.stop_server()
