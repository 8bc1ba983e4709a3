# JupyterHub configuration of the local demo: the hub, the MaaS service, the LiteLLM
# gateway and SmolLM2, all on 127.0.0.1. Started by `python -m hub_service.local`.
import os
import sys
from pathlib import Path

from jupyterhub.auth import DummyAuthenticator

from hub_service.hub_config import CUSTOM_SCOPES, OAUTH_CLIENT_ALLOWED_SCOPES, load_roles
from hub_service.hub_hooks import NotifyMaaS
from hub_service.hublog import quiet_service_polls
from hub_service.local import HERE, LocalSettings, kept_secret, smollm2_server_command
from hub_service.spawner import (
    ProfileSource,
    options_from_form,
    profile_gate,
    profiles_options_form,
)

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

# Any user name with the shared password (DummyAuthenticator, below, telling the MaaS
# service of deleted users); "admin" is a hub admin.
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
if os.geteuid() == 0:
    c.Spawner.args = ["--allow-root"]
# The spawn form offers the service's profiles and records the chosen slug, which the
# server's key then carries. The hub reads them with the service's own token (kept in
# the state directory, so a restarted hub and the running service still agree).
service_token = kept_secret(state, "maas-service-token", "MAAS_LOCAL_SERVICE_TOKEN", 32)
# The hub tells the MaaS service at once when a server stops (the culler's stops too)
# or a user is deleted: their keys are revoked now, not at the service's next poll.
# Each user is offered, and may start, only the profiles open to their hub groups: the
# same cache of the service's profiles serves the form and the check of every start.
service_url = f"{settings.service_url}/services/maas/"
profiles = ProfileSource(
    service_url, service_token, ttl=float(os.environ.get("MAAS_LOCAL_PROFILES_TTL", "60"))
)
notify = NotifyMaaS(service_url, service_token, gate=profile_gate(profiles))
c.Spawner.pre_spawn_hook = notify.pre_spawn_hook
c.Spawner.post_stop_hook = notify.post_stop_hook
c.JupyterHub.authenticator_class = notify.authenticator(DummyAuthenticator)
c.Spawner.options_form = profiles_options_form(service_url, service_token, source=profiles)
c.Spawner.options_from_form = options_from_form
c.Spawner.environment = {
    # where the lab extension asks for this server's key
    "MAAS_SERVICE_URL": f"{settings.service_url}/services/maas/",
    "PATH": f"{bindir}:{os.environ.get('PATH', '')}",
    # the LiteLLM SDK in notebooks: use its bundled cost map, no fetch from the internet
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
}

service_env = {
    "MAAS_DB_URL": settings.db_url,
    "MAAS_LOCAL_STATE_DIR": str(state),
    "HOME": str(state),
    "PATH": f"{bindir}:{os.environ.get('PATH', '')}",
}
for name, value in os.environ.items():
    if name.startswith("MAAS_") and name != "MAAS_LOCAL_PASSWORD":
        service_env.setdefault(name, value)

c.JupyterHub.services = [
    {
        "name": "maas",
        "url": settings.service_url,
        "api_token": service_token,
        "command": logged(
            "maas", [python, "-m", "hub_service", "--config", str(HERE / "maas_config.py")]
        ),
        "environment": service_env,
        "oauth_no_confirm": True,
        # the MaaS admin scope for admins; the user's own servers, for the portal
        "oauth_client_allowed_scopes": OAUTH_CLIENT_ALLOWED_SCOPES,
        "display": True,
    },
    {
        "name": "maas-gateway",
        "command": logged(
            "maas-gateway",
            [python, "-m", "hub_service.gateway", "--port", str(settings.gateway_port)],
        ),
        "environment": service_env,
        "display": False,
    },
    {
        "name": "smollm2",
        "command": logged("smollm2", smollm2_server_command(settings.model_port, python)),
        "environment": {"PATH": service_env["PATH"]},
        "display": False,
    },
]

# The MaaS scopes and the least-privilege roles (hub_service.hub_config, which the
# Kubernetes deployment's hub uses too); "admin" administers MaaS.
c.JupyterHub.custom_scopes = CUSTOM_SCOPES
c.JupyterHub.load_roles = load_roles(admin_users={"admin"})
