"""Backups of the in-cluster database (``maas:databaseBackup``): CloudNativePG archives
the WAL and takes scheduled base backups to object storage, kept for the retention
period; on AWS into a bucket the program makes, which is private and encrypted. Under
Pulumi's mock engine (deploy.py); the restore is docs/backups-in-cluster.md."""

from __future__ import annotations

import json

import pytest
from deploy import ACCOUNT, CONFIG, SECRETS, deploy

CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster"
SCHEDULED = "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup"
BUCKET = "aws:s3/bucket:Bucket"


@pytest.fixture(scope="module")
def aws():
    return deploy(CONFIG, SECRETS)


def _by_bucket(d, type_: str) -> dict:
    (r,) = d.of_type(type_)
    return r.plain


def test_on_aws_the_database_is_backed_up_daily_to_a_new_bucket(aws):
    (bucket,) = aws.of_type(BUCKET)
    name = "maas-db-backups-0001"  # (the mock's name for the prefix)
    assert bucket.plain["bucketPrefix"] == "maas-db-backups-"
    assert bucket.plain["forceDestroy"] is False  # a stack's removal keeps the backups
    assert bucket.plain["tags"]["Project"] == "maas"
    cluster = aws.one(CLUSTER, "database-cluster").plain["spec"]
    backup = cluster["backup"]
    assert backup["retentionPolicy"] == "30d"
    store = backup["barmanObjectStore"]
    assert store["destinationPath"] == f"s3://{name}/maas"
    assert store["s3Credentials"] == {"inheritFromIAMRole": True}
    assert store["wal"]["compression"] == "gzip"
    assert store["data"]["compression"] == "gzip"
    scheduled = aws.one(SCHEDULED, "database-scheduled-backup").plain
    assert scheduled["metadata"]["namespace"] == "maas"
    assert scheduled["spec"] == {
        "schedule": "0 0 3 * * *",
        "cluster": {"name": "maas-db"},
        "method": "barmanObjectStore",
        "immediate": True,
        "backupOwnerReference": "self",
    }
    assert aws.outputs["databaseBackupDestination"] == f"s3://{name}/maas"
    assert aws.outputs["databaseBackupPolicyArn"] == (
        f"arn:aws:iam::{ACCOUNT}:policy/database-backups-access"
    )


