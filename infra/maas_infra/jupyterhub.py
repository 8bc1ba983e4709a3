"""JupyterHub from the zero-to-jupyterhub chart (pinned), with the MaaS service
registered, its token and the hub's other secrets in a Secret of our own
(``hub.existingSecret``), never in the chart's values."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from .exposure import Exposure, load_balancer_address
from .hub_values import SERVICE_NAME, jupyterhub_values, secret_env_key
from .kube import NLB_ANNOTATIONS, labels


def hub_api_url(namespace: str) -> str:
    """The hub's REST API inside the cluster (z2jh's Service ``hub``, port 8081)."""
    return f"http://hub.{namespace}.svc.cluster.local:8081/hub/api"


@dataclass
class JupyterHubArgs:
    app_name: str
    namespace: pulumi.Input[str]
    maas_namespace: str
    chart_version: str
    hub_image: pulumi.Input[str]
    notebook_image: pulumi.Input[str]
    service_url: pulumi.Input[str]
    service_port: int
    gateway_port: int
    hub_token: pulumi.Input[str]
    exposure: Exposure
    storage_class: str
    user_storage: str = "10Gi"
    admin_users: list[str] = field(default_factory=list)
    # hub groups whose <team>-admins run them as MaaS teams (docs/teams.md)
    teams: list[str] = field(default_factory=list)
    hub_config: dict = field(default_factory=dict)
    # NAME -> secret value, in the hub's environment (e.g. OAUTH_CLIENT_SECRET)
    hub_secret_env: pulumi.Input[dict] | None = None
    image_pull_secrets: list[str] | None = None
    # users' servers (and the MaaS service) on subdomains of the exposure's host
    user_subdomains: bool = False


class JupyterHub(pulumi.ComponentResource):
    """``public_url``: where users sign in; ``api_url``: the hub's API in the cluster."""

    public_url: pulumi.Output[str]
    api_url: pulumi.Output[str]
    release_name: pulumi.Output[str]

    def __init__(self, name: str, args: JupyterHubArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("maas:jupyterhub:JupyterHub", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        secret_env = pulumi.Output.secret(args.hub_secret_env or {})
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={
                "name": f"{args.app_name}-hub",
                "namespace": args.namespace,
                "labels": labels(args.app_name, "hub"),
            },
            string_data=pulumi.Output.all(pulumi.Output.secret(args.hub_token), secret_env).apply(
                lambda a: {
                    f"hub.services.{SERVICE_NAME}.apiToken": a[0],
                    **{secret_env_key(k): str(v) for k, v in a[1].items()},
                }
            ),
            opts=child,
        )
        values = pulumi.Output.all(
            secret.metadata.name,
            args.hub_image,
            args.notebook_image,
            args.service_url,
            # only the names of the secret variables: their values stay in the Secret
            secret_env.apply(lambda env: sorted(env)),
        ).apply(
            lambda a: jupyterhub_values(
                app_name=args.app_name,
                maas_namespace=args.maas_namespace,
                existing_secret=a[0],
                hub_image=a[1],
                notebook_image=a[2],
                service_url=a[3],
                hub_secret_env=a[4],
                service_port=args.service_port,
                gateway_port=args.gateway_port,
                storage_class=args.storage_class,
                user_storage=args.user_storage,
                admin_users=args.admin_users,
                teams=args.teams,
                hub_config=args.hub_config,
                on_aws=args.exposure.on_aws,
                load_balancer_annotations=NLB_ANNOTATIONS,
                host=args.exposure.host,
                ingress_class=args.exposure.ingress_class,
                ingress_annotations=args.exposure.ingress_annotations,
                image_pull_secrets=args.image_pull_secrets or [],
                user_subdomains=args.user_subdomains,
            )
        )
        release = k8s.helm.v3.Release(
            f"{name}-release",
            name="jupyterhub",
            chart="jupyterhub",
            version=args.chart_version,
            repository_opts={"repo": "https://hub.jupyter.org/helm-chart/"},
            namespace=args.namespace,
            values=values,
            # the hub's image pulls and the user scheduler's start take a while
            timeout=900,
            atomic=True,
            opts=child,
        )
        self.release_name = release.name
        self.api_url = release.namespace.apply(hub_api_url)
        if args.exposure.host:
            self.public_url = pulumi.Output.from_input(f"https://{args.exposure.host}")
        else:
            proxy = k8s.core.v1.Service.get(
                f"{name}-proxy-public",
                pulumi.Output.concat(release.namespace, "/proxy-public"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[release]),
            )
            self.public_url = proxy.status.apply(
                lambda s: (
                    f"http://{load_balancer_address(s)}"
                    if load_balancer_address(s)
                    else "(load balancer pending: kubectl get svc proxy-public)"
                )
            )
        self.register_outputs(
            {"publicUrl": self.public_url, "apiUrl": self.api_url, "release": self.release_name}
        )
