"""The files docs/existing-hub.md gives a zero-to-jupyterhub release that our Pulumi
program did not make: ``docs/z2jh/values.yaml``, merged over the chart's defaults as
Helm merges them, against the chart's values schema (z2jh 4.4's), and
``docs/z2jh/maas.yaml`` against the Kubernetes API's schema (strict), agreeing with
the service and gateway that infra/ deploys (their commands, ports, probes and
variables). No cluster here: infra/ runs under Pulumi's mock engine (deploy.py).
Its ``extraConfig`` runs in a real hub in tests/stack/test_hub_on_kubernetes.py."""

from __future__ import annotations

import json

import jsonschema
import kubernetes_validate
import pytest
import yaml
from deploy import CONFIG, REPO, SECRETS, deploy, helm_merge
from maas_infra.hub_values import EXTRA_CONFIG
from test_manifests import KUBERNETES_VERSION, SCHEMA, Z2JH

DOCS = REPO / "docs" / "z2jh"


def objects() -> dict[str, dict]:
    return {
        f"{o['kind']}/{o['metadata']['name']}": o
        for o in yaml.safe_load_all((DOCS / "maas.yaml").read_text())
    }


def test_the_values_snippet_is_valid_for_the_chart():
    schema = json.loads(SCHEMA.read_text())
    values = helm_merge(
        yaml.safe_load((Z2JH / "values.yaml").read_text()),
        yaml.safe_load((DOCS / "values.yaml").read_text()),
    )
    errors = sorted(
        jsonschema.Draft7Validator(schema).iter_errors(values), key=lambda e: list(e.path)
    )
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    # the lines infra/ gives its own releases
    assert values["hub"]["extraConfig"]["10-maas"] == EXTRA_CONFIG


@pytest.mark.parametrize("name", sorted(objects()))
def test_every_object_is_valid_kubernetes(name):
    try:
        kubernetes_validate.validate(objects()[name], KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        pytest.fail(f"{name}: {e.message} at {list(e.path)}")


@pytest.fixture(scope="module")
def deployed():
    return {
        o.manifest["metadata"].get("name"): o.manifest
        for o in deploy(CONFIG, SECRETS).kubernetes()
        if o.manifest["kind"] in ("Deployment", "Job")
    }


def container(manifest: dict) -> dict:
    return manifest["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize(
    "ours, infras",
    [("Deployment/maas-service", "maas-service"), ("Deployment/maas-gateway", "maas-gateway")],
)
def test_the_objects_run_what_infra_runs(deployed, ours, infras):
    """The hand-written objects and infra/'s agree on what matters to the processes:
    a variable infra/ gives the service or gateway is given here too (but for the
    sign-in's subdomain and metrics extras), with the same command and ports."""
    mine, theirs = container(objects()[ours]), container(deployed[infras])
    assert mine["command"] == theirs["command"]
    assert [p["containerPort"] for p in mine["ports"]] == [
        int(p["containerPort"]) for p in theirs["ports"]
    ]
    optional = {"MAAS_COOKIE_SECRET", "MAAS_METRICS_TOKEN"}  # one replica; no metrics
    theirs_env = {e["name"] for e in theirs["env"]} - optional
    assert theirs_env <= {e["name"] for e in mine["env"]}
    # the backend keys reach the gateway as infra/ gives them: MAAS_BACKEND_<NAME>
    prefixes = [e.get("prefix") for e in theirs.get("envFrom", [])]
    assert prefixes == [e.get("prefix") for e in mine.get("envFrom", [])]
