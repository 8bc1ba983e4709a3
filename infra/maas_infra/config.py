"""The stack's configuration, read in one place (``pulumi config``, namespace ``maas``).

Every choice an admin makes is a field of ``Settings`` with its default here; the
components take plain arguments and never read ``pulumi.Config`` themselves.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pulumi

REPO = Path(__file__).resolve().parents[2]

# Pinned versions: a deploy is reproducible until someone moves one of these.
Z2JH_CHART_VERSION = "4.4.0"  # zero-to-jupyterhub (JupyterHub 5.5, KubeSpawner 7)
CNPG_CHART_VERSION = "0.27.1"  # CloudNativePG operator chart (operator 1.28)
POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:16.6"

BACKEND_KEY_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def _gateway_settings_table() -> ModuleType:
    """The gateway's settings table (hub_service/gateway/settings.py), loaded by path:
    this program's environment has Pulumi's packages, not the service's. The
    ``maas:gateway`` keys are its settings' ``knob`` names, never typed twice."""
    path = REPO / "hub_service" / "gateway" / "settings.py"
    name = "maas_gateway_settings"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # (dataclasses look their module up there)
        spec.loader.exec_module(module)
    return sys.modules[name]


GATEWAY_SETTINGS = _gateway_settings_table().SETTINGS
GATEWAY_BY_NAME = {s.name: s for s in GATEWAY_SETTINGS}
GATEWAY_KNOBS = {s.knob: s for s in GATEWAY_SETTINGS}
# maas:backendKeys reach the gateway as these variables (gateway.py): the default
# prefix a catalog model's api_key_env must begin with, which backendKeyEnvPrefixes keeps
BACKEND_PREFIX = GATEWAY_BY_NAME["backend_key_env_prefixes"].default[0]


def _is_a(value: Any, kind: type) -> bool:
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, int | float)
    if kind is list:
        return isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    return isinstance(value, kind)


