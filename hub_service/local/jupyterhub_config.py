# JupyterHub configuration of the local demo: the hub, the MaaS service, the LiteLLM
# gateway and SmolLM2, all on 127.0.0.1. Started by `python -m hub_service.local`.
import os
import shutil
import sys
from pathlib import Path

from hub_service.hub_config import add_maas
from hub_service.hublog import quiet_service_polls
from hub_service.local import HERE, LocalSettings, kept_secret, smollm2_server_command

c = get_config()  # noqa: F821 - provided by traitlets

settings = LocalSettings.from_env()
state = settings.state_dir
python = sys.executable
bindir = str(Path(python).parent)


def logged(name: str, command: list[str]) -> list[str]:
    """``command`` with its output in ``<state>/logs/<name>.log`` (and on the console
    too with the launcher's --debug); how it ended goes to ``<name>.log.exit``."""
    tee = ["--tee"] if os.environ.get("MAAS_LOCAL_DEBUG") else []
    log = str(state / "logs" / f"{name}.log")
    return [python, "-m", "hub_service.local.logged", *tee, log, "--", *command]


c.JupyterHub.bind_url = f"http://127.0.0.1:{settings.hub_port}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{settings.hub_api_port}"
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")
c.ConfigurableHTTPProxy.command = [os.path.join(bindir, "configurable-http-proxy")]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.hub_port + 1}"
# A hub that stops leaves its servers running (as on Kubernetes): restarted, it takes
# them back, and their keys and kernels keep working. Stopping the demo stops the
# servers too: the launcher terminates what the hub leaves behind.
c.JupyterHub.cleanup_servers = False
c.JupyterHub.cleanup_proxy = True
# The service's polls of users and groups (every few seconds) show only with --debug.
quiet_service_polls("maas")

# Any user name with the shared password; "admin" is a hub admin.
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ["MAAS_LOCAL_PASSWORD"]
c.Authenticator.admin_users = {"admin"}
c.Authenticator.allow_all = True

# Servers run as the hub's own user, each in a home under the state directory.
c.JupyterHub.spawner_class = "simple"
c.Spawner.cmd = logged("server-{user}-{server}", [os.path.join(bindir, "jupyterhub-singleuser")])
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.SimpleLocalProcessSpawner.home_dir_template = str(state / "users" / "{username}")
# Terminals run a plain (not login) shell: a login shell reads /etc/profile, which on
# Debian and others sets PATH anew and drops this environment's bin directory, where
# maas-key, python and the agents are
c.Spawner.args = [f"--ServerApp.terminado_settings=shell_command={shutil.which('bash') or 'sh'}"]
if os.geteuid() == 0:
    c.Spawner.args.append("--allow-root")
# The hub reads the service's profiles with the service's own token (kept in the state
# directory, so a restarted hub and the running service still agree).
service_token = kept_secret(state, "maas-service-token", "MAAS_LOCAL_SERVICE_TOKEN", 32)
c.Spawner.environment = {
    "PATH": f"{bindir}:{os.environ.get('PATH', '')}",
    # the LiteLLM SDK in notebooks: use its bundled cost map, no fetch from the internet
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
}
service_env = {
    "MAAS_LOCAL_STATE_DIR": str(state),
    "HOME": str(state),
    **{
        name: value
        for name, value in os.environ.items()
        if name.startswith("MAAS_") and name != "MAAS_LOCAL_PASSWORD"
    },
}
# MaaS as any hub adds it (hub_service.hub_config.add_maas, docs/existing-hub.md): the
# service and the gateway run by the hub, the scopes and least-privilege roles ("admin"
# administers MaaS), the spawn form's profiles (only those open to the user's groups;
# the same cache checks every start), and the hooks that revoke keys as soon as a server
# stops (the culler's stops too) or a user is deleted.
add_maas(
    c,
    db_url=settings.db_url,
    service_url=settings.service_url,
    gateway_url=settings.gateway_url,
    service_config=HERE / "maas_config.py",
    environment=service_env,
    service_token=service_token,
    profiles_ttl=float(os.environ.get("MAAS_LOCAL_PROFILES_TTL", "60")),
    command=logged,
)
c.JupyterHub.services.append(
    {
        "name": "smollm2",
        "command": logged("smollm2", smollm2_server_command(settings.model_port, python)),
        "environment": {"PATH": c.Spawner.environment["PATH"]},
        "display": False,
    }
)
