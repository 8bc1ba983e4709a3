"""What a JupyterHub needs to host MaaS: the custom scopes, the roles, and (on
Kubernetes) the KubeSpawner settings. One place for these facts: the local demo's
``jupyterhub_config.py`` and the zero-to-jupyterhub chart's ``hub.extraConfig`` (written
by ``infra/``) both call this module.

In z2jh's ``hub.extraConfig`` (the chart has already registered the service from
``hub.services.maas``, its token read from ``hub.existingSecret``)::

    from hub_service.hub_config import configure_kubespawner
    configure_kubespawner(c, service_url=os.environ["MAAS_SERVICE_URL"])
"""

from __future__ import annotations

from collections.abc import Iterable

CUSTOM_SCOPES = {
    "custom:maas:admin": {
        "description": "Administer MaaS: catalog, profiles, overrides, audit and chargeback",
    },
    "custom:maas:metrics": {
        "description": "Read the MaaS service's Prometheus metrics",
    },
}


# What a user's sign-in to the MaaS service (the hub's OAuth token for it) may carry,
# besides signing in; the hub grants each only to users who hold it themselves.
OAUTH_CLIENT_ALLOWED_SCOPES = [
    "custom:maas:admin",  # an admin's sign-in to the portal carries the MaaS admin scope
    "read:servers!user",  # the portal lists the user's own servers, as the user ...
    "start:servers!user",  # ... starts them with a profile ...
    "delete:servers!user",  # ... and stops them (never anyone else's)
]


def load_roles(admin_users: Iterable[str] = (), service: str = "maas") -> list[dict]:
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


def service_token(c, service: str = "maas") -> str:
    """The service's API token as the hub's configuration registered it."""
    for spec in c.JupyterHub.services:
        if spec.get("name") == service and spec.get("api_token"):
            return spec["api_token"]
    raise ValueError(
        f"the hub has no service {service!r} with an API token: register it first "
        f"(z2jh: hub.services.{service} and its apiToken in hub.existingSecret)"
    )


def resolve_authenticator(value) -> type:
    """An authenticator class from what ``c.JupyterHub.authenticator_class`` holds: a
    class, an entry point name (``dummy``, ``github``) or a dotted import path."""
    if isinstance(value, type):
        return value
    from jupyterhub.app import JupyterHub

    trait = JupyterHub.class_traits()["authenticator_class"]
    return trait.validate(None, value or trait.default_value)


def configure_kubespawner(
    c, service_url: str, service: str = "maas", profiles_ttl: float = 60.0
) -> None:
    """Everything MaaS needs in a hub that runs KubeSpawner (z2jh's ``extraConfig``):
    each user's profiles from the service (a start with another is refused), hooks
    that revoke keys as servers stop (the culler's stops too) and users are deleted,
    the custom scopes, the roles (the MaaS admins are the hub's admins) and what a
    sign-in to the service may carry."""
    from .hub_hooks import NotifyMaaS
    from .spawner import ProfileSource, kubespawner_profile_list, profile_gate

    token = service_token(c, service)
    for spec in c.JupyterHub.services:
        if spec.get("name") == service:
            spec["oauth_client_allowed_scopes"] = list(OAUTH_CLIENT_ALLOWED_SCOPES)
    # one cache of the service's profiles for the form and the check of every start
    profiles = ProfileSource(service_url, token, profiles_ttl)
    c.KubeSpawner.profile_list = kubespawner_profile_list(service_url, token, source=profiles)
    notify = NotifyMaaS(service_url, token, gate=profile_gate(profiles))
    c.KubeSpawner.pre_spawn_hook = notify.pre_spawn_hook
    c.KubeSpawner.post_stop_hook = notify.post_stop_hook
    c.JupyterHub.authenticator_class = notify.authenticator(
        resolve_authenticator(c.JupyterHub.get("authenticator_class"))
    )
    c.JupyterHub.custom_scopes = {**c.JupyterHub.get("custom_scopes", {}), **CUSTOM_SCOPES}
    admins = c.Authenticator.get("admin_users", set())
    ours = {role["name"] for role in load_roles(admins, service)}
    c.JupyterHub.load_roles = [
        *(r for r in c.JupyterHub.get("load_roles", []) if r["name"] not in ours),
        *load_roles(admins, service),
    ]
