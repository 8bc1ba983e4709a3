"""The gateway: LiteLLM behind our gate (``python -m hub_service.gateway``) as a plain
Deployment with a HorizontalPodAutoscaler and a PodDisruptionBudget. Backend API keys
reach it only from a Secret, as ``MAAS_BACKEND_<NAME>`` variables. Its settings
(``maas:gateway``) are ``--MaaSGateway.<name>=`` arguments, except the secret ones
(metrics token, alert webhook), which are variables read from a Secret.

Why not LiteLLM's Helm chart: it runs LiteLLM's own entry point, database migrations
(Prisma) and master-key setup, none of which we use; our image's entry point is our
gate in front of LiteLLM, and our policy (probes, security context, autoscaling,
disruption budget, where keys come from) is easier to state and test as our own
Deployment than as overrides of another chart's templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .config import BACKEND_PREFIX, GATEWAY_BY_NAME
from .exposure import Exposure, public_url
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

PORT = 4000


def setting_args(settings: dict[str, Any]) -> list[str]:
    """``MaaSGateway``'s command-line arguments for plain ``settings`` (a list is one
    argument an item, as traitlets takes a list)."""
    args = []
    for name, value in sorted(settings.items()):
        assert not GATEWAY_BY_NAME[name].secret, name  # never in a pod's command line
        items = value if isinstance(value, list) else [value]
        args += [f"--MaaSGateway.{name}={item}" for item in items]
    return args


def secret_key(name: str) -> str:
    """The key in the gateway's Secret of the secret setting ``name``."""
    return name.replace("_", "-")


@dataclass
class GatewayArgs:
    app_name: str
    namespace: pulumi.Input[str]
    image: pulumi.Input[str]
    database_secret: pulumi.Input[str]
    database_key: str
    exposure: Exposure
    # secret settings (MaaSGateway.<name> -> value): metrics_token at least
    secrets: dict[str, pulumi.Input[str]]
    # the other settings (MaaSGateway.<name> -> value), as maas:gateway gives them
    settings: dict[str, Any] = field(default_factory=dict)
    # NAME -> API key (secret); the gateway sees MAAS_BACKEND_NAME
    backend_keys: pulumi.Input[dict] | None = None
    min_replicas: int = 2
    max_replicas: int = 10
    target_cpu_percent: int = 70
    image_pull_secrets: list[str] | None = None


class Gateway(pulumi.ComponentResource):
    """``url``: the gateway inside the cluster (what kernels use, without /v1);
    ``public_url``: from outside (personal keys), through a load balancer or Ingress."""

    url: pulumi.Output[str]
    public_url: pulumi.Output[str]

    def __init__(self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("maas:gateway:Gateway", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        lbl = labels(args.app_name, "gateway")
        sel = selector(args.app_name, "gateway")
        fullname = f"{args.app_name}-gateway"
        meta = {"name": fullname, "namespace": args.namespace, "labels": lbl}

        backends = k8s.core.v1.Secret(
            f"{name}-backends",
            metadata={**meta, "name": f"{fullname}-backends"},
            string_data=pulumi.Output.secret(args.backend_keys or {}).apply(
                lambda keys: {str(k): str(v) for k, v in keys.items()}
            ),
            opts=child,
        )
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=meta,
            string_data={
                secret_key(name): pulumi.Output.secret(value)
                for name, value in sorted(args.secrets.items())
            },
            opts=child,
        )
        volume, mount = tmp_volume()
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta,
            spec={
                # the autoscaler owns the count from here on
                "replicas": args.min_replicas,
                "selector": {"matchLabels": sel},
                "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {
                    "metadata": {"labels": lbl},
                    "spec": {
                        "securityContext": pod_security(),
                        "imagePullSecrets": [{"name": s} for s in args.image_pull_secrets or []],
                        "volumes": [volume],
                        # LiteLLM drains in-flight streams on SIGTERM
                        "terminationGracePeriodSeconds": 60,
                        "containers": [
                            {
                                "name": "gateway",
                                "image": args.image,
                                "command": [
                                    "python",
                                    "-m",
                                    "hub_service.gateway",
                                    "--host",
                                    "0.0.0.0",  # noqa: S104 - a pod's own interface
                                    "--port",
                                    str(PORT),
                                    *setting_args(args.settings),
                                ],
                                "env": [
                                    secret_env(
                                        "MAAS_DB_URL", args.database_secret, args.database_key
                                    ),
                                    *(
                                        secret_env(
                                            GATEWAY_BY_NAME[name].env,
                                            secret.metadata.name,
                                            secret_key(name),
                                        )
                                        for name in sorted(args.secrets)
                                    ),
                                    {"name": "HOME", "value": "/tmp"},  # noqa: S108
                                ],
                                # each key NAME of the Secret becomes MAAS_BACKEND_NAME
                                "envFrom": [
                                    {
                                        "secretRef": {"name": backends.metadata.name},
                                        "prefix": BACKEND_PREFIX,
                                    }
                                ],
                                "ports": [{"name": "http", "containerPort": PORT}],
                                "resources": resources("500m", "768Mi", "2", "1536Mi"),
                                "readinessProbe": http_probe("/health/liveliness", PORT),
                                "livenessProbe": http_probe(
                                    "/health/liveliness", PORT, period=20, failures=6
                                ),
                                "startupProbe": http_probe(
                                    "/health/liveliness", PORT, period=5, failures=60
                                ),
                                "securityContext": container_security(),
                                "volumeMounts": [mount],
                            }
                        ],
                        "topologySpreadConstraints": spread_over_nodes(sel),
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["spec.replicas"]),
        )
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata=meta,
            spec={
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": deployment.metadata.name,
                },
                "minReplicas": args.min_replicas,
                "maxReplicas": args.max_replicas,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {
                                "type": "Utilization",
                                "averageUtilization": args.target_cpu_percent,
                            },
                        },
                    }
                ],
            },
            opts=child,
        )
        keep_one_up(f"{name}-pdb", meta, sel, child)
        svc = k8s.core.v1.Service(
            f"{name}-svc",
            metadata={**meta, "annotations": args.exposure.service_annotations},
            spec={
                "type": args.exposure.service_type,
                "selector": sel,
                "ports": [{"name": "http", "port": PORT, "targetPort": "http"}],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment]),
        )
        self.url = cluster_url(svc, PORT)
        if args.exposure.host:
            k8s.networking.v1.Ingress(
                f"{name}-ingress",
                metadata={**meta, "annotations": args.exposure.ingress_annotations},
                spec=args.exposure.ingress_spec(fullname, fullname, PORT),
                opts=child,
            )
        self.public_url = public_url(svc, args.exposure, PORT)
        self.register_outputs({"url": self.url, "publicUrl": self.public_url})
