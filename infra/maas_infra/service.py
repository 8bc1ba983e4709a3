"""The MaaS service (catalog, profiles, keys, budgets, usage, portal): a Deployment of
``python -m hub_service`` behind a ClusterIP Service, registered with the hub as an
external service; the hub's proxy serves it to users at ``/services/<name>/``. Its
schema is migrated once per deploy by a Job, before the replicas roll."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from .config import GATEWAY_BY_NAME
from .hub_values import service_host
from .kube import (
    cluster_url,
    container_security,
    http_probe,
    keep_one_up,
    labels,
    pod_security,
    resources,
    secret_env,
    selector,
    spread_over_nodes,
    tmp_volume,
)

PORT = 10101


@dataclass
class MaaSServiceArgs:
    app_name: str
    namespace: pulumi.Input[str]
    image: pulumi.Input[str]
    hub_api_url: pulumi.Input[str]
    gateway_url: pulumi.Input[str]
    # the gateway as people outside the cluster reach it (the portal's snippets)
    gateway_public_url: pulumi.Input[str]
    # the service's hub API token and the portal's cookie secret (both secrets)
    hub_token: pulumi.Input[str]
    cookie_secret: pulumi.Input[str]
    database_secret: pulumi.Input[str]
    database_key: str
    service_name: str = "maas"
    replicas: int = 2
    image_pull_secrets: list[str] | None = None
    # the host users sign in at, when users' servers (and this service) have subdomains
    # of it: the service's OAuth then runs on its own subdomain
    subdomain_host: str | None = None
    # the gateway's settings (maas:gateway, by name); the service gets those it shares
    # (backend hosts and key variables: it checks the catalog by the same rule; the
    # budget time zone: it reports windows on the same clock)
    gateway_settings: dict = field(default_factory=dict)


def prefix(service_name: str) -> str:
    """Where the hub's proxy serves the service."""
    return f"/services/{service_name}/"


def oauth_env(service_prefix: str, subdomain_host: str | None) -> list[dict]:
    """Where the hub sends a user back after sign-in, and where the hub is: on the one
    origin by default; with subdomains, the service's own origin (the callback the hub
    registers for it) and the hub's host (where sign-in happens)."""
    if not subdomain_host:
        return [
            {"name": "JUPYTERHUB_OAUTH_CALLBACK_URL", "value": f"{service_prefix}oauth_callback"}
        ]
    origin = f"https://{service_host(subdomain_host)}"
    return [
        {
            "name": "JUPYTERHUB_OAUTH_CALLBACK_URL",
            "value": f"{origin}{service_prefix}oauth_callback",
        },
        {"name": "JUPYTERHUB_HOST", "value": f"https://{subdomain_host}"},
        {"name": "JUPYTERHUB_PUBLIC_URL", "value": f"{origin}/"},
    ]


