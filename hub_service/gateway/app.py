"""``MaaSGateway``: write LiteLLM's config from the catalog, then become the proxy.

Run by the hub as a managed service (``python -m hub_service.gateway``). The process
execs LiteLLM, so the hub's SIGTERM reaches uvicorn directly and the usage queue is
drained on the way out.

Its settings are traits (``--help-all`` lists them; ``c.MaaSGateway.<name>`` in a config
file, ``--MaaSGateway.<name>=`` on the command line), each defaulting to its
environment variable when that is set. The plugin's own (``settings.SETTINGS``) reach
the proxy through the environment, which ``start`` sets from the traits.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
import tempfile

from sqlalchemy import select
from traitlets import Bool, Float, Integer, List, TraitType, Unicode, default
from traitlets.config import Application

from .. import __version__
from ..db import CatalogModel, make_engine, make_session_factory, schema_problem
from . import settings
from .config import litellm_config
from .settings import SETTINGS, Setting


class _FromEnvironment:
    """A trait of one of ``SETTINGS``: its default is its environment variable when that
    is set, else the table's default."""

    def default(self, obj=None):
        return self.metadata["setting"].from_env(os.environ)

    def default_value_repr(self) -> str:
        s: Setting = self.metadata["setting"]
        return f"${s.env} if set, else {s.default!r}"


_KINDS = {int: Integer, float: Float, str: Unicode, list: List}


def setting_trait(s: Setting) -> TraitType:
    """The ``MaaSGateway`` trait of the setting ``s``."""
    base = _KINDS[s.type]
    kind = type(base.__name__, (_FromEnvironment, base), {})  # named as --help-all shows it
    trait = kind(Unicode(), help=s.help) if s.type is list else kind(help=s.help)
    return trait.tag(config=True, setting=s)


