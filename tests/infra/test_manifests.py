"""What the program would send to Kubernetes and to the z2jh chart, validated against
their schemas: every Kubernetes object against the OpenAPI schema of a pinned
Kubernetes version (kubernetes-validate, strict: no unknown field), and the chart's
values, merged over the chart's own defaults as Helm merges them, against the chart's
values schema (infra/schemas/, a copy of z2jh 4.4's).

The program runs against Pulumi's mock engine (tests/infra/deploy.py): no cluster here.
"""

from __future__ import annotations

import json

import jsonschema
import kubernetes_validate
import pytest
import yaml
from deploy import CONFIG, REPO, SECRETS, deploy, helm_merge

KUBERNETES_VERSION = "1.33.0"  # the oldest version z2jh 4.4 and EKS standard support share
Z2JH = REPO / "tests" / "infra" / "z2jh"
SCHEMA = REPO / "infra" / "schemas" / "z2jh-values.schema.json"

STACKS = {
    "aws": ({}, {}),
    "domain": ({"domain": "hub.example.org", "tlsClusterIssuer": "letsencrypt"}, {}),
    "subdomains": ({"domain": "hub.example.org", "userSubdomains": True}, {}),
    "generic": (
        {"cloud": "generic", "registry": "ghcr.io/example/maas", "registryUsername": "bot"},
        {"registryPassword": "fake-registry-password"},
    ),
    "external-db": ({}, {"databaseUrl": "postgresql://maas:pw@db.example.org/maas"}),
}


@pytest.fixture(scope="module", params=sorted(STACKS))
def stack(request):
    config, secrets = STACKS[request.param]
    return deploy({**CONFIG, **config}, {**SECRETS, **secrets})


def test_every_kubernetes_object_is_valid(stack):
    objects = stack.kubernetes()
    kinds = {o.manifest["kind"] for o in objects}
    assert {"Namespace", "Secret", "Deployment", "Service", "PodDisruptionBudget"} <= kinds
    for o in objects:
        manifest = o.manifest
        if manifest["apiVersion"].startswith("postgresql.cnpg.io/"):
            continue  # a custom resource: its schema is the operator's CRD (below)
        # the API server fills in metadata.name when Pulumi auto-names; so would we
        manifest.setdefault("metadata", {}).setdefault("name", o.name)
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            pytest.fail(f"{o.type} {o.name}: {e.message} at {list(e.path)}")


def test_the_database_cluster_is_a_well_formed_cloudnativepg_cluster(stack):
    clusters = stack.of_type("kubernetes:postgresql.cnpg.io/v1:Cluster")
    external = [r for r in stack.of_type("kubernetes:core/v1:Secret") if r.name == "database-url"]
    assert len(clusters) + len(external) == 1  # one database, in the cluster or not
    for cluster in clusters:
        spec = cluster.plain["spec"]
        assert cluster.plain["kind"] == "Cluster"
        assert set(spec) <= {
            "instances",
            "imageName",
            "primaryUpdateStrategy",
            "storage",
            "bootstrap",
            "resources",
            "backup",  # (test_backups.py)
            "serviceAccountTemplate",
            "externalClusters",  # (a restore)
        }
        assert spec["bootstrap"] == {"initdb": {"database": "maas", "owner": "maas"}}
        assert spec["instances"] >= 1


def test_the_hub_values_are_valid_for_the_chart(stack):
    schema = json.loads(SCHEMA.read_text())
    defaults = yaml.safe_load((Z2JH / "values.yaml").read_text())
    values = helm_merge(defaults, stack.hub_values())
    errors = sorted(
        jsonschema.Draft7Validator(schema).iter_errors(values), key=lambda e: list(e.path)
    )
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_the_schema_check_catches_a_mistake(stack):
    """A misspelt key is refused: the validation above can fail."""
    schema = json.loads(SCHEMA.read_text())
    defaults = yaml.safe_load((Z2JH / "values.yaml").read_text())
    values = helm_merge(defaults, stack.hub_values())
    values["singleuser"]["defaultURL"] = "/lab"
    with pytest.raises(jsonschema.ValidationError, match="defaultURL"):
        jsonschema.validate(values, schema)
    manifest = stack.one("kubernetes:apps/v1:Deployment", "gateway-deployment").manifest
    manifest["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
