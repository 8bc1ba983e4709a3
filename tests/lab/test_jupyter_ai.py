"""jupyter-ai from the catalog: the configuration derived from the extension's state,
the kernels' startup (a real IPython shell with jupyter-ai's magics, which .venv has),
and a real server that obtains its catalog. Jupyternaut's side, which needs
jupyter-ai-jupyternaut, runs against the real stack in tests/stack/test_jupyter_ai.py."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyterlab_maas.jupyter_ai import (
    STARTUP_FILE,
    Catalog,
    ipython_startup,
    jupyternaut_config,
    kernel_environment,
    magics_config,
)

BASE_URL = "http://gateway.test/v1"


@pytest.fixture
def environ():
    """os.environ as it was, whatever the code under test exported."""
    saved = dict(os.environ)
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # as in the stack: no fetch
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


def test_jupyternaut_offers_exactly_the_allowed_models_and_the_default():
    catalog = Catalog(BASE_URL, ("smollm2-135m", "echo-large"), "echo-large")
    config = jupyternaut_config(catalog)
    assert config["allowed_models"] == ["openai/smollm2-135m", "openai/echo-large"]
    assert config["names"] == {
        "openai/smollm2-135m": "smollm2-135m",
        "openai/echo-large": "echo-large",
    }
    assert config["initial_language_model"] == "openai/echo-large"
    assert config["model_parameters"] == {"api_base": BASE_URL}  # and no key


def test_a_default_that_is_not_allowed_is_no_default():
    config = jupyternaut_config(Catalog(BASE_URL, ("smollm2-135m",), "gpt-17"))
    assert config["initial_language_model"] is None
    assert jupyternaut_config(Catalog(None, (), None))["allowed_models"] == []


def test_the_magics_get_an_alias_per_model_at_the_gateway():
    config = magics_config(["smollm2-135m", "echo-large"], "smollm2-135m")
    assert config == {
        "initial_aliases": {
            "smollm2-135m": {
                "target": "openai/smollm2-135m",
                "api_base": None,
                "api_key_name": None,
            },
            "echo-large": {"target": "openai/echo-large", "api_base": None, "api_key_name": None},
        },
        "initial_language_model": "smollm2-135m",
    }
    assert magics_config(["smollm2-135m"], None)["initial_language_model"] is None


def test_kernels_get_the_model_names_and_the_startup_file_but_no_key():
    env = kernel_environment(Catalog(BASE_URL, ("a", "b"), "a"), "/run/startup.py")
    assert env == {"MAAS_MODELS": "a,b", "PYTHONSTARTUP": "/run/startup.py"}


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


def test_a_kernels_startup_gives_an_alias_per_model_with_no_load_ext(environ, shell, tmp_path):
    # Given the server's own startup file, and the catalog in the kernel's environment
    own = tmp_path / "mine.py"
    own.write_text("users_own_startup_ran = True\n")
    environ["MAAS_USER_PYTHONSTARTUP"] = str(own)
    environ["MAAS_MODELS"] = "smollm2-135m,echo-large"
    environ["MAAS_DEFAULT_MODEL"] = "echo-large"
    # When the kernel starts
    ipython_startup(shell.user_ns)
    # Then the user's startup ran, and %ai is there without %load_ext ...
    assert shell.user_ns["users_own_startup_ran"] is True
    assert "jupyter_ai_magic_commands" not in shell.extension_manager.loaded
    listing = shell.run_line_magic("ai", "list openai")
    assert "jupyter_ai_magic_commands" in shell.extension_manager.loaded
    # ... with an alias for each model at the gateway, and the default
    magics = shell.magics_manager.registry["AiMagics"]
    assert {name: a["target"] for name, a in magics.aliases.items()} == {
        "smollm2-135m": "openai/smollm2-135m",
        "echo-large": "openai/echo-large",
    }
    assert magics.initial_language_model == "echo-large"
    assert "* smollm2-135m:\n  - target: openai/smollm2-135m" in listing.text  # %ai list


def test_a_kernel_without_models_is_left_alone(environ, shell):
    environ.pop("MAAS_MODELS", None)
    environ.pop("MAAS_USER_PYTHONSTARTUP", None)
    ipython_startup(shell.user_ns)
    assert "ai" not in shell.magics_manager.lazy_magics


@pytest.fixture
def service_down(maas_env):
    """A MaaS service configured but unreachable: the extension keeps trying."""
    maas_env.setenv("MAAS_SERVICE_URL", "http://127.0.0.1:9/services/maas/")
    maas_env.setenv("JUPYTERHUB_API_TOKEN", "hub-token-for-tests")
    maas_env.setenv("JUPYTERHUB_USER", "alice")


async def test_a_server_that_obtains_its_catalog_configures_kernels_for_jupyter_ai(
    environ, service_down, jp_serverapp
):
    extension = jp_serverapp.web_app.settings["maas_extension"]
    key = "sk-maas-" + "k" * 43
    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    # When the extension obtains its key and catalog
    extension.apply(
        {
            "id": "key-1",
            "key": key,
            "base_url": BASE_URL,
            "models": ["smollm2-135m", "echo-large"],
            "expires_at": expires.isoformat(),
        }
    )
    # Then new kernels get the models, the default and the startup file ...
    startup = os.path.join(jp_serverapp.runtime_dir, STARTUP_FILE)
    assert environ["MAAS_MODELS"] == "smollm2-135m,echo-large"
    assert environ["MAAS_DEFAULT_MODEL"] == "smollm2-135m"
    assert environ["PYTHONSTARTUP"] == startup
    # ... which holds no key
    with open(startup, encoding="utf-8") as f:
        assert key not in f.read()
    # And a new default reaches kernels too
    extension.set_default_model("echo-large")
    assert environ["MAAS_DEFAULT_MODEL"] == "echo-large"