def gateway_settings(raw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``maas:gateway`` checked: (the plain settings, the secret ones), each by the
    setting's name (``MaaSGateway.<name>``); ValueError naming the valid keys."""
    if raw is None:
        return {}, {}
    if not isinstance(raw, dict):
        raise ValueError(f"maas:gateway must be a map of settings: {', '.join(GATEWAY_KNOBS)}")
    unknown = sorted(set(raw) - set(GATEWAY_KNOBS))
    if unknown:
        raise ValueError(
            f"maas:gateway has no setting {', '.join(unknown)}: "
            f"the settings are {', '.join(GATEWAY_KNOBS)}"
        )
    plain, secret = {}, {}
    for knob, value in raw.items():
        s = GATEWAY_KNOBS[knob]
        if not _is_a(value, s.type):
            kind = {int: "a whole number", float: "a number", str: "a string"}.get(
                s.type, "a list of strings"
            )
            raise ValueError(f"maas:gateway.{knob} is {value!r}: it must be {kind} ({s.help})")
        if s.name == "backend_key_env_prefixes" and BACKEND_PREFIX not in value:
            raise ValueError(
                f"maas:gateway.{knob} must keep {BACKEND_PREFIX!r}: the gateway gets "
                f"maas:backendKeys as {BACKEND_PREFIX}<NAME> variables"
            )
        (secret if s.secret else plain)[s.name] = value
    return plain, secret


@dataclass(frozen=True)
class BackupSettings:
    """Scheduled backups of the in-cluster database (CloudNativePG, Barman Cloud) to
    object storage; see docs/backups-in-cluster.md."""

    # on by default on AWS (a bucket is made) or when a destination is given
    enabled: bool = False
    # s3://bucket/prefix; None on AWS: a bucket made by this program
    destination: str | None = None
    retention: str = "30d"
    schedule: str = "0 0 3 * * *"  # six fields, seconds first: 03:00 every day
    # credentials: an IAM role for the database's pods (IRSA), or keys in
    # maas:databaseBackupCredentials, or else the nodes' own role
    role_arn: str | None = None
    endpoint_url: str | None = None  # an S3-compatible store (MinIO, ...)


def backup_settings(raw: Any, on_aws: bool) -> BackupSettings:
    """``maas:databaseBackup`` checked (see ``BackupSettings``); ValueError naming the
    valid keys."""
    raw = {} if raw is None else raw
    valid = ("destination", "enabled", "endpointUrl", "retention", "roleArn", "schedule")
    if not isinstance(raw, dict) or set(raw) - set(valid):
        unknown = sorted(set(raw) - set(valid)) if isinstance(raw, dict) else [repr(raw)]
        raise ValueError(
            f"maas:databaseBackup has no setting {', '.join(unknown)}: "
            f"the settings are {', '.join(valid)}"
        )
    destination = raw.get("destination")
    enabled = raw.get("enabled", bool(destination) or on_aws)
    if enabled and not destination and not on_aws:
        raise ValueError(
            "maas:databaseBackup is enabled but has no destination (only on AWS is a "
            "bucket made): pulumi config set --path maas:databaseBackup.destination "
            "s3://<bucket>/<prefix> (or set maas:databaseBackup.enabled false)"
        )
    if destination and not re.fullmatch(r"s3://[^/\s]+(/\S*)?", destination):
        raise ValueError(
            f"maas:databaseBackup.destination is {destination!r}: use s3://<bucket>/<prefix>"
        )
    retention = raw.get("retention", "30d")
    if not re.fullmatch(r"[1-9][0-9]*[dwm]", str(retention)):
        raise ValueError(
            f"maas:databaseBackup.retention is {retention!r}: use days, weeks or months, "
            "e.g. 30d, 4w or 6m"
        )
    schedule = raw.get("schedule", "0 0 3 * * *")
    if len(str(schedule).split()) != 6:
        raise ValueError(
            f"maas:databaseBackup.schedule is {schedule!r}: six cron fields, seconds "
            "first (CloudNativePG's), e.g. '0 0 3 * * *' for 03:00 every day"
        )
    return BackupSettings(
        enabled=bool(enabled),
        destination=destination,
        retention=str(retention),
        schedule=str(schedule),
        role_arn=raw.get("roleArn"),
        endpoint_url=raw.get("endpointUrl"),
    )


@dataclass(frozen=True)
class RestoreSettings:
    """Make the in-cluster database from the backups of an earlier cluster: a new
    cluster (a new name) replaces the current one; see docs/backups-in-cluster.md."""

    cluster_name: str  # the new cluster's name (its backups go under it)
    server_name: str  # the cluster whose backups are restored (e.g. maas-db)
    target_time: str | None = None  # point in time (RFC 3339); None: the latest


def restore_settings(raw: Any, app_name: str, backup: BackupSettings) -> RestoreSettings | None:
    """``maas:databaseRestore`` checked; ValueError naming the valid keys."""
    if raw is None:
        return None
    valid = ("clusterName", "serverName", "targetTime")
    if not isinstance(raw, dict) or set(raw) - set(valid) or not raw.get("clusterName"):
        raise ValueError(
            f"maas:databaseRestore is {raw!r}: its settings are {', '.join(valid)}, "
            "clusterName (the new cluster's name) required"
        )
    restore = RestoreSettings(
        cluster_name=str(raw["clusterName"]),
        server_name=str(raw.get("serverName") or f"{app_name}-db"),
        target_time=raw.get("targetTime"),
    )
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?", restore.cluster_name):
        raise ValueError(
            f"maas:databaseRestore.clusterName is {restore.cluster_name!r}: lower-case "
            "letters, digits and '-', e.g. maas-db-2"
        )
    if restore.cluster_name == restore.server_name:
        raise ValueError(
            f"maas:databaseRestore.clusterName must differ from serverName "
            f"({restore.server_name}): the new cluster archives under its own name"
        )
    if not backup.enabled:
        raise ValueError(
            "maas:databaseRestore reads the backups at maas:databaseBackup's destination, "
            "but backups are off: enable them (and give the destination if not on AWS)"
        )
    return restore


@dataclass(frozen=True)
class Settings:
    """What the stack deploys; see infra/README or the README's "Deploy on Kubernetes"."""

    app_name: str = "maas"
    stack: str = "dev"
    environment: str = "dev"
    # "aws": ECR, NLB annotations, gp3 volumes; "generic": any Kubernetes
    cloud: str = "aws"
    maas_namespace: str = "maas"
    jupyterhub_namespace: str = "jupyterhub"
    z2jh_chart_version: str = Z2JH_CHART_VERSION
    cnpg_chart_version: str = CNPG_CHART_VERSION
    install_cnpg_operator: bool = True
    # an existing registry (host/path) instead of ECR; its credentials, if it needs any
    registry: str | None = None
    registry_username: str | None = None
    registry_password: pulumi.Input[str] | None = None
    git_revision: str = "unknown"
    service_replicas: int = 2
    gateway_min_replicas: int = 2
    gateway_max_replicas: int = 10
    gateway_target_cpu_percent: int = 70
    # with a domain: Ingresses with TLS; without: LoadBalancer Services
    domain: str | None = None
    gateway_domain: str | None = None
    ingress_class: str | None = None
    tls_cluster_issuer: str | None = None
    # users' servers (and the MaaS service) on subdomains of the domain, so that a page
    # one user serves cannot act in another's session (needs wildcard DNS and a wildcard
    # certificate: see docs)
    user_subdomains: bool = False
    storage_class: str = "gp3"
    user_storage: str = "10Gi"
    # an external PostgreSQL (secret URL) or, without one, an in-cluster cluster
    database_url: pulumi.Input[str] | None = None
    database_instances: int = 2
    database_storage: str = "20Gi"
    database_backup: BackupSettings = field(default_factory=BackupSettings)
    database_restore: RestoreSettings | None = None
    # accessKeyId / secretAccessKey for the backups' object store, if it needs keys
    database_backup_credentials: pulumi.Input[dict] | None = None
    # the gateway's settings (MaaSGateway.<name> -> value): plain ones, and secret ones,
    # which reach it from a Secret only
    gateway_settings: dict = field(default_factory=dict)
    gateway_secrets: dict = field(default_factory=dict)
    # backend model API keys: NAME -> secret value, given to the gateway as MAAS_BACKEND_NAME
    backend_keys: pulumi.Input[dict] | None = None
    admin_users: list[str] = field(default_factory=list)
    # hub groups run as MaaS teams by the members of <team>-admins
    teams: list[str] = field(default_factory=list)
    # z2jh hub.config (the authenticator and its settings; no secrets here) ...
    hub_config: dict = field(default_factory=dict)
    # ... and the hub's secret environment (e.g. OAUTH_CLIENT_SECRET), from a Secret
    hub_secret_env: pulumi.Input[dict] | None = None

    @property
    def on_aws(self) -> bool:
        return self.cloud == "aws"

    @property
    def tags(self) -> dict[str, str]:
        """The tags every cloud resource carries."""
        return {"Environment": self.environment, "Project": self.app_name, "ManagedBy": "pulumi"}

    @property
    def image_tag(self) -> str:
        return f"{self.stack}-{self.git_revision}"


def git_revision() -> str:
    """The checkout's short revision (images are tagged with it), or "unknown"."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def default_gateway_domain(domain: str | None, user_subdomains: bool) -> str | None:
    """``api.<domain>``; with users' subdomains, a name no hub user's subdomain can take
    (JupyterHub gives any user name holding ``--`` a hashed label), so that a user
    called ``api`` cannot shadow the gateway under the hub's ``*.<domain>``."""
    if not domain:
        return None
    return f"api--maas.{domain}" if user_subdomains else f"api.{domain}"


def load() -> Settings:
    """The stack's ``Settings`` from ``pulumi config``."""
    cfg = pulumi.Config("maas")
    app = cfg.get("appName") or "maas"
    stack = pulumi.get_stack()
    cloud = cfg.get("cloud") or "aws"
    if cloud not in ("aws", "generic"):
        raise ValueError(f"maas:cloud is {cloud!r}: use aws or generic")
    registry = cfg.get("registry")
    if cloud != "aws" and not registry:
        raise ValueError(
            "maas:cloud is generic but maas:registry is not set: "
            "pulumi config set maas:registry ghcr.io/<org>/maas"
        )
    domain = cfg.get("domain")
    user_subdomains = bool(cfg.get_bool("userSubdomains"))
    if user_subdomains and not domain:
        raise ValueError(
            "maas:userSubdomains needs maas:domain (users' servers are its subdomains): "
            "pulumi config set maas:domain hub.example.org"
        )
    gateway_plain, gateway_secret = gateway_settings(cfg.get_object("gateway"))
    backup = backup_settings(cfg.get_object("databaseBackup"), cloud == "aws")
    if gateway_secret and not pulumi.runtime.is_config_secret("maas:gateway"):
        pulumi.log.warn(
            f"maas:gateway holds {', '.join(sorted(gateway_secret))} in plain text in the "
            "stack's file: set it with pulumi config set --secret --path "
            "'maas:gateway.<key>' (the deployment keeps it in a Secret either way)"
        )
    return Settings(
        app_name=app,
        stack=stack,
        environment=cfg.get("environment") or stack,
        cloud=cloud,
        maas_namespace=cfg.get("maasNamespace") or app,
        jupyterhub_namespace=cfg.get("jupyterhubNamespace") or "jupyterhub",
        z2jh_chart_version=cfg.get("z2jhChartVersion") or Z2JH_CHART_VERSION,
        cnpg_chart_version=cfg.get("cnpgChartVersion") or CNPG_CHART_VERSION,
        install_cnpg_operator=cfg.get_bool("installCnpgOperator") is not False,
        registry=registry,
        registry_username=cfg.get("registryUsername"),
        registry_password=cfg.get_secret("registryPassword"),
        git_revision=cfg.get("gitRevision") or git_revision(),
        service_replicas=cfg.get_int("serviceReplicas") or 2,
        gateway_min_replicas=cfg.get_int("gatewayMinReplicas") or 2,
        gateway_max_replicas=cfg.get_int("gatewayMaxReplicas") or 10,
        gateway_target_cpu_percent=cfg.get_int("gatewayTargetCpuPercent") or 70,
        domain=domain,
        gateway_domain=cfg.get("gatewayDomain") or default_gateway_domain(domain, user_subdomains),
        ingress_class=cfg.get("ingressClass"),
        tls_cluster_issuer=cfg.get("tlsClusterIssuer"),
        user_subdomains=user_subdomains,
        storage_class=cfg.get("storageClass") or ("gp3" if cloud == "aws" else "standard"),
        user_storage=cfg.get("userStorage") or "10Gi",
        database_url=cfg.get_secret("databaseUrl"),
        database_instances=cfg.get_int("databaseInstances") or 2,
        database_storage=cfg.get("databaseStorage") or "20Gi",
        database_backup=backup,
        database_restore=restore_settings(cfg.get_object("databaseRestore"), app, backup),
        database_backup_credentials=cfg.get_secret_object("databaseBackupCredentials"),
        gateway_settings=gateway_plain,
        gateway_secrets={
            name: pulumi.Output.secret(value) for name, value in gateway_secret.items()
        },
        backend_keys=cfg.get_secret_object("backendKeys"),
        admin_users=list(cfg.get_object("adminUsers") or []),
        teams=list(cfg.get_object("teams") or []),
        hub_config=dict(cfg.get_object("hubConfig") or {}),
        hub_secret_env=cfg.get_secret_object("hubSecretEnv"),
    )
