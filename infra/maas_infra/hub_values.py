"""The zero-to-jupyterhub values: plain data from plain arguments, so that the tests can
validate them against the chart's schema and run the hub configuration they produce.

What MaaS needs in the hub is not typed here: ``hub.extraConfig`` calls
``hub_service.hub_config.add_maas`` (installed in our hub image), which
reads the profiles from the service, installs the hooks that revoke keys and loads the
roles and scopes; the same module configures the local demo's hub.
"""

from __future__ import annotations

from .kube import selector

SERVICE_NAME = "maas"

# Executed by the hub after the chart's own configuration (hub.services is registered by
# then, its token read from hub.existingSecret).
# The same lines as docs/z2jh/values.yaml's, for releases that are not ours.
EXTRA_CONFIG = """\
from hub_service.hub_config import add_maas

add_maas(c)
"""


def service_host(host: str) -> str:
    """Where the hub serves the MaaS service (its portal and API) when users' servers
    have subdomains of ``host``: the service's own subdomain, as JupyterHub 5's default
    subdomain hook names it (``<name>--service.<host>``)."""
    return f"{SERVICE_NAME}--service.{host}"


def secret_env_key(name: str) -> str:
    """The key, in the hub's existing Secret, of the hub's secret variable ``name``."""
    return f"env.{name}"


def image(ref: str) -> dict[str, str]:
    """z2jh's ``{name, tag}`` of ``repository:tag@digest`` (the tag keeps the digest)."""
    digest = ""
    if "@" in ref:
        ref, digest = ref.split("@", 1)
        digest = "@" + digest
    name, _, tag = ref.rpartition(":")
    if not name or "/" in tag:  # no tag: the whole ref is the name
        name, tag = ref, "latest"
    return {"name": name, "tag": tag + digest}


def jupyterhub_values(
    *,
    app_name: str,
    maas_namespace: str,
    service_url: str,
    gateway_port: int,
    service_port: int,
    hub_image: str,
    notebook_image: str,
    existing_secret: str,
    storage_class: str,
    user_storage: str = "10Gi",
    admin_users: list[str] | tuple = (),
    teams: list[str] | tuple = (),
    hub_config: dict | None = None,
    hub_secret_env: list[str] | tuple = (),
    on_aws: bool = True,
    load_balancer_annotations: dict | None = None,
    host: str | None = None,
    ingress_class: str | None = None,
    ingress_annotations: dict | None = None,
    image_pull_secrets: list[str] | tuple = (),
    user_subdomains: bool = False,
) -> dict:
    """The chart's values: the hub (our image and extraConfig, the MaaS service
    registered with its token from ``existing_secret``), users' servers (our notebook
    image, 10Gi homes, the service's URL and never a key, egress to the gateway and
    the service only among private addresses), culling, and exposure. With
    ``user_subdomains`` (and a ``host``), every user's server, and the MaaS service,
    has its own subdomain of ``host`` (JupyterHub's ``subdomain_host``): the ingress
    takes ``*.host`` too, with one wildcard certificate."""
    service_prefix = f"{service_url.rstrip('/')}/services/{SERVICE_NAME}/"
    config = {key: dict(value) for key, value in (hub_config or {}).items()}
    if user_subdomains:
        if not host:
            raise ValueError("user_subdomains needs a host: users' servers are its subdomains")
        config.setdefault("JupyterHub", {})["subdomain_host"] = f"https://{host}"
    if admin_users:
        auth = config.setdefault("Authenticator", {})
        auth["admin_users"] = sorted({*auth.get("admin_users", []), *admin_users})

    def maas_pods(component: str) -> dict:
        """A network policy peer: that component's pods, in the MaaS namespace."""
        return {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": maas_namespace}},
            "podSelector": {"matchLabels": selector(app_name, component)},
        }

    def egress_to(component: str, port: int) -> dict:
        return {"to": [maas_pods(component)], "ports": [{"port": port, "protocol": "TCP"}]}

    values: dict = {
        "hub": {
            "image": image(hub_image),
            "existingSecret": existing_secret,
            "config": config,
            "services": {
                SERVICE_NAME: {
                    "url": service_url,
                    "display": True,
                    "oauth_no_confirm": True,
                    # what a sign-in to it may carry is set by extraConfig
                    # (hub_service.hub_config.OAUTH_CLIENT_ALLOWED_SCOPES)
                }
            },
            "extraEnv": {
                "MAAS_SERVICE_URL": service_prefix,
                # hub groups run as MaaS teams by their <team>-admins (add_maas reads it)
                **({"MAAS_TEAMS": ",".join(teams)} if teams else {}),
                **{
                    name: {
                        "valueFrom": {
                            "secretKeyRef": {"name": existing_secret, "key": secret_env_key(name)}
                        }
                    }
                    for name in hub_secret_env
                },
            },
            "extraConfig": {"10-maas": EXTRA_CONFIG},
            # the MaaS service's pods (in their own namespace) call the hub's API
            "networkPolicy": {
                "ingress": [
                    {
                        "from": [maas_pods("service")],
                        "ports": [{"port": "http"}],
                    }
                ]
            },
        },
        "singleuser": {
            "image": image(notebook_image),
            "defaultUrl": "/lab",
            "storage": {
                "type": "dynamic",
                "capacity": user_storage,
                "dynamic": {"storageClass": storage_class},
            },
            # where the lab extension asks for this server's key (with the server's
            # own hub token): the key itself is never in a pod spec
            "extraEnv": {
                "MAAS_SERVICE_URL": service_prefix,
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            },
            "networkPolicy": {
                "enabled": True,
                # kernels reach the internet and, of private addresses, only the
                # gateway and the service; never the cloud's metadata server
                "egressAllowRules": {
                    "cloudMetadataServer": False,
                    "privateIPs": False,
                    "nonPrivateIPs": True,
                    "dnsPortsKubeSystemNamespace": True,
                },
                "egress": [egress_to("gateway", gateway_port), egress_to("service", service_port)],
            },
        },
        "cull": {"enabled": True, "timeout": 3600, "every": 300, "concurrency": 10},
        "proxy": {"service": {"type": "ClusterIP" if host else "LoadBalancer"}},
        "ingress": {"enabled": False},
    }
    if image_pull_secrets:
        values["imagePullSecrets"] = list(image_pull_secrets)
    if host:
        hosts = [host, f"*.{host}"] if user_subdomains else [host]
        values["ingress"] = {
            "enabled": True,
            "hosts": hosts,
            "tls": [{"hosts": hosts, "secretName": f"{app_name}-hub-tls"}],
            "annotations": dict(ingress_annotations or {}),
        }
        if ingress_class:
            values["ingress"]["ingressClassName"] = ingress_class
    elif on_aws:
        values["proxy"]["service"]["annotations"] = dict(load_balancer_annotations or {})
    return values
