"""The PostgreSQL that the MaaS service and every gateway share: an external one (RDS or
any other) by URL, or by default an in-cluster cluster run by the CloudNativePG
operator (pinned chart) on persistent volumes."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .kube import labels


@dataclass
class DatabaseArgs:
    app_name: str
    namespace: pulumi.Input[str]
    # an external database: its URL (a secret); None: run one in the cluster
    url: pulumi.Input[str] | None = None
    operator_chart_version: str = ""
    install_operator: bool = True
    postgres_image: str = ""
    instances: int = 2
    storage: str = "20Gi"
    storage_class: str | None = None


class Database(pulumi.ComponentResource):
    """``secret_name``/``url_key``: the Secret (in the MaaS namespace) holding the
    database URL, which the service, the gateways and the migration Job read."""

    secret_name: pulumi.Output[str]
    url_key: str

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("maas:database:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        meta = {"namespace": args.namespace, "labels": labels(args.app_name, "database")}
        if args.url is not None:
            secret = k8s.core.v1.Secret(
                f"{name}-url",
                metadata={**meta, "name": f"{args.app_name}-database"},
                string_data={"uri": pulumi.Output.secret(args.url)},
                opts=child,
            )
            self.secret_name = secret.metadata.name
            self.url_key = "uri"
            self.register_outputs({"secretName": self.secret_name, "inCluster": False})
            return

        depends = []
        if args.install_operator:
            operator_ns = k8s.core.v1.Namespace(
                f"{name}-operator-ns", metadata={"name": "cnpg-system"}, opts=child
            )
            depends.append(
                k8s.helm.v3.Release(
                    f"{name}-operator",
                    name="cnpg",
                    chart="cloudnative-pg",
                    version=args.operator_chart_version,
                    repository_opts={"repo": "https://cloudnative-pg.github.io/charts"},
                    namespace=operator_ns.metadata.name,
                    values={"crds": {"create": True}},
                    atomic=True,
                    opts=child,
                )
            )
        cluster_name = f"{args.app_name}-db"
        storage = {"size": args.storage}
        if args.storage_class:
            storage["storageClass"] = args.storage_class
        k8s.apiextensions.CustomResource(
            f"{name}-cluster",
            api_version="postgresql.cnpg.io/v1",
            kind="Cluster",
            metadata={**meta, "name": cluster_name},
            spec={
                "instances": args.instances,
                "imageName": args.postgres_image,
                "primaryUpdateStrategy": "unsupervised",
                "storage": storage,
                # the operator creates the database, its owner and the Secret
                # <cluster>-app whose "uri" key is the connection URL
                "bootstrap": {"initdb": {"database": "maas", "owner": "maas"}},
                "resources": {
                    "requests": {"cpu": "250m", "memory": "512Mi"},
                    "limits": {"cpu": "1", "memory": "1Gi"},
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        self.secret_name = pulumi.Output.from_input(f"{cluster_name}-app")
        self.url_key = "uri"
        self.register_outputs({"secretName": self.secret_name, "inCluster": True})
