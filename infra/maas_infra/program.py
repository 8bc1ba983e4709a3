"""The whole deployment: registry and images, database, the MaaS service and gateway,
and JupyterHub, wired together. ``run`` returns the stack's outputs."""

from __future__ import annotations

import base64
import json

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .config import POSTGRES_IMAGE, REPO, Settings
from .database import Database, DatabaseArgs
from .exposure import Exposure
from .gateway import PORT as GATEWAY_PORT
from .gateway import Gateway, GatewayArgs
from .hub_values import SERVICE_NAME, service_host
from .images import DOCKERFILES, Images, ImagesArgs
from .jupyterhub import JupyterHub, JupyterHubArgs, hub_api_url
from .registry import Registry, RegistryArgs
from .service import PORT as SERVICE_PORT
from .service import MaaSService, MaaSServiceArgs


def token(name: str, length: int = 64) -> pulumi.Output[str]:
    """A random secret kept in the stack's state (encrypted), stable across deploys."""
    return random.RandomPassword(name, length=length, special=False).result


def pull_secret(name: str, namespace, server, username, password) -> k8s.core.v1.Secret:
    """A registry credential for kubelets, for registries the nodes cannot pull from."""
    config = pulumi.Output.all(server, username, password).apply(
        lambda a: json.dumps(
            {
                "auths": {
                    a[0]: {
                        "username": a[1],
                        "password": a[2],
                        "auth": base64.b64encode(f"{a[1]}:{a[2]}".encode()).decode(),
                    }
                }
            }
        )
    )
    return k8s.core.v1.Secret(
        name,
        metadata={"name": "registry-credentials", "namespace": namespace},
        type="kubernetes.io/dockerconfigjson",
        string_data={".dockerconfigjson": pulumi.Output.secret(config)},
    )


def maas_origin(hub_url: str, user_subdomains: bool) -> str:
    """Where people reach the MaaS portal: the hub's origin, or with users' subdomains
    the service's own subdomain of it."""
    hub_url = hub_url.rstrip("/")
    if not user_subdomains:
        return hub_url
    scheme, _, host = hub_url.partition("://")
    return f"{scheme}://{service_host(host)}"