def test_the_bucket_is_private_encrypted_versioned_and_tls_only(aws):
    block = _by_bucket(aws, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls"):
        assert block[flag] is True, flag
    assert block["restrictPublicBuckets"] is True
    ownership = _by_bucket(aws, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}  # no ACLs
    sse = _by_bucket(
        aws,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    assert sse["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    versioning = _by_bucket(aws, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    (rule,) = _by_bucket(aws, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[
        "rules"
    ]
    assert rule["status"] == "Enabled" and rule["noncurrentVersionExpiration"]["noncurrentDays"]
    policy = json.loads(_by_bucket(aws, "aws:s3/bucketPolicy:BucketPolicy")["policy"])
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # every part is on this bucket
    for type_ in (
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketPolicy:BucketPolicy",
    ):
        assert _by_bucket(aws, type_)["bucket"] == "database-backups-id", type_
    # the policy to attach grants the bucket only, nothing public, nothing else
    access = json.loads(aws.one("aws:iam/policy:Policy", "database-backups-access").plain["policy"])
    resources = {r for s in access["Statement"] for r in [s["Resource"]]}
    assert resources == {
        "arn:aws:s3:::maas-db-backups-0001",
        "arn:aws:s3:::maas-db-backups-0001/*",
    }


def test_schedule_retention_destination_and_keys_are_configurable():
    d = deploy(
        {
            **CONFIG,
            "databaseBackup": {
                "destination": "s3://existing-bucket/maas-prod",
                "schedule": "0 30 1 * * 0",
                "retention": "8w",
                "endpointUrl": "https://minio.example.org",
            },
        },
        {
            **SECRETS,
            "databaseBackupCredentials": {
                "accessKeyId": "fake-access-key-id-0001",
                "secretAccessKey": "fake-secret-access-key-0001",
            },
        },
    )
    assert not d.of_type(BUCKET)  # an existing destination: no bucket made
    assert "databaseBackupPolicyArn" not in d.outputs
    spec = d.one(CLUSTER, "database-cluster").plain["spec"]
    store = spec["backup"]["barmanObjectStore"]
    assert store["destinationPath"] == "s3://existing-bucket/maas-prod"
    assert store["endpointURL"] == "https://minio.example.org"
    assert store["s3Credentials"] == {
        "accessKeyId": {"name": "maas-db-backup-credentials", "key": "ACCESS_KEY_ID"},
        "secretAccessKey": {"name": "maas-db-backup-credentials", "key": "ACCESS_SECRET_KEY"},
    }
    assert spec["backup"]["retentionPolicy"] == "8w"
    assert d.one(SCHEDULED, "database-scheduled-backup").plain["spec"]["schedule"] == (
        "0 30 1 * * 0"
    )
    keys = d.one("kubernetes:core/v1:Secret", "database-backup-credentials").plain
    assert keys["stringData"] == {
        "ACCESS_KEY_ID": "fake-access-key-id-0001",
        "ACCESS_SECRET_KEY": "fake-secret-access-key-0001",
    }
    for r in d.resources:
        if r.type != "kubernetes:core/v1:Secret":
            assert "fake-secret-access-key-0001" not in repr(r.plain), r.name


def test_an_iam_role_for_the_database_pods():
    role = "arn:aws:iam::123456789012:role/maas-db-backups"
    d = deploy({**CONFIG, "databaseBackup": {"roleArn": role}}, SECRETS)
    spec = d.one(CLUSTER, "database-cluster").plain["spec"]
    assert spec["serviceAccountTemplate"] == {
        "metadata": {"annotations": {"eks.amazonaws.com/role-arn": role}}
    }
    assert spec["backup"]["barmanObjectStore"]["s3Credentials"] == {"inheritFromIAMRole": True}


def test_backups_can_be_turned_off():
    d = deploy({**CONFIG, "databaseBackup": {"enabled": False}}, SECRETS)
    assert "backup" not in d.one(CLUSTER, "database-cluster").plain["spec"]
    assert not d.of_type(SCHEDULED)
    assert not [r for r in d.resources if r.type.startswith("aws:s3")]
    assert "databaseBackupDestination" not in d.outputs


def test_any_kubernetes_backs_up_only_to_a_destination_it_is_given():
    generic = {
        **CONFIG,
        "cloud": "generic",
        "registry": "ghcr.io/example/maas",
    }
    d = deploy(generic, SECRETS)
    assert not d.of_type(SCHEDULED)  # no bucket to make: off unless given one
    d = deploy({**generic, "databaseBackup": {"destination": "s3://b/maas"}}, SECRETS)
    assert d.one(SCHEDULED, "database-scheduled-backup")
    assert not [r for r in d.resources if r.type.startswith("aws:")]
    with pytest.raises(Exception, match="maas:databaseBackup.destination s3://"):
        deploy({**generic, "databaseBackup": {"enabled": True}}, SECRETS)


def test_an_external_database_is_not_backed_up_here():
    d = deploy(CONFIG, {**SECRETS, "databaseUrl": "postgresql://maas:pw@db.example.org/maas"})
    assert not d.of_type(SCHEDULED) and not d.of_type(BUCKET)


@pytest.mark.parametrize(
    ("backup", "message"),
    [
        ({"retension": "30d"}, r"no setting retension: the settings are destination, enabled"),
        ({"retention": "30 days"}, r"retention is '30 days': use days, weeks or months"),
        ({"schedule": "0 3 * * *"}, r"six cron fields, seconds first"),
        ({"destination": "bucket/maas"}, r"use s3://<bucket>/<prefix>"),
    ],
)
def test_a_wrong_backup_setting_is_refused_with_the_fix(backup, message):
    with pytest.raises(Exception, match=message):
        deploy({**CONFIG, "databaseBackup": backup}, SECRETS)


def test_a_restore_makes_a_new_cluster_from_the_backups_and_moves_everyone_to_it():
    d = deploy(
        {
            **CONFIG,
            "databaseRestore": {
                "clusterName": "maas-db-2",
                "targetTime": "2026-12-01T09:00:00Z",
            },
        },
        SECRETS,
    )
    cluster = d.one(CLUSTER, "database-cluster").plain
    assert cluster["metadata"]["name"] == "maas-db-2"
    spec = cluster["spec"]
    assert spec["bootstrap"] == {
        "recovery": {
            "source": "maas-db",
            "database": "maas",
            "owner": "maas",
            "recoveryTarget": {"targetTime": "2026-12-01T09:00:00Z"},
        }
    }
    (source,) = spec["externalClusters"]
    assert source["name"] == "maas-db"
    store = source["barmanObjectStore"]
    assert store["serverName"] == "maas-db"
    # the backups it reads are where the old cluster wrote them ...
    assert store["destinationPath"] == spec["backup"]["barmanObjectStore"]["destinationPath"]
    assert store["s3Credentials"] == {"inheritFromIAMRole": True}
    # ... and its own go there too, under its own name; the schedule follows it
    assert d.one(SCHEDULED, "database-scheduled-backup").plain["spec"]["cluster"] == {
        "name": "maas-db-2"
    }
    # the service, the migration Job and the gateways read the new cluster's Secret
    for name in ("service-deployment", "gateway-deployment"):
        pod = d.one("kubernetes:apps/v1:Deployment", name).plain["spec"]["template"]["spec"]
        env = {e["name"]: e for e in pod["containers"][0]["env"]}
        assert env["MAAS_DB_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": "maas-db-2-app",
            "key": "uri",
        }, name
    assert d.outputs["databaseSecret"] == "maas-db-2-app"


@pytest.mark.parametrize(
    ("restore", "backup", "message"),
    [
        ({"serverName": "maas-db"}, {}, r"clusterName \(the new cluster's name\) required"),
        ({"clusterName": "maas-db"}, {}, r"clusterName must differ from serverName"),
        ({"clusterName": "Maas_DB"}, {}, r"lower-case letters, digits and '-'"),
        ({"clusterName": "maas-db-2"}, {"enabled": False}, r"but backups are off"),
    ],
)
def test_a_wrong_restore_is_refused_with_the_fix(restore, backup, message):
    with pytest.raises(Exception, match=message):
        deploy({**CONFIG, "databaseRestore": restore, "databaseBackup": backup}, SECRETS)