class MaaSService(pulumi.ComponentResource):
    """``url``: the service inside the cluster (what the hub and the servers call)."""

    url: pulumi.Output[str]

    def __init__(
        self, name: str, args: MaaSServiceArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("maas:service:MaaSService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        lbl = labels(args.app_name, "service")
        sel = selector(args.app_name, "service")
        service_prefix = prefix(args.service_name)
        health = f"{service_prefix}api/v1/health"
        fullname = f"{args.app_name}-service"
        meta = {"name": fullname, "namespace": args.namespace, "labels": lbl}

        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=meta,
            string_data={
                "hub-token": pulumi.Output.secret(args.hub_token),
                "cookie-secret": pulumi.Output.secret(args.cookie_secret),
            },
            opts=child,
        )
        env = [
            secret_env("MAAS_DB_URL", args.database_secret, args.database_key),
            secret_env("JUPYTERHUB_API_TOKEN", secret.metadata.name, "hub-token"),
            secret_env("MAAS_COOKIE_SECRET", secret.metadata.name, "cookie-secret"),
            # what the hub would give a service it started itself (this one is external)
            {"name": "JUPYTERHUB_SERVICE_NAME", "value": args.service_name},
            {"name": "JUPYTERHUB_SERVICE_URL", "value": f"http://0.0.0.0:{PORT}"},
            {"name": "JUPYTERHUB_SERVICE_PREFIX", "value": service_prefix},
            {"name": "JUPYTERHUB_API_URL", "value": args.hub_api_url},
            {"name": "JUPYTERHUB_BASE_URL", "value": "/"},
            {"name": "JUPYTERHUB_CLIENT_ID", "value": f"service-{args.service_name}"},
            *oauth_env(service_prefix, args.subdomain_host),
            {"name": "MAAS_GATEWAY_URL", "value": args.gateway_url},
            {
                "name": "MAAS_GATEWAY_PUBLIC_URL",
                # empty while the load balancer has no address: the portal then shows
                # the in-cluster URL
                "value": pulumi.Output.from_input(args.gateway_public_url).apply(
                    lambda url: url if url.startswith("http") else ""
                ),
            },
            # the migration Job migrates; replicas wait for the schema
            {"name": "MAAS_MIGRATE_AT_START", "value": "0"},
            {"name": "HOME", "value": "/tmp"},  # noqa: S108 - a private emptyDir
        ]
        for setting_name, value in sorted(args.gateway_settings.items()):
            setting = GATEWAY_BY_NAME[setting_name]
            if setting.shared:
                env.append({"name": setting.env, "value": setting.format(value)})
        volume, mount = tmp_volume()
        pod_common = {
            "securityContext": pod_security(),
            "volumes": [volume],
            "imagePullSecrets": [{"name": s} for s in args.image_pull_secrets or []],
        }

        def container(name: str, command: list[str], **extra) -> dict:
            return {
                "name": name,
                "image": args.image,
                "command": command,
                "env": env,
                "securityContext": container_security(),
                "volumeMounts": [mount],
                **extra,
            }

        # One Job per image: a deploy that brings a new image migrates once, and the
        # Deployment below rolls only after the Job has succeeded.
        job = k8s.batch.v1.Job(
            f"{name}-migrate",
            metadata={
                "name": pulumi.Output.from_input(args.image).apply(
                    lambda ref: (
                        f"{fullname}-migrate-{hashlib.sha256(ref.encode()).hexdigest()[:10]}"
                    )
                ),
                "namespace": args.namespace,
                "labels": labels(args.app_name, "migrate"),
            },
            spec={
                "backoffLimit": 4,
                "activeDeadlineSeconds": 900,
                "template": {
                    "metadata": {"labels": labels(args.app_name, "migrate")},
                    "spec": {
                        **pod_common,
                        "restartPolicy": "OnFailure",
                        "containers": [
                            container(
                                "migrate",
                                ["python", "-m", "hub_service", "--migrate-only"],
                                resources=resources("100m", "256Mi", "1", "512Mi"),
                            )
                        ],
                    },
                },
            },
            opts=child,
        )
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta,
            spec={
                "replicas": args.replicas,
                "selector": {"matchLabels": sel},
                "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {
                    "metadata": {"labels": lbl},
                    "spec": {
                        **pod_common,
                        "containers": [
                            container(
                                "maas",
                                ["python", "-m", "hub_service"],
                                ports=[{"name": "http", "containerPort": PORT}],
                                resources=resources("200m", "384Mi", "1", "768Mi"),
                                readinessProbe=http_probe(health, PORT),
                                livenessProbe=http_probe(health, PORT, period=20, failures=6),
                                # a replica listens once the schema is there: up to
                                # MAAS_SCHEMA_WAIT_TIMEOUT after the Job (600 s)
                                startupProbe=http_probe(health, PORT, period=5, failures=130),
                            )
                        ],
                        "topologySpreadConstraints": spread_over_nodes(sel),
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[job]),
        )
        keep_one_up(
            f"{name}-pdb",
            meta,
            sel,
            child,
        )
        svc = k8s.core.v1.Service(
            f"{name}-svc",
            metadata=meta,
            spec={
                "type": "ClusterIP",
                "selector": sel,
                "ports": [{"name": "http", "port": PORT, "targetPort": "http"}],
                # JupyterHub's OAuth client keeps a sign-in's state (its PKCE verifier)
                # in the memory of the replica that began it: the hub's proxy (one
                # client address) must come back to that replica for the callback
                "sessionAffinity": "ClientIP",
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment]),
        )
        self.url = cluster_url(svc, PORT)
        self.register_outputs({"url": self.url})