def run(s: Settings) -> dict[str, pulumi.Input]:
    maas_ns = k8s.core.v1.Namespace(
        "maas-namespace",
        metadata={"name": s.maas_namespace, "labels": {"app.kubernetes.io/part-of": s.app_name}},
    )
    hub_ns = k8s.core.v1.Namespace(
        "jupyterhub-namespace",
        metadata={
            "name": s.jupyterhub_namespace,
            "labels": {"app.kubernetes.io/part-of": s.app_name},
        },
    )

    registry = Registry(
        "registry",
        RegistryArgs(
            app_name=s.app_name,
            images=list(DOCKERFILES),
            tags=s.tags,
            existing=s.registry,
            username=s.registry_username,
            password=s.registry_password,
        ),
    )
    images = Images(
        "images",
        ImagesArgs(
            context=REPO,
            urls=registry.urls,
            server=registry.server,
            username=registry.username,
            password=registry.password,
            stack=s.stack,
            revision=s.git_revision,
        ),
    )
    # EKS nodes pull from ECR with their own role; other registries need credentials
    pull_secrets: list[str] = []
    if s.registry and s.registry_password is not None:
        for ns_name, ns in (("maas", maas_ns), ("jupyterhub", hub_ns)):
            pull_secret(
                f"{ns_name}-registry-credentials",
                ns.metadata.name,
                registry.server,
                s.registry_username or "",
                s.registry_password,
            )
        pull_secrets = ["registry-credentials"]

    database = Database(
        "database",
        DatabaseArgs(
            app_name=s.app_name,
            namespace=maas_ns.metadata.name,
            url=s.database_url,
            operator_chart_version=s.cnpg_chart_version,
            install_operator=s.install_cnpg_operator,
            postgres_image=POSTGRES_IMAGE,
            instances=s.database_instances,
            storage=s.database_storage,
            storage_class=s.storage_class,
            backup=s.database_backup,
            backup_credentials=s.database_backup_credentials,
            on_aws=s.on_aws,
            tags=s.tags,
            restore=s.database_restore,
        ),
    )
    hub_token = token("hub-service-token")
    gateway = Gateway(
        "gateway",
        GatewayArgs(
            app_name=s.app_name,
            namespace=maas_ns.metadata.name,
            image=images.refs["maas"],
            database_secret=database.secret_name,
            database_key=database.url_key,
            secrets={"metrics_token": token("gateway-metrics-token"), **s.gateway_secrets},
            settings=s.gateway_settings,
            exposure=Exposure(s.on_aws, s.gateway_domain, s.ingress_class, s.tls_cluster_issuer),
            backend_keys=s.backend_keys,
            min_replicas=s.gateway_min_replicas,
            max_replicas=s.gateway_max_replicas,
            target_cpu_percent=s.gateway_target_cpu_percent,
            image_pull_secrets=pull_secrets,
        ),
        opts=pulumi.ResourceOptions(depends_on=[database]),
    )
    service = MaaSService(
        "service",
        MaaSServiceArgs(
            app_name=s.app_name,
            namespace=maas_ns.metadata.name,
            image=images.refs["maas"],
            hub_api_url=hub_api_url(s.jupyterhub_namespace),
            gateway_url=gateway.url,
            gateway_public_url=gateway.public_url,
            hub_token=hub_token,
            cookie_secret=token("service-cookie-secret"),
            database_secret=database.secret_name,
            database_key=database.url_key,
            service_name=SERVICE_NAME,
            replicas=s.service_replicas,
            subdomain_host=s.domain if s.user_subdomains else None,
            image_pull_secrets=pull_secrets,
            gateway_settings=s.gateway_settings,
        ),
        opts=pulumi.ResourceOptions(depends_on=[database]),
    )
    hub = JupyterHub(
        "jupyterhub",
        JupyterHubArgs(
            app_name=s.app_name,
            namespace=hub_ns.metadata.name,
            maas_namespace=s.maas_namespace,
            chart_version=s.z2jh_chart_version,
            hub_image=images.refs["hub"],
            notebook_image=images.refs["notebook"],
            service_url=service.url,
            service_port=SERVICE_PORT,
            gateway_port=GATEWAY_PORT,
            hub_token=hub_token,
            exposure=Exposure(s.on_aws, s.domain, s.ingress_class, s.tls_cluster_issuer),
            storage_class=s.storage_class,
            user_storage=s.user_storage,
            admin_users=s.admin_users,
            teams=s.teams,
            hub_config=s.hub_config,
            hub_secret_env=s.hub_secret_env,
            image_pull_secrets=pull_secrets,
            user_subdomains=s.user_subdomains,
        ),
    )

    maas_ref = images.refs["maas"]
    outputs: dict[str, pulumi.Input] = {
        "registryUrls": registry.urls,
        "imageRef": maas_ref,
        "imageDigest": images.digests["maas"],
        "imageRefs": images.refs,
        "imageDigests": images.digests,
        "maasNamespace": maas_ns.metadata.name,
        "jupyterhubNamespace": hub_ns.metadata.name,
        "jupyterhubReleaseName": hub.release_name,
        "jupyterhubPublicUrl": hub.public_url,
        "maasServiceUrl": service.url,
        "maasPublicUrl": hub.public_url.apply(
            lambda url: (
                f"{maas_origin(url, s.user_subdomains)}/services/{SERVICE_NAME}/"
                if url.startswith("http")
                else url
            )
        ),
        # the gateway is LiteLLM (behind our gate): the reference's names
        "litellmServiceUrl": gateway.url,
        "litellmPublicUrl": gateway.public_url,
        "databaseSecret": database.secret_name,
        "dockerPullCommand": pulumi.Output.concat("docker pull ", maas_ref),
    }
    if database.backup_destination is not None:
        outputs["databaseBackupDestination"] = database.backup_destination
    if database.backup_policy_arn is not None:
        # attach it to the role the database's pods use (maas:databaseBackup.roleArn)
        # or to the nodes' role
        outputs["databaseBackupPolicyArn"] = database.backup_policy_arn
    if not s.registry:
        outputs["ecrRepositoryUrl"] = registry.urls["maas"]
        outputs["ecrLoginCommand"] = registry.server.apply(
            lambda server: (
                f"aws ecr get-login-password --region {server.split('.')[3]} "
                f"| docker login --username AWS --password-stdin {server}"
            )
        )
    return outputs
