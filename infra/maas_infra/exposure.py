"""How a component is reached from outside: a LoadBalancer Service (with the AWS NLB
annotations on AWS), or, when a host name is configured, a ClusterIP Service behind an
Ingress with TLS."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .kube import NLB_ANNOTATIONS


@dataclass(frozen=True)
class Exposure:
    on_aws: bool
    host: str | None = None
    ingress_class: str | None = None
    tls_cluster_issuer: str | None = None

    @property
    def service_type(self) -> str:
        return "ClusterIP" if self.host else "LoadBalancer"

    @property
    def service_annotations(self) -> dict[str, str]:
        return dict(NLB_ANNOTATIONS) if self.service_type == "LoadBalancer" and self.on_aws else {}

    @property
    def ingress_annotations(self) -> dict[str, str]:
        if self.tls_cluster_issuer:
            return {"cert-manager.io/cluster-issuer": self.tls_cluster_issuer}
        return {}

    def tls(self, secret_name: str) -> list[dict]:
        return [{"hosts": [self.host], "secretName": secret_name}]

    def ingress_spec(self, name: str, service: str, port: int) -> dict:
        spec = {
            "rules": [
                {
                    "host": self.host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": service, "port": {"number": port}}},
                            }
                        ]
                    },
                }
            ],
            "tls": self.tls(f"{name}-tls"),
        }
        if self.ingress_class:
            spec["ingressClassName"] = self.ingress_class
        return spec


def load_balancer_address(status) -> str | None:
    """The address a LoadBalancer Service got (None while it is being provisioned)."""
    balancer = getattr(status, "load_balancer", None)
    for ingress in getattr(balancer, "ingress", None) or []:
        address = ingress.hostname or ingress.ip
        if address:
            return address
    return None


def public_url(svc: k8s.core.v1.Service, exposure: Exposure, port: int) -> pulumi.Output[str]:
    """The URL users reach ``svc`` at from outside the cluster."""
    if exposure.host:
        return pulumi.Output.from_input(f"https://{exposure.host}")

    def url(status) -> str:
        address = load_balancer_address(status)
        if not address:
            return "(load balancer pending: see `kubectl get svc`)"
        return f"http://{address}" + ("" if port == 80 else f":{port}")

    return svc.status.apply(url)
