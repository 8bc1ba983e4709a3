"""jupyter-ai from the catalog, on the real local stack: a user whose server has
jupyter-ai 3 (Jupyternaut, its chat persona, and the %ai magics) gets them configured
from the MaaS catalog with nothing typed: Jupyternaut's models are the profile's, its
default is MAAS_DEFAULT_MODEL, a chat message reaches the gateway as that user, and each
allowed model has a magic alias.

Jupyternaut is installed for this user only: scripts/setup.sh puts it (pinned in
tests/lab/jupyter_ai_requirements.txt) in .venv/jupyter-ai-site, which this user's
server configuration puts first on its path and whose server extensions it enables. The
other tests' servers do without it (it costs seconds of imports at every start, and
its pins would move .venv's mcp)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / ".venv" / "jupyter-ai-site"
EXTENSIONS = (
    "jupyter_ai_jupyternaut",
    "jupyter_ai_persona_manager",
    "jupyter_ai_router",
    "jupyterlab_chat",
)

MISSING = "jupyter-ai is missing from .venv/jupyter-ai-site: bash scripts/setup.sh"
if not (SITE / "jupyter_ai_jupyternaut").is_dir():
    if os.environ.get("CI"):
        raise RuntimeError(MISSING)
    pytest.skip(MISSING, allow_module_level=True)


@pytest.fixture(scope="module")
def jin(stack):
    """A user with jupyter-ai in their server and the profile that allows every model."""
    config = stack.state_dir / "users" / "jin" / ".jupyter"
    config.mkdir(parents=True)
    (config / "jupyter_server_config.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(SITE)!r})\n"
        f"c.ServerApp.jpserver_extensions = {dict.fromkeys(EXTENSIONS, True)!r}\n"
    )
    user = stack.user("jin")
    user.start_server(profile="gpu-ml-ai")
    yield user
    user.stop_server()


def status(user) -> dict:
    r = user.server_api("GET", "jupyterlab-maas/status")
    assert r.status_code == 200, r.text
    return r.json()


def test_jupyternauts_models_are_exactly_the_allowed_models(stack, jin):
    allowed = status(jin)["models"]
    # the gpu-ml-ai profile's: every enabled model (other tests may add some)
    assert {"echo-large", "smollm2-135m"} <= set(allowed)
    r = jin.server_api("GET", "api/jupyternaut/litellm-models")
    assert r.status_code == 200, r.text
    assert sorted(r.json()["models"]) == sorted(f"openai/{m}" for m in allowed)


def test_jupyternauts_default_is_the_default_model_and_follows_it(stack, jin):
    default = status(jin)["default_model"]
    config = jin.server_api("GET", "api/jupyternaut/config").json()
    assert config["model_provider_id"] == f"openai/{default}"
    assert config["api_keys"] == []  # no key typed, none stored

    other = next(m for m in status(jin)["models"] if m != default)
    r = jin.server_api("PUT", "jupyterlab-maas/default-model", json={"model": other})
    assert r.status_code == 200, r.text
    config = jin.server_api("GET", "api/jupyternaut/config").json()
    assert config["model_provider_id"] == f"openai/{other}"


def test_a_message_to_jupyternaut_reaches_the_gateway_as_this_user(stack, jin):
    # echo-large (LiteLLM's mock backend behind the real gateway) as the default:
    # SmolLM2's 2,048-token context is smaller than Jupyternaut's system prompt
    r = jin.server_api("PUT", "jupyterlab-maas/default-model", json={"model": "echo-large"})
    assert r.status_code == 200, r.text
    before = len(stack.usage_rows("jin"))
    r = jin.server_api("POST", "api/ai/message/Jupyternaut", json={"message": "Say hello"})
    assert r.status_code == 200, r.text
    assert "echo" in r.json()["response"], r.json()
    rows = stack.wait_usage("jin", before + 1)
    assert [(row.model, row.status_code, row.server_name) for row in rows[before:]] == [
        ("echo-large", 200, "")
    ]


def test_a_message_that_selects_a_model_outside_the_catalog_gets_the_default(stack, jin):
    r = jin.server_api("PUT", "jupyterlab-maas/default-model", json={"model": "echo-large"})
    assert r.status_code == 200, r.text
    before = len(stack.usage_rows("jin"))
    r = jin.server_api(
        "POST",
        "api/ai/message/Jupyternaut",
        json={"message": "Say hello", "metadata": {"model": {"id": "anthropic/claude-3-haiku"}}},
    )
    assert r.status_code == 200, r.text
    assert "echo" in r.json()["response"], r.json()
    rows = stack.wait_usage("jin", before + 1)
    assert [(row.model, row.status_code) for row in rows[before:]] == [("echo-large", 200)]


def test_each_allowed_model_has_a_magic_alias_with_no_load_ext(stack, jin):
    kernel = jin.start_kernel()
    stack.issued_keys.append(
        jin.execute(kernel, "import os; print(os.environ['OPENAI_API_KEY'])").strip()
    )
    listing = jin.execute(kernel, "%ai list openai", results=True)
    for model in status(jin)["models"]:
        assert f"* {model}:\n  - target: openai/{model}" in listing, listing
    before = len(stack.usage_rows("jin"))
    answer = jin.execute(kernel, "%%ai smollm2-135m -f text\nSay hello.", results=True)
    assert answer.strip() and "rror" not in answer, answer
    rows = stack.wait_usage("jin", before + 1)
    assert [(row.model, row.status_code) for row in rows[before:]] == [("smollm2-135m", 200)]
    assert rows[-1].kernel_id == kernel  # the kernel's own key, as for any other call


def test_no_key_is_written_to_the_users_files(stack, jin):
    home = stack.state_dir / "users" / "jin"
    jai_config = home / ".local/share/jupyter/jupyter_ai/config.json"
    assert json.loads(jai_config.read_text())["api_keys"] == {}
    for path in home.rglob("*"):
        if path.is_file() and "runtime" not in path.parts:  # kernels' connection files
            assert b"sk-maas-" not in path.read_bytes(), path
