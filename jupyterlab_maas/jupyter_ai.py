"""jupyter-ai from the catalog: when jupyter-ai 3 is installed beside this extension,
its chat persona Jupyternaut and its ``%ai`` magics offer exactly this server's models,
through the MaaS gateway, with nothing typed by the user.

- **Jupyternaut** (``jupyter-ai-jupyternaut``, in the server process). Its model picker
  lists the user's allowed models (as LiteLLM ids ``openai/<catalog name>``) and nothing
  else, its default ("Default" in the picker, ``model_provider_id`` in its config) is
  ``MAAS_DEFAULT_MODEL``, and whatever a message selects, it calls an allowed model at
  the extension's ``base_url``; a selection outside the list falls back to the default.
  LiteLLM takes the key from ``OPENAI_API_KEY``, which the extension sets in this
  process: no key is written to jupyter-ai's config file
  (``~/.local/share/jupyter/jupyter_ai/config.json``: only the default's id is).
  jupyter-ai 3 declares ``JupyternautExtension.allowed_models`` but does not apply it
  (its picker lists every model LiteLLM knows: jupyter-ai issue 1618), so the lock is
  two small overrides of the persona class (:func:`_lock_jupyternaut`), re-published to
  open chats whenever the catalog changes.
- **Magics** (``jupyter-ai-magic-commands``, in kernels). Kernels get ``MAAS_MODELS``
  (the allowed names) and ``PYTHONSTARTUP`` naming a small file in the server's runtime
  directory that runs :func:`ipython_startup`: an alias per allowed model
  (``%%ai smollm2-135m``), ``MAAS_DEFAULT_MODEL`` as the magics' default model, and
  ``%ai`` loaded on first use (IPython's lazy magics), so no ``%load_ext`` is needed.
  The key stays in the kernel's environment (its own ``OPENAI_API_KEY``), never in a
  file. A ``PYTHONSTARTUP`` the server had is run first.

Without jupyter-ai this does nothing but log one line.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass

JUPYTERNAUT = "jupyter_ai_jupyternaut"
MAGICS = "jupyter_ai_magic_commands"
STARTUP_FILE = "jupyterlab-maas-ipython-startup.py"
# IPython runs PYTHONSTARTUP in every kernel; a plain Python (a terminal's) runs it too,
# where it only runs the startup file the server had before.
STARTUP_SOURCE = """\
# Written by jupyterlab-maas at server start (it holds no key; deleting it is harmless):
# jupyter-ai's %ai magics get an alias for each model this server's MaaS profile allows.
try:
    from jupyterlab_maas.jupyter_ai import ipython_startup as _maas_ipython_startup
except ImportError:
    pass
else:
    _maas_ipython_startup(globals())
    del _maas_ipython_startup
"""


@dataclass(frozen=True)
class Catalog:
    """What jupyter-ai is configured from: the extension's state, without the key."""

    base_url: str | None
    models: tuple[str, ...]
    default_model: str | None

    @classmethod
    def of(cls, extension) -> Catalog:
        return cls(extension.base_url, tuple(extension.models), extension.default_model)


def litellm_id(model: str) -> str:
    """The catalog model's id for LiteLLM: an OpenAI-compatible model at the gateway."""
    return f"openai/{model}"


def jupyternaut_config(catalog: Catalog) -> dict:
    """Jupyternaut's configuration for ``catalog``: the picker's models (LiteLLM ids,
    with the catalog's names to show), the default, and the parameters every call gets
    (the gateway's URL; the key comes from ``OPENAI_API_KEY``)."""
    default = catalog.default_model if catalog.default_model in catalog.models else None
    return {
        "allowed_models": [litellm_id(m) for m in catalog.models],
        "names": {litellm_id(m): m for m in catalog.models},
        "initial_language_model": litellm_id(default) if default else None,
        "model_parameters": {"api_base": catalog.base_url} if catalog.base_url else {},
    }