class MaaSGateway(Application):
    """Start the LiteLLM proxy for the models in the MaaS catalog."""

    name = "maas-gateway"
    version = __version__
    description = __doc__

    aliases = {
        "config": "MaaSGateway.config_file",
        "db-url": "MaaSGateway.db_url",
        "host": "MaaSGateway.host",
        "port": "MaaSGateway.port",
    }

    @default("log_level")
    def _default_log_level(self):
        return logging.INFO

    config_file = Unicode(
        "maas_gateway_config.py", help="The config file to load (missing is fine)."
    ).tag(config=True)

    db_url = Unicode(help="The service's database. Default: $MAAS_DB_URL.").tag(config=True)

    @default("db_url")
    def _default_db_url(self):
        return os.environ.get("MAAS_DB_URL", "sqlite:///maas.sqlite")

    extra_args = List(Unicode(), help="More arguments for the litellm command.").tag(config=True)

    host = Unicode("127.0.0.1", help="Interface the proxy listens on.").tag(config=True)

    num_workers = Integer(1, help="uvicorn workers of the proxy.").tag(config=True)

    plugin = Bool(
        True, help="Load our auth and usage plugin (False: LiteLLM alone, for benchmarks)."
    ).tag(config=True)

    port = Integer(4000, help="Port the proxy listens on.").tag(config=True)

    # The plugin's settings, one trait each, made from the table that the plugin reads
    # them back with (settings.SETTINGS, alphabetical): their names are written once.
    locals().update({s.name: setting_trait(s) for s in SETTINGS})

    def initialize(self, argv=None):
        super().initialize(argv)
        if os.path.exists(self.config_file):
            self.load_config_file(self.config_file)
        given = self.cli_config.get(type(self).__name__, {})
        on_command_line = [s for s in SETTINGS if s.secret and s.name in given]
        if on_command_line:
            s = on_command_line[0]
            self.log.critical(
                "MaaSGateway.%s is a secret: not on the command line, where any local user "
                "can read it (ps); set $%s or c.MaaSGateway.%s in %s instead.",
                s.name,
                s.env,
                s.name,
                self.config_file,
            )
            self.exit(2)
        try:
            self.settings()
        except ValueError as e:
            self.log.critical("%s", e)
            self.exit(2)

    def settings(self) -> dict:
        """The plugin's settings (by name), as resolved: command line, config file,
        environment, default."""
        return {s.name: getattr(self, s.name) for s in SETTINGS}

    def proxy_env(self, environ=None) -> dict[str, str]:
        """The environment of the LiteLLM proxy ``start`` execs: ``environ`` (this
        process's by default) with the database and every setting as resolved."""
        env = dict(os.environ if environ is None else environ)
        env["MAAS_DB_URL"] = self.db_url
        env.update(settings.to_env(self.settings()))
        # No network at run time: use the cost map shipped with LiteLLM.
        env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        env.pop("DATABASE_URL", None)  # our keys, not LiteLLM's Prisma ones
        # LiteLLM's admin UI and API documentation stay off (the gate refuses their
        # routes too).
        env.update(NO_DOCS="True", NO_REDOC="True", DISABLE_ADMIN_UI="True")
        env["MAAS_GATE"] = "1" if self.plugin else "0"  # LiteLLM alone: no gate either
        # LiteLLM refuses to start without a master key. With our plugin it is never
        # used (custom_auth decides every request), so a random one serves.
        env.setdefault("LITELLM_MASTER_KEY", "sk-" + secrets.token_hex(32))
        return env

    def read_catalog(self) -> list:
        """The catalog's models; none while the database is unreachable or its schema
        is not at this version's revision (the migration job has not run yet): the
        gateway then starts anyway, answers 503 with a sentence, and loads the models
        at its first successful refresh. The service, started with migrate_at_start off,
        waits for the same condition (``db.schema_problem``) before it serves."""
        engine = make_engine(self.db_url)
        try:
            problem = schema_problem(engine)
            if problem is None:
                with make_session_factory(engine)() as session:
                    return session.scalars(select(CatalogModel).order_by(CatalogModel.name)).all()
        except Exception as e:  # noqa: BLE001 - any failure: start, and serve 503s
            problem = f"the database cannot be read ({type(e).__name__})"
        finally:
            engine.dispose()
        self.log.warning(
            "The MaaS database is not ready (%s; the migration job, python -m hub_service "
            "--migrate-only, brings it there): starting with no models; they are loaded "
            "as soon as it is.",
            problem,
        )
        return []

    def write_config(self) -> str:
        config = litellm_config(self.read_catalog(), plugin=self.plugin)
        fd, path = tempfile.mkstemp(prefix="maas-litellm-", suffix=".yaml")
        with os.fdopen(fd, "w") as f:
            json.dump(config, f, indent=2)  # JSON is YAML
        self.log.info(
            "LiteLLM config with %d model(s) written to %s", len(config["model_list"]), path
        )
        return path

    def start(self):
        path = self.write_config()
        env = self.proxy_env()
        argv = [
            sys.executable,
            "-m",
            "hub_service.gateway.run",
            "--config",
            path,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--num_workers",
            str(self.num_workers),
            *self.extra_args,
        ]
        sys.stdout.flush()
        sys.stderr.flush()
        os.execvpe(argv[0], argv, env)  # noqa: S606 - become the proxy (see module doc)


def spawn(
    db_url: str,
    port: int,
    log_path,
    *,
    plugin: bool = True,
    env: dict | None = None,
    args: list[str] | tuple[str, ...] = (),
) -> tuple:
    """Start ``python -m hub_service.gateway`` as the hub does (with more command-line
    ``args``), logging to ``log_path``; return (the process, its URL) once it answers,
    or raise RuntimeError."""
    import subprocess

    from ..local import wait_for_url

    proc = subprocess.Popen(  # noqa: S603 - our own module
        [
            sys.executable,
            "-m",
            "hub_service.gateway",
            "--port",
            str(port),
            f"--MaaSGateway.plugin={plugin}",
            *args,
        ],
        env={**os.environ, "MAAS_DB_URL": db_url, **(env or {})},
        stdout=open(log_path, "w"),  # noqa: SIM115 - the process owns it
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    if not wait_for_url(f"{url}/health/liveliness", proc, timeout=120):
        proc.kill()
        raise RuntimeError(f"the gateway did not start; see {log_path}")
    return proc, url


main = MaaSGateway.launch_instance
