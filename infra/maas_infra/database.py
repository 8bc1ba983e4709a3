"""The PostgreSQL that the MaaS service and every gateway share: an external one (RDS or
any other) by URL, or by default an in-cluster cluster run by the CloudNativePG
operator (pinned chart) on persistent volumes.

The in-cluster cluster is backed up to object storage (S3): its WAL continuously and a
base backup on a schedule, kept for a retention period, with CloudNativePG's in-tree
Barman Cloud support (``spec.backup.barmanObjectStore``; deprecated since operator
1.26 in favour of the Barman Cloud Plugin, still supported by the 1.28 we pin, and
removed only after 1.31; see docs/backups-in-cluster.md). On AWS the program makes the
bucket: versioned, encrypted, public access blocked, TLS only."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .config import BackupSettings, RestoreSettings
from .kube import labels

# Old versions of a backup's objects (after barman deletes them past retention) are kept
# this many days more in a versioned bucket: a mistaken deletion can be undone.
NONCURRENT_DAYS = 7


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
    backup: BackupSettings = field(default_factory=BackupSettings)
    # accessKeyId / secretAccessKey (a secret), when the object store needs keys
    backup_credentials: pulumi.Input[dict] | None = None
    # make the backups' bucket in AWS when no destination is given
    on_aws: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    # make the cluster from the backups of another (docs/backups-in-cluster.md)
    restore: RestoreSettings | None = None


def backup_bucket(
    name: str, app_name: str, tags: dict, opts
) -> tuple[aws.s3.Bucket, aws.iam.Policy]:
    """A private bucket for the database's backups: versioned (old versions expire after
    NONCURRENT_DAYS), encrypted at rest, public access blocked, TLS only; and an IAM
    policy granting what barman-cloud needs on it, to attach to the database's role.
    Returns the bucket and the policy."""
    bucket = aws.s3.Bucket(
        name, bucket_prefix=f"{app_name}-db-backups-", force_destroy=False, tags=tags, opts=opts
    )
    aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},
        opts=opts,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
        opts=opts,
    )
    aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
        opts=opts,
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=[
            {
                "id": "expire-old-versions",
                "status": "Enabled",
                "filter": {},
                "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_DAYS},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            }
        ],
        opts=opts,
    )
    aws.s3.BucketPolicy(
        f"{name}-tls-only",
        bucket=bucket.id,
        policy=bucket.arn.apply(
            lambda arn: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [arn, f"{arn}/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                }
            )
        ),
        opts=opts,
    )
    policy = aws.iam.Policy(
        f"{name}-access",
        description=f"{app_name}: CloudNativePG backups (barman-cloud) to its bucket",
        policy=bucket.arn.apply(
            lambda arn: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                            "Resource": arn,
                        },
                        {
                            "Effect": "Allow",
                            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                            "Resource": f"{arn}/*",
                        },
                    ],
                }
            )
        ),
        tags=tags,
        opts=opts,
    )
    return bucket, policy


def barman_object_store(
    destination: pulumi.Input[str], backup: BackupSettings, credentials_secret
) -> dict:
    """The Cluster's ``spec.backup.barmanObjectStore``: where, with which credentials
    (keys from a Secret, else the pods' IAM role), compressed."""
    if credentials_secret is not None:
        credentials = {
            "accessKeyId": {"name": credentials_secret, "key": "ACCESS_KEY_ID"},
            "secretAccessKey": {"name": credentials_secret, "key": "ACCESS_SECRET_KEY"},
        }
    else:
        # IRSA (roleArn) or the nodes' role
        credentials = {"inheritFromIAMRole": True}
    store = {
        "destinationPath": destination,
        "s3Credentials": credentials,
        "wal": {"compression": "gzip", "maxParallel": 2},
        "data": {"compression": "gzip"},
    }
    if backup.endpoint_url:
        store["endpointURL"] = backup.endpoint_url
    return store


class Database(pulumi.ComponentResource):
    """``secret_name``/``url_key``: the Secret (in the MaaS namespace) holding the
    database URL, which the service, the gateways and the migration Job read;
    ``backup_destination``: where the in-cluster database is backed up (None: it is
    not), ``backup_policy_arn``: the IAM policy to attach to its role (a bucket made
    here)."""

    secret_name: pulumi.Output[str]
    url_key: str
    backup_destination: pulumi.Output[str] | None = None
    backup_policy_arn: pulumi.Output[str] | None = None

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
        restore = args.restore
        cluster_name = restore.cluster_name if restore else f"{args.app_name}-db"
        storage = {"size": args.storage}
        if args.storage_class:
            storage["storageClass"] = args.storage_class
        spec = {
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
        }
        backup = args.backup
        if backup.enabled:
            store = self._object_store(name, meta, args)
            spec["backup"] = {"barmanObjectStore": store, "retentionPolicy": backup.retention}
            if backup.role_arn:  # IRSA: the database's pods assume this role
                spec["serviceAccountTemplate"] = {
                    "metadata": {"annotations": {"eks.amazonaws.com/role-arn": backup.role_arn}}
                }
            if restore:
                # the database, its owner and the <cluster>-app Secret as initdb makes
                # them, the data from the backups of restore.server_name
                recovery = {"source": restore.server_name, "database": "maas", "owner": "maas"}
                if restore.target_time:
                    recovery["recoveryTarget"] = {"targetTime": restore.target_time}
                spec["bootstrap"] = {"recovery": recovery}
                source = {k: v for k, v in store.items() if k not in ("wal", "data")}
                source.update(serverName=restore.server_name, wal={"maxParallel": 8})
                spec["externalClusters"] = [
                    {"name": restore.server_name, "barmanObjectStore": source}
                ]
        cluster = k8s.apiextensions.CustomResource(
            f"{name}-cluster",
            api_version="postgresql.cnpg.io/v1",
            kind="Cluster",
            metadata={**meta, "name": cluster_name},
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        if backup.enabled:
            k8s.apiextensions.CustomResource(
                f"{name}-scheduled-backup",
                api_version="postgresql.cnpg.io/v1",
                kind="ScheduledBackup",
                metadata={**meta, "name": f"{cluster_name}-daily"},
                spec={
                    "schedule": backup.schedule,
                    "cluster": {"name": cluster_name},
                    "method": "barmanObjectStore",
                    # a first base backup now, not at the first scheduled time
                    "immediate": True,
                    # the Backup objects go with this ScheduledBackup
                    "backupOwnerReference": "self",
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster]),
            )
        self.secret_name = pulumi.Output.from_input(f"{cluster_name}-app")
        self.url_key = "uri"
        self.register_outputs(
            {
                "secretName": self.secret_name,
                "inCluster": True,
                "backupDestination": self.backup_destination,
            }
        )

    def _object_store(self, name: str, meta: dict, args: DatabaseArgs) -> dict:
        """Where the backups go (and the bucket, on AWS without a destination), as the
        Cluster's ``barmanObjectStore``."""
        child = pulumi.ResourceOptions(parent=self)
        backup = args.backup
        if backup.destination:
            destination = pulumi.Output.from_input(backup.destination)
        else:
            assert args.on_aws, "config.backup_settings asks for a destination elsewhere"
            bucket, policy = backup_bucket(f"{name}-backups", args.app_name, args.tags, child)
            destination = pulumi.Output.concat("s3://", bucket.bucket, "/", args.app_name)
            self.backup_policy_arn = policy.arn
        self.backup_destination = destination
        credentials = None
        if args.backup_credentials is not None:
            keys = pulumi.Output.secret(args.backup_credentials)
            credentials = k8s.core.v1.Secret(
                f"{name}-backup-credentials",
                metadata={**meta, "name": f"{args.app_name}-db-backup-credentials"},
                string_data=keys.apply(
                    lambda k: {
                        "ACCESS_KEY_ID": str(k["accessKeyId"]),
                        "ACCESS_SECRET_KEY": str(k["secretAccessKey"]),
                    }
                ),
                opts=child,
            ).metadata.name
        return barman_object_store(destination, backup, credentials)
