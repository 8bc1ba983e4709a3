"""What a JupyterHub needs to host MaaS, in one call from ``jupyterhub_config.py``::

    from hub_service.hub_config import add_maas

    add_maas(c)

registers the MaaS service and its gateway (run by the hub, or already running
elsewhere), the custom scopes, the least-privilege roles, the spawn form's choice of
profiles (KubeSpawner's ``profile_list`` on Kubernetes) and the hooks that revoke keys
as servers stop and users are deleted. The local demo, the zero-to-jupyterhub chart's
``hub.extraConfig`` written by ``infra/`` and hubs that are not ours all call it
(docs/existing-hub.md).
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlparse

from .local import kept_secret

CUSTOM_SCOPES = {
    "custom:maas:admin": {
        "description": "Administer MaaS: catalog, profiles, overrides, audit and chargeback",
    },
    "custom:maas:metrics": {
        "description": "Read the MaaS service's Prometheus metrics",
    },
    # filtered by group (custom:maas:team-admin!group=cs101): administer that team only
    "custom:maas:team-admin": {
        "description": "Run MaaS teams: their models, budgets, term and roster",
    },
}
TEAM_ADMIN_SCOPE = "custom:maas:team-admin"


# What a user's sign-in to the MaaS service (the hub's OAuth token for it) may carry,
# besides signing in; the hub grants each only to users who hold it themselves.
OAUTH_CLIENT_ALLOWED_SCOPES = [
    "custom:maas:admin",  # an admin's sign-in to the portal carries the MaaS admin scope
    TEAM_ADMIN_SCOPE,  # ... a team admin's, the team admin scope for their teams
    "read:servers!user",  # the portal lists the user's own servers, as the user ...
    "start:servers!user",  # ... starts them with a profile ...
    "delete:servers!user",  # ... and stops them (never anyone else's)
]


# The hub group whose members administer MaaS, besides the admins named at start: a hub
# admin adds someone to it (the admin page, the REST API) without a restart. (JupyterHub
# refuses more scopes on its own admin role, so its admin flag cannot carry them.)
ADMIN_GROUP = "maas-admins"


def load_roles(
    admin_users: Iterable[str] = (),
    service: str = "maas",
    admin_groups: Iterable[str] = (ADMIN_GROUP,),
) -> list[dict]:
    """The hub roles MaaS needs, least privilege, for ``c.JupyterHub.load_roles``."""
    access = f"access:services!service={service}"
    return [
        {
            "name": f"{service}-service",
            "description": "What the MaaS service needs from the hub",
            "scopes": [
                "list:users",  # page through users to see whose servers run ...
                "read:users",  # ... and when each was created (a deleted user's keys die)
                "read:servers",  # their servers and the options (profile) they started with
                "list:groups",  # page through groups ...
                "read:groups",  # ... and their members, for group overrides
                access,  # the hub's spawn form reads profiles with it
            ],
            "services": [service],
        },
        {
            "name": f"{service}-admin",
            "description": "MaaS administrators",
            "scopes": list(CUSTOM_SCOPES),  # catalog, budgets, metrics
            "users": sorted(admin_users),
            "groups": sorted(admin_groups),  # the hub creates them if missing
        },
        {
            "name": "user",
            "description": "Standard users, who may also use the MaaS portal and API",
            "scopes": [
                "self",  # JupyterHub's default for users
                access,  # sign in to the MaaS service
            ],
        },
        {
            "name": "server",
            "description": "Single-user servers' own tokens",
            "scopes": [
                "users:activity!user",  # JupyterHub's default: report activity
                "access:servers!server",  # JupyterHub's default: its own server
                access,  # obtain its own key from the MaaS service
            ],
        },
    ]


def team_roles(teams: Iterable[str], service: str = "maas") -> list[dict]:
    """A hub role per team: the team admin scope for that team's hub group alone, held
    by the members of the hub group ``<team>-admins`` (the hub creates both groups if
    missing; its admins then name a team's admins by adding them to that group, in the
    hub's admin page or REST API, without a restart)."""
    return [
        {
            "name": f"{service}-team-admin-{team}",
            "description": f"Admins of the MaaS team {team}",
            "scopes": [f"{TEAM_ADMIN_SCOPE}!group={team}"],
            "groups": [f"{team}-admins"],
        }
        for team in teams
    ]


def resolve_class(trait: str, value) -> type:
    """The class that ``c.JupyterHub.<trait>`` (``authenticator_class``,
    ``spawner_class``) names: a class, an entry point name (``dummy``, ``simple``,
    ``kubernetes``) or a dotted import path; JupyterHub's default when unset."""
    if isinstance(value, type):
        return value
    from jupyterhub.app import JupyterHub

    kind = JupyterHub.class_traits()[trait]
    return kind.validate(None, value or kind.default_value)


# Spawners whose servers run on the hub's own host and network: they reach a service
# and a gateway that listen on the hub's loopback address.
SAME_HOST_SPAWNERS = ("LocalProcessSpawner", "SystemdSpawner", "SudoSpawner")


def same_host(spawner_class: type) -> bool:
    """Whether this spawner's servers share the hub's host and network."""
    return any(k.__name__ in SAME_HOST_SPAWNERS for k in spawner_class.__mro__)


def is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def merge_roles(existing: list[dict], ours: list[dict]) -> list[dict]:
    """The hub's roles with ours added: a role the hub already defines (``user``,
    ``server``...) keeps its own grants and gains ours."""
    by_name = {role["name"]: dict(role) for role in existing}
    for role in ours:
        mine = by_name.setdefault(role["name"], {"name": role["name"]})
        mine.setdefault("description", role.get("description", ""))
        for field in ("scopes", "users", "services", "groups"):
            if field in role:
                mine[field] = sorted({*mine.get(field, []), *role[field]})
    return list(by_name.values())


def chain(first, then):
    """A hook that runs the hub's own ``first`` (if any), then ours."""
    if not first:
        return then

    async def hook(spawner):
        result = first(spawner)
        if hasattr(result, "__await__"):
            await result
        result = then(spawner)
        if hasattr(result, "__await__"):
            await result

    return hook


def add_maas(
    c,
    *,
    name: str = "maas",
    service_url: str = "http://127.0.0.1:10101",
    gateway_url: str = "http://127.0.0.1:4000",
    gateway_public_url: str | None = None,
    run: bool = True,
    db_url: str | None = None,
    admin_users: Iterable[str] | None = None,
    service_config: str | os.PathLike | None = None,
    environment: dict[str, str] | None = None,
    service_token: str | None = None,
    token_file: str | os.PathLike = "maas-service-token",  # noqa: S107 - a file name
    spawn_form: bool = True,
    profiles_ttl: float = 60.0,
    command: Callable[[str, list[str]], list[str]] | None = None,
    teams: Iterable[str] | None = None,
    admin_groups: Iterable[str] = (ADMIN_GROUP,),
) -> None:
    """Add MaaS to the hub that ``c`` configures (call it last in jupyterhub_config.py).

    - The service, at ``service_url`` (where the hub and users' servers reach it), and
      the gateway, at ``gateway_url`` (where the service and users' kernels reach it;
      clients outside the hub, with personal keys, at ``gateway_public_url``, by
      default the same): run by the hub, listening there,
      unless ``run=False`` (they run elsewhere) or the hub's configuration already
      registers the service (z2jh's ``hub.services``). The hub-run service's database is
      ``db_url`` (default ``maas.sqlite`` in the hub's directory), its settings
      ``service_config`` (a ``maas_config.py``), its token ``service_token``,
      ``$MAAS_SERVICE_TOKEN`` or the one kept in ``token_file``; ``environment`` is
      given to both (backend keys' variables, say).
    - ``admin_users`` administer MaaS (default: the hub's ``Authenticator.admin_users``),
      and so do the members of the hub groups ``admin_groups`` (default
      ``maas-admins``), whom a hub admin names without a restart.
    - The spawn form offers each user the profiles open to them (``spawn_form=False``
      keeps a form of the hub's own; starts are checked all the same), and servers get
      ``MAAS_SERVICE_URL``, where the lab extension asks for their key.
    - ``command(name, argv)`` may wrap the hub-run processes' commands (logging).
    - ``teams``: hub groups whose admins (the members of ``<team>-admins``) run them as
      MaaS teams (``team_roles``; a MaaS admin then makes each a team in the service);
      default: ``$MAAS_TEAMS``, comma-separated (how z2jh's ``hub.extraEnv`` gives it).

    A spawner whose servers do not share the hub's host (DockerSpawner, KubeSpawner...)
    cannot reach a loopback address: the hub then stops at start with a sentence
    saying what to pass instead (a service URL the hub's configuration registers
    itself is taken as it is).
    """
    from .hub_hooks import NotifyMaaS
    from .spawner import (
        ProfileSource,
        kubespawner_profile_list,
        options_from_form,
        profile_gate,
        profiles_options_form,
    )

    command = command or (lambda _name, argv: argv)
    services = list(c.JupyterHub.get("services", []))
    spec = next((s for s in services if s.get("name") == name), None)
    # a service the hub's configuration registers itself with its URL (z2jh's
    # hub.services) is where that configuration says; add_maas checks the URLs it adds
    registered = spec is not None and bool(spec.get("url"))
    run = run and spec is None
    if spec is None:
        spec = {"name": name}
        services.append(spec)
    spec.setdefault("url", service_url.rstrip("/"))
    if not spec.get("api_token"):
        # $MAAS_SERVICE_TOKEN, else kept beside the hub, so that a restarted hub and its
        # running service still agree
        kept = Path(token_file)
        spec["api_token"] = service_token or kept_secret(
            kept.parent, kept.name, "MAAS_SERVICE_TOKEN", 32
        )
    spec.setdefault("oauth_no_confirm", True)
    spec.setdefault("display", True)
    # the MaaS admin scope for admins; the user's own servers, for the portal
    spec["oauth_client_allowed_scopes"] = list(OAUTH_CLIENT_ALLOWED_SCOPES)
    token = spec["api_token"]
    prefix = f"{spec['url'].rstrip('/')}/services/{name}/"

    spawner_class = resolve_class("spawner_class", c.JupyterHub.get("spawner_class"))
    if not registered and not same_host(spawner_class):
        # servers ask the service for their key, and their kernels call the gateway at
        # gateway_url (the service's MAAS_GATEWAY_URL; gateway_public_url is for clients
        # outside the hub); with run=False the service's own setting decides that
        far = [u for u in (prefix, gateway_url if run else None) if u and is_loopback(u)]
        if far:
            raise SystemExit(
                f"add_maas: {spawner_class.__name__}'s servers do not run on the hub's "
                f"host, so they cannot reach {' or '.join(far)}: pass service_url and "
                "gateway_url at an address of the hub's that they reach "
                "(docs/existing-hub.md)."
            )
    if run:
        public = gateway_public_url or gateway_url
        env = {
            "MAAS_DB_URL": db_url or f"sqlite:///{Path('maas.sqlite').resolve()}",
            "MAAS_GATEWAY_URL": gateway_url,
            "MAAS_GATEWAY_PUBLIC_URL": public,
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            **(environment or {}),
        }
        config = ["--config", str(service_config)] if service_config else []
        spec["command"] = command(name, [sys.executable, "-m", "hub_service", *config])
        spec["environment"] = env
        where = urlparse(gateway_url)
        argv = [sys.executable, "-m", "hub_service.gateway"]
        argv += ["--host", where.hostname or "127.0.0.1", "--port", str(where.port or 80)]
        services.append(
            {
                "name": f"{name}-gateway",
                "command": command(f"{name}-gateway", argv),
                "environment": env,
                "display": False,
            }
        )
    c.JupyterHub.services = services

    # one cache of the service's profiles for the form and the check of every start
    profiles = ProfileSource(prefix, token, profiles_ttl)
    notify = NotifyMaaS(prefix, token, gate=profile_gate(profiles))
    section = getattr(c, spawner_class.__name__)
    kube = any(k.__name__ == "KubeSpawner" for k in spawner_class.__mro__)
    if spawn_form and kube:
        section.profile_list = kubespawner_profile_list(prefix, token, source=profiles)
    elif spawn_form:
        c.Spawner.options_form = profiles_options_form(prefix, token, source=profiles)
        c.Spawner.options_from_form = options_from_form
    for hook in ("pre_spawn_hook", "post_stop_hook"):
        # a hook the hub set on its spawner class wins over one set on Spawner: chain both
        hub_own = section.get(hook) or c.Spawner.get(hook)
        setattr(section, hook, chain(hub_own, getattr(notify, hook)))
    # a spawner class's own environment (z2jh's c.KubeSpawner) replaces Spawner's
    c.Spawner.environment = {**c.Spawner.get("environment", {}), "MAAS_SERVICE_URL": prefix}
    if "environment" in section:
        section.environment = {**section.environment, "MAAS_SERVICE_URL": prefix}
    c.JupyterHub.authenticator_class = notify.authenticator(
        resolve_class("authenticator_class", c.JupyterHub.get("authenticator_class"))
    )
    c.JupyterHub.custom_scopes = {**c.JupyterHub.get("custom_scopes", {}), **CUSTOM_SCOPES}
    admins = c.Authenticator.get("admin_users", set()) if admin_users is None else admin_users
    if teams is None:
        teams = [t.strip() for t in os.environ.get("MAAS_TEAMS", "").split(",") if t.strip()]
    c.JupyterHub.load_roles = merge_roles(
        list(c.JupyterHub.get("load_roles", [])),
        load_roles(admins, name, admin_groups) + team_roles(teams, name),
    )