def magics_config(models: list[str], default_model: str | None) -> dict:
    """``AiMagics`` traits for kernels: an alias per model (its catalog name) for the
    model at the gateway, and the default model's alias as the magics' default. No
    ``api_base`` or key name: LiteLLM reads ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``."""
    return {
        "initial_aliases": {
            m: {"target": litellm_id(m), "api_base": None, "api_key_name": None} for m in models
        },
        "initial_language_model": default_model if default_model in models else None,
    }


def kernel_environment(catalog: Catalog, startup_path: str) -> dict[str, str]:
    """What kernels need for :func:`ipython_startup` (MAAS_DEFAULT_MODEL they have)."""
    return {"MAAS_MODELS": ",".join(catalog.models), "PYTHONSTARTUP": startup_path}


def ipython_startup(namespace: dict) -> None:
    """Run in each kernel by its ``PYTHONSTARTUP`` file: the server's own startup file
    first, then, in IPython with jupyter-ai's magics installed, the aliases, the default
    and ``%ai`` loaded on first use."""
    previous = os.environ.get("MAAS_USER_PYTHONSTARTUP")
    if previous and os.path.isfile(previous):
        with open(previous, encoding="utf-8") as f:
            exec(compile(f.read(), previous, "exec"), namespace)  # noqa: S102 - the user's own
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    models = [m for m in os.environ.get("MAAS_MODELS", "").split(",") if m]
    if shell is None or not models or importlib.util.find_spec(MAGICS) is None:
        return
    config = magics_config(models, os.environ.get("MAAS_DEFAULT_MODEL"))
    shell.config.AiMagics.initial_aliases = config["initial_aliases"]
    if config["initial_language_model"]:
        shell.config.AiMagics.initial_language_model = config["initial_language_model"]
    shell.magics_manager.lazy_magics.setdefault("ai", MAGICS)


class JupyterAI:
    """Keeps jupyter-ai's configuration equal to the extension's catalog: on install
    and whenever the extension exports new values to kernels (a key obtained or
    replaced, the default model changed)."""

    def __init__(self, serverapp, extension, jupyternaut: bool, magics: bool):
        self.serverapp = serverapp
        self.extension = extension
        self.jupyternaut = jupyternaut
        self.magics = magics
        self.log = extension.log
        self.applied: Catalog | None = None
        self._export = extension._export

    def install(self) -> None:
        if self.magics:
            self._write_startup_file()
        export = self._export

        # MaaSExtension exports every change kernels must see (a key obtained or
        # replaced, a new default) through _export: the one place to follow it from
        def exported(values: dict[str, str]) -> None:
            export(values)
            if values.keys() & {"OPENAI_BASE_URL", "MAAS_DEFAULT_MODEL"}:
                self.sync()

        self.extension._export = exported
        from tornado.ioloop import IOLoop

        IOLoop.current().add_callback(self._first_sync)

    def _first_sync(self) -> None:
        """Once every extension has loaded: Jupyternaut's settings exist by now, or
        its server extension is not enabled."""
        settings = self.serverapp.web_app.settings
        if self.jupyternaut and "jupyternaut.config_manager" not in settings:
            self.log.info("jupyterlab-maas: Jupyternaut is installed but not enabled")
            self.jupyternaut = False
        self.sync()

    @property
    def startup_path(self) -> str:
        return os.path.join(self.serverapp.runtime_dir, STARTUP_FILE)

    def _write_startup_file(self) -> None:
        os.makedirs(self.serverapp.runtime_dir, mode=0o700, exist_ok=True)
        temporary = self.startup_path + f".{os.getpid()}"
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(STARTUP_SOURCE)
        os.replace(temporary, self.startup_path)
        previous = os.environ.get("PYTHONSTARTUP")
        if previous and previous != self.startup_path:
            os.environ["MAAS_USER_PYTHONSTARTUP"] = previous

    def sync(self) -> None:
        catalog = Catalog.of(self.extension)
        if catalog.base_url is None or catalog == self.applied:  # no key yet, or no change
            return
        if self.magics:
            self._export(kernel_environment(catalog, self.startup_path))
        if self.jupyternaut:
            try:
                if not self._configure_jupyternaut(catalog):
                    return  # Jupyternaut not loaded yet: the next sync does it
            except Exception as e:  # noqa: BLE001 - the key's own export must go on
                self.log.warning("jupyterlab-maas: Jupyternaut not configured: %s", e)
        self.applied = catalog
        self.log.info(
            "jupyterlab-maas: jupyter-ai offers %s (default %s)",
            ", ".join(catalog.models) or "no models",
            catalog.default_model,
        )

    def _configure_jupyternaut(self, catalog: Catalog) -> bool:
        config_manager = self.serverapp.web_app.settings.get("jupyternaut.config_manager")
        if config_manager is None:
            return False
        config = jupyternaut_config(catalog)
        _lock_jupyternaut(config)
        from jupyter_ai_jupyternaut.config import UpdateConfigRequest

        # the default that the picker's "Default" row and jupyter-ai's settings show
        config_manager.update_config(
            UpdateConfigRequest(model_provider_id=config["initial_language_model"])
        )
        managers = self.serverapp.web_app.settings.get("jupyter-ai", {}).get("persona-managers")
        for manager in (managers or {}).values():  # open chats' pickers
            for persona in manager.personas.values():
                sync = getattr(persona, "sync_model_configuration", None)
                if callable(sync):
                    sync()
        return True


