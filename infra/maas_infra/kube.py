"""Small pieces every workload shares: labels, a locked-down security context, the
AWS load balancer annotations, references to Secrets."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

# What the reference deployment put on every LoadBalancer Service (AWS Load Balancer
# Controller: an internet-facing NLB sending to pod IPs).
NLB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
    "service.beta.kubernetes.io/aws-load-balancer-type": "external",
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
}

# The uid the MaaS image runs as (images/Dockerfile's USER in its maas target).
MAAS_UID = 10001


def labels(app_name: str, component: str) -> dict[str, str]:
    """The recommended labels; ``app.kubernetes.io/name`` selects a component's pods."""
    return {
        "app.kubernetes.io/name": f"{app_name}-{component}",
        "app.kubernetes.io/part-of": app_name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def selector(app_name: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": f"{app_name}-{component}"}


def pod_security() -> dict:
    return {
        "runAsNonRoot": True,
        "runAsUser": MAAS_UID,
        "runAsGroup": MAAS_UID,
        "fsGroup": MAAS_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict:
    return {
        "allowPrivilegeEscalation": False,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        # The root filesystem is read-only; /tmp (LiteLLM's config file, caches) is an
        # emptyDir.
        "readOnlyRootFilesystem": True,
    }


def tmp_volume() -> tuple[dict, dict]:
    """A writable /tmp (and HOME) for a read-only root filesystem."""
    return (
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
        {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - a private emptyDir
    )


def secret_env(name: str, secret: str, key: str) -> dict:
    """An environment variable read from a Secret (never written into a pod spec)."""
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def resources(cpu: str, memory: str, cpu_limit: str | None = None, memory_limit=None) -> dict:
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit or cpu, "memory": memory_limit or memory},
    }


def http_probe(path: str, port: int, *, period: int = 10, failures: int = 3) -> dict:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def spread_over_nodes(selector_labels: dict) -> list[dict]:
    """Replicas on different nodes where the scheduler can (so a node's loss takes one)."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector_labels},
        }
    ]


def keep_one_up(name: str, metadata: dict, selector_labels: dict, opts) -> None:
    """A PodDisruptionBudget: a drain or an upgrade never takes the last replica."""
    k8s.policy.v1.PodDisruptionBudget(
        name,
        metadata=metadata,
        spec={"minAvailable": 1, "selector": {"matchLabels": selector_labels}},
        opts=opts,
    )


def cluster_url(service: k8s.core.v1.Service, port: int) -> pulumi.Output[str]:
    """A Service's URL inside the cluster."""
    return pulumi.Output.concat(
        "http://",
        service.metadata.name,
        ".",
        service.metadata.namespace,
        f".svc.cluster.local:{port}",
    )