_locked: dict = {}  # the catalog's Jupyternaut configuration, once locked


def _lock_jupyternaut(config: dict) -> None:
    """Jupyternaut's picker and its model list (the settings' model search) offer
    ``config["allowed_models"]`` only, and a message's model is one of them or the
    default, called at the gateway. Overrides on the persona class, made once."""
    first = not _locked
    _locked.clear()
    _locked.update(config)
    if not first:
        return
    from jupyter_ai_jupyternaut.jupyternaut import jupyternaut
    from jupyter_ai_jupyternaut.models import litellm_models_rest_api
    from jupyter_ai_persona_manager import ModelConfiguration, ModelOption

    def allowed() -> list[str]:
        return list(_locked["allowed_models"])

    def build_model_configuration(self) -> ModelConfiguration:
        options = [
            ModelOption(id=m, name=_locked["names"][m], description="MaaS catalog")
            for m in allowed()
        ]
        return ModelConfiguration(current=None, options=options, settings=[])

    def resolve_model(self) -> tuple[str | None, dict]:
        selected = self.get_model()
        model = selected if selected in allowed() else _locked["initial_language_model"]
        return model, (dict(_locked["model_parameters"]) if model else {})

    persona = jupyternaut.JupyternautPersona
    persona._build_model_configuration = build_model_configuration
    persona._resolve_model = resolve_model
    jupyternaut._litellm_chat_models = allowed
    litellm_models_rest_api._litellm_chat_models = allowed


def configure_jupyter_ai(serverapp, extension) -> JupyterAI | None:
    """Configure jupyter-ai, if installed, from ``extension``'s catalog, now and on
    every change; log one line either way."""
    found = {name: importlib.util.find_spec(name) is not None for name in (JUPYTERNAUT, MAGICS)}
    if extension.state == "disabled" or not any(found.values()):
        extension.log.info(
            "jupyterlab-maas: jupyter-ai is %s; not configuring it",
            "installed but MaaS is disabled" if any(found.values()) else "not installed",
        )
        return None
    jupyter_ai = JupyterAI(serverapp, extension, found[JUPYTERNAUT], found[MAGICS])
    jupyter_ai.install()
    extension.log.info(
        "jupyterlab-maas: jupyter-ai's %s will offer this server's models",
        " and ".join(
            what
            for what, there in (("Jupyternaut", found[JUPYTERNAUT]), ("%ai", found[MAGICS]))
            if there
        ),
    )
    return jupyter_ai
