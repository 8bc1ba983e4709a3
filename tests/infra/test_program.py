"""The Pulumi program (infra/) as `pulumi up` would run it, against Pulumi's mock engine:
every resource and its inputs, the outputs, the policy an admin relies on (ECR settings,
pinned charts and images, secrets only in Secrets, locked-down containers, probes,
disruption budgets, autoscaling, exposure).

Mocked, because they cannot run here: the Pulumi engine, AWS, Kubernetes and Docker
(see tests/infra/deploy.py). The z2jh values and the Kubernetes objects are validated
against their schemas in test_manifests.py; the hub configuration is run for real in
tests/stack/test_hub_on_kubernetes.py.
"""

from __future__ import annotations

import json
import re

import pytest
from deploy import (
    CONFIG,
    DIGEST,
    ECR_PASSWORD,
    LOAD_BALANCER,
    REPO,
    SECRET_SIG,
    SECRETS,
    deploy,
    random_result,
)

RANDOM_TOKENS = ["hub-service-token", "gateway-metrics-token", "service-cookie-secret"]
SECRET_TYPES = {"kubernetes:core/v1:Secret"}
# the one place a registry credential must go besides a Secret: the image builder's
# login (a Pulumi secret, encrypted in the stack's state)
BUILDER = "docker-build:index:Image"


@pytest.fixture(scope="module")
def aws():
    """The default stack: AWS, no domain, in-cluster database."""
    return deploy(CONFIG, SECRETS)


def test_the_default_stack_has_every_part(aws):
    kinds = sorted({(r.type, r.name) for r in aws.resources})
    expected = {
        ("maas:registry:Registry", "registry"),
        ("maas:images:Images", "images"),
        ("maas:database:Database", "database"),
        ("maas:service:MaaSService", "service"),
        ("maas:gateway:Gateway", "gateway"),
        ("maas:jupyterhub:JupyterHub", "jupyterhub"),
        ("kubernetes:core/v1:Namespace", "maas-namespace"),
        ("kubernetes:core/v1:Namespace", "jupyterhub-namespace"),
        ("aws:ecr/repository:Repository", "registry-maas"),
        ("aws:ecr/repository:Repository", "registry-hub"),
        ("aws:ecr/repository:Repository", "registry-notebook"),
        ("docker-build:index:Image", "images-maas"),
        ("docker-build:index:Image", "images-hub"),
        ("docker-build:index:Image", "images-notebook"),
        ("kubernetes:helm.sh/v3:Release", "database-operator"),
        ("kubernetes:postgresql.cnpg.io/v1:Cluster", "database-cluster"),
        ("kubernetes:batch/v1:Job", "service-migrate"),
        ("kubernetes:apps/v1:Deployment", "service-deployment"),
        ("kubernetes:apps/v1:Deployment", "gateway-deployment"),
        ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "gateway-hpa"),
        ("kubernetes:policy/v1:PodDisruptionBudget", "service-pdb"),
        ("kubernetes:policy/v1:PodDisruptionBudget", "gateway-pdb"),
        ("kubernetes:helm.sh/v3:Release", "jupyterhub-release"),
    }
    assert expected <= set(kinds), expected - set(kinds)
    # component type tokens are maas:<module>:<Type>
    for r in aws.resources:
        if not r.custom and not r.id:  # (not the Service it reads)
            _, module, typ = r.type.split(":")
            assert r.type.startswith("maas:") and module.islower() and typ[0].isupper()


def test_outputs_cover_the_reference_list(aws):
    out = aws.outputs
    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com/maas"
    assert out["ecrRepositoryUrl"] == f"{registry}/maas"
    assert out["imageRef"] == f"{registry}/maas:test@{DIGEST}"
    assert out["imageDigest"] == DIGEST
    assert set(out["imageRefs"]) == {"hub", "maas", "notebook"}
    assert out["maasNamespace"] == "maas"
    assert out["jupyterhubNamespace"] == "jupyterhub"
    assert out["jupyterhubReleaseName"] == "jupyterhub"
    assert out["litellmServiceUrl"] == "http://maas-gateway.maas.svc.cluster.local:4000"
    assert out["litellmPublicUrl"] == f"http://{LOAD_BALANCER}:4000"
    assert out["maasServiceUrl"] == "http://maas-service.maas.svc.cluster.local:10101"
    assert out["jupyterhubPublicUrl"] == f"http://{LOAD_BALANCER}"
    assert out["maasPublicUrl"] == f"http://{LOAD_BALANCER}/services/maas/"
    assert out["ecrLoginCommand"] == (
        "aws ecr get-login-password --region us-east-1 | docker login --username AWS "
        "--password-stdin 123456789012.dkr.ecr.us-east-1.amazonaws.com"
    )
    assert out["dockerPullCommand"] == f"docker pull {registry}/maas:test@{DIGEST}"


def test_ecr_repositories_scan_encrypt_expire_and_are_tagged(aws):
    repos = aws.of_type("aws:ecr/repository:Repository")
    assert len(repos) == 3
    for repo in repos:
        inputs = repo.plain
        assert inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert inputs["encryptionConfigurations"] == [{"encryptionType": "AES256"}]
        assert inputs["tags"] == {"Environment": "test", "Project": "maas", "ManagedBy": "pulumi"}
    policies = aws.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert len(policies) == 3
    rules = json.loads(policies[0].plain["policy"])["rules"]
    keep = [r for r in rules if r["selection"]["tagStatus"] == "any"]
    assert keep[0]["selection"] == {
        "tagStatus": "any",
        "countType": "imageCountMoreThan",
        "countNumber": 10,
    }
    assert keep[0]["action"] == {"type": "expire"}
    # the build cache is kept by a rule of higher priority (lower number)
    cache = [r for r in rules if r["selection"].get("tagPrefixList") == ["buildcache"]]
    assert cache and cache[0]["rulePriority"] < keep[0]["rulePriority"]


def test_images_build_for_amd64_with_a_registry_cache_and_are_tagged(aws):
    images = {r.name: r.plain for r in aws.of_type("docker-build:index:Image")}
    assert set(images) == {"images-hub", "images-maas", "images-notebook"}
    for name, image in images.items():
        repo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/maas/" + name.split("-")[1]
        assert image["push"] is True
        assert image["platforms"] == ["linux/amd64"]
        assert image["context"]["location"] == str(REPO)
        # one Dockerfile, the image its target (they share the wheel stage)
        assert image["dockerfile"]["location"] == str(REPO / "images/Dockerfile")
        assert (REPO / "images/Dockerfile").is_file()
        assert image["target"] == name.split("-")[1]
        assert image["tags"] == [f"{repo}:test", f"{repo}:test-0123456789ab"]
        assert image["cacheFrom"] == [{"registry": {"ref": f"{repo}:buildcache"}}]
        (cache_to,) = image["cacheTo"]
        assert cache_to["registry"]["ref"] == f"{repo}:buildcache"
        assert cache_to["registry"]["mode"] == "max"
        assert cache_to["registry"]["imageManifest"] is True  # what ECR needs
        assert cache_to["registry"]["ociMediaTypes"] is True
        (login,) = image["registries"]
        assert login["address"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
        assert login["password"] == ECR_PASSWORD
    # ... and the password is a Pulumi secret (encrypted in the stack's state)
    assert aws.one(BUILDER, "images-maas").inputs["registries"].get(SECRET_SIG)


def test_every_image_base_is_pinned():
    """Each Dockerfile's FROM names a full version (no latest, no bare major)."""
    for path in ["images/Dockerfile"]:
        text = (REPO / path).read_text()
        args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))
        bases = re.findall(r"^FROM (\S+)", text, re.M)
        assert bases, path
        for base in bases:
            base = re.sub(r"\$\{?(\w+)\}?", lambda m, a=args: a.get(m.group(1), m.group(0)), base)
            if ":" not in base and "@" not in base:
                # a previous stage's name
                assert re.search(rf"^FROM \S+ AS {re.escape(base)}$", text, re.M), (path, base)
                continue
            # a digest pins it; the tag still says which version (images/Dockerfile)
            tag = base.partition("@")[0].rsplit(":", 1)[1]
            assert tag != "latest" and "$" not in tag, (path, base)
            assert re.search(r"\d+\.\d+|\d{4}-\d{2}-\d{2}|sha256", tag), (path, base)


def test_charts_are_pinned(aws):
    from maas_infra.config import CNPG_CHART_VERSION, Z2JH_CHART_VERSION

    releases = {r.name: r.plain for r in aws.of_type("kubernetes:helm.sh/v3:Release")}
    hub = releases["jupyterhub-release"]
    assert hub["chart"] == "jupyterhub"
    assert hub["version"] == Z2JH_CHART_VERSION
    assert hub["repositoryOpts"] == {"repo": "https://hub.jupyter.org/helm-chart/"}
    assert hub["namespace"] == "jupyterhub"
    operator = releases["database-operator"]
    assert operator["chart"] == "cloudnative-pg"
    assert operator["version"] == CNPG_CHART_VERSION
    for release in releases.values():
        assert re.fullmatch(r"\d+\.\d+\.\d+", release["version"])
    cluster = aws.one("kubernetes:postgresql.cnpg.io/v1:Cluster", "database-cluster").plain
    assert re.search(r":\d+\.\d+$", cluster["spec"]["imageName"])
    assert cluster["spec"]["storage"] == {"size": "20Gi", "storageClass": "gp3"}
    assert cluster["spec"]["instances"] == 2


def _occurrences(value, needle: str, path="") -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _occurrences(v, needle, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _occurrences(v, needle, f"{path}[{i}]")]
    return [path] if isinstance(value, str) and needle in value else []


def test_secrets_appear_only_in_secrets(aws):
    secrets = [
        *SECRETS["backendKeys"].values(),
        *SECRETS["hubSecretEnv"].values(),
        *(random_result(name) for name in RANDOM_TOKENS),
    ]
    for secret in secrets:
        holders = []
        for r in aws.resources:
            if r.type.startswith("random:"):
                continue  # where the random tokens are made
            for path in _occurrences(r.plain, secret):
                holders.append((r.type, r.name, path))
        assert holders, f"{secret} is not deployed at all"
        assert all(t in SECRET_TYPES for t, _, _ in holders), holders
    # the ECR token only logs the builder in
    holders = [
        (r.type, path) for r in aws.resources for path in _occurrences(r.plain, ECR_PASSWORD)
    ]
    assert holders and all(t == BUILDER and path.endswith(".password") for t, path in holders)
    # every value of a Secret is a Pulumi secret: encrypted in the stack's state
    for secret in aws.of_type("kubernetes:core/v1:Secret"):
        data = secret.inputs["stringData"]
        assert data.get(SECRET_SIG) or all(
            isinstance(v, dict) and v.get(SECRET_SIG) for v in data.values()
        ), secret.name


def test_backend_keys_reach_the_gateway_as_maas_backend_variables(aws):
    backends = aws.one("kubernetes:core/v1:Secret", "gateway-backends").plain
    assert backends["stringData"] == SECRETS["backendKeys"]
    pod = aws.one("kubernetes:apps/v1:Deployment", "gateway-deployment").plain
    (container,) = pod["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"] == [
        {"secretRef": {"name": "maas-gateway-backends"}, "prefix": "MAAS_BACKEND_"}
    ]
    # no ConfigMap anywhere holds configuration with keys
    assert not aws.of_type("kubernetes:core/v1:ConfigMap")


def _pods(deployment):
    """(kind/name, pod spec) of every workload."""
    for r in deployment.resources:
        if r.type in ("kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job"):
            yield r.name, r.plain["spec"]["template"]["spec"]


def test_every_container_is_non_root_limited_and_locked_down(aws):
    pods = list(_pods(aws))
    assert len(pods) == 3
    for name, pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] >= 1000, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"] == {"drop": ["ALL"]}, name
            assert sc["readOnlyRootFilesystem"] is True, name
            for kind in ("requests", "limits"):
                assert set(c["resources"][kind]) == {"cpu", "memory"}, (name, kind)
            # ... and its image is the one just built, by digest
            assert c["image"].endswith(f"@{DIGEST}"), name
            # no secret value in a pod spec: only references to Secrets
            for env in c.get("env", []):
                if "value" in env:
                    assert not re.search(r"(?i)token|secret|password|key", env["name"]), env


def test_workloads_have_probes_budgets_and_autoscaling(aws):
    for name in ("service-deployment", "gateway-deployment"):
        spec = aws.one("kubernetes:apps/v1:Deployment", name).plain["spec"]
        (c,) = spec["template"]["spec"]["containers"]
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert c[probe]["httpGet"]["port"] == c["ports"][0]["containerPort"], (name, probe)
        assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    service = aws.one("kubernetes:apps/v1:Deployment", "service-deployment").plain
    assert service["spec"]["replicas"] == 2
    (c,) = service["spec"]["template"]["spec"]["containers"]
    assert c["readinessProbe"]["httpGet"]["path"] == "/services/maas/api/v1/health"
    # a replica waits up to 600 s for the migration before it listens
    assert c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"] > 600
    assert c["command"] == ["python", "-m", "hub_service"]
    gateway = aws.one("kubernetes:apps/v1:Deployment", "gateway-deployment").plain
    (g,) = gateway["spec"]["template"]["spec"]["containers"]
    assert g["command"][:3] == ["python", "-m", "hub_service.gateway"]
    assert g["readinessProbe"]["httpGet"]["path"] == "/health/liveliness"
    for name, component in (("service-pdb", "service"), ("gateway-pdb", "gateway")):
        pdb = aws.one("kubernetes:policy/v1:PodDisruptionBudget", name).plain["spec"]
        assert pdb["minAvailable"] == 1
        assert pdb["selector"]["matchLabels"] == {"app.kubernetes.io/name": f"maas-{component}"}
    hpa = aws.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "gateway-hpa").plain
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "maas-gateway",
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70


def test_migrations_run_once_per_image_in_a_job(aws):
    job = aws.one("kubernetes:batch/v1:Job", "service-migrate").plain
    (c,) = job["spec"]["template"]["spec"]["containers"]
    assert c["command"] == ["python", "-m", "hub_service", "--migrate-only"]
    assert re.fullmatch(r"maas-service-migrate-[0-9a-f]{10}", job["metadata"]["name"])
    service = aws.one("kubernetes:apps/v1:Deployment", "service-deployment").plain
    (s,) = service["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in s["env"]}
    assert env["MAAS_MIGRATE_AT_START"]["value"] == "0"  # replicas wait for the Job
    assert env["MAAS_DB_URL"]["valueFrom"]["secretKeyRef"] == {"name": "maas-db-app", "key": "uri"}
    assert env["JUPYTERHUB_API_URL"]["value"] == (
        "http://hub.jupyterhub.svc.cluster.local:8081/hub/api"
    )
    assert env["MAAS_GATEWAY_URL"]["value"] == "http://maas-gateway.maas.svc.cluster.local:4000"
    # the portal's snippets for personal keys show the gateway's public address
    assert env["MAAS_GATEWAY_PUBLIC_URL"]["value"] == f"http://{LOAD_BALANCER}:4000"


def test_the_hub_gets_maas_from_the_service_not_from_typed_profiles(aws):
    values = aws.hub_values()
    hub, single = values["hub"], values["singleuser"]
    assert hub["services"]["maas"]["url"] == "http://maas-service.maas.svc.cluster.local:10101"
    assert "apiToken" not in hub["services"]["maas"]  # it is in hub.existingSecret
    secret = aws.one("kubernetes:core/v1:Secret", "jupyterhub-secret").plain
    assert hub["existingSecret"] == secret["metadata"]["name"] == "maas-hub"
    assert secret["stringData"]["hub.services.maas.apiToken"] == random_result("hub-service-token")
    # the service's own token in the hub is the one the service holds
    service_secret = aws.one("kubernetes:core/v1:Secret", "service-secret").plain
    assert service_secret["stringData"]["hub-token"] == random_result("hub-service-token")
    assert "add_maas(c)" in hub["extraConfig"]["10-maas"]
    assert "profileList" not in single  # the catalog is the one source of profiles
    assert hub["config"]["Authenticator"]["admin_users"] == ["alice", "bob"]
    # the teams add_maas gives roles to (their <team>-admins), from maas:teams
    assert hub["extraEnv"]["MAAS_TEAMS"] == "cs101,cs102"
    assert hub["config"]["JupyterHub"]["authenticator_class"] == "github"
    assert hub["extraEnv"]["OAUTH_CLIENT_SECRET"] == {
        "valueFrom": {"secretKeyRef": {"name": "maas-hub", "key": "env.OAUTH_CLIENT_SECRET"}}
    }
    assert secret["stringData"]["env.OAUTH_CLIENT_SECRET"] == "fake-oauth-client-secret-0001"
    # users' servers: where to ask for a key, never a key
    assert single["extraEnv"]["MAAS_SERVICE_URL"] == (
        "http://maas-service.maas.svc.cluster.local:10101/services/maas/"
    )
    assert not [k for k in single["extraEnv"] if "KEY" in k or "TOKEN" in k]
    assert single["defaultUrl"] == "/lab"
    assert single["storage"]["capacity"] == "10Gi"
    assert single["storage"]["dynamic"]["storageClass"] == "gp3"
    assert single["image"]["name"].endswith("/maas/notebook")
    assert single["image"]["tag"] == f"test@{DIGEST}"
    assert hub["image"]["name"].endswith("/maas/hub")
    assert values["cull"] == {
        "enabled": True,
        "timeout": 3600,
        "every": 300,
        "concurrency": 10,
    }


def test_kernels_reach_the_gateway_and_nothing_else_private(aws):
    policy = aws.hub_values()["singleuser"]["networkPolicy"]
    assert policy["enabled"] is True
    rules = policy["egressAllowRules"]
    assert rules["cloudMetadataServer"] is False
    assert rules["privateIPs"] is False
    ports = {}
    for rule in policy["egress"]:
        (to,) = rule["to"]
        assert to["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "maas"}}
        ports[to["podSelector"]["matchLabels"]["app.kubernetes.io/name"]] = rule["ports"]
    assert ports == {
        "maas-gateway": [{"port": 4000, "protocol": "TCP"}],
        "maas-service": [{"port": 10101, "protocol": "TCP"}],
    }
    # the pods those rules select carry those labels
    for name, pod_label in (
        ("gateway-deployment", "maas-gateway"),
        ("service-deployment", "maas-service"),
    ):
        labels = aws.one("kubernetes:apps/v1:Deployment", name).plain["spec"]["template"]
        assert labels["metadata"]["labels"]["app.kubernetes.io/name"] == pod_label


def test_on_aws_every_load_balancer_is_an_nlb(aws):
    nlb = {
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
    }
    gateway = aws.one("kubernetes:core/v1:Service", "gateway-svc").plain
    assert gateway["spec"]["type"] == "LoadBalancer"
    assert gateway["metadata"]["annotations"] == nlb
    proxy = aws.hub_values()["proxy"]["service"]
    assert proxy == {"type": "LoadBalancer", "annotations": nlb}
    service = aws.one("kubernetes:core/v1:Service", "service-svc").plain
    assert service["spec"]["type"] == "ClusterIP"  # users reach it through the hub's proxy
    # a sign-in begun on one replica ends on it (HubOAuth keeps its state in memory)
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    assert not aws.of_type("kubernetes:networking.k8s.io/v1:Ingress")


def test_with_a_domain_everything_is_behind_tls_ingresses():
    d = deploy({**CONFIG, "domain": "hub.example.org", "tlsClusterIssuer": "letsencrypt"}, SECRETS)
    assert d.outputs["jupyterhubPublicUrl"] == "https://hub.example.org"
    assert d.outputs["maasPublicUrl"] == "https://hub.example.org/services/maas/"
    assert d.outputs["litellmPublicUrl"] == "https://api.hub.example.org"
    values = d.hub_values()
    assert values["proxy"]["service"] == {"type": "ClusterIP"}
    assert values["ingress"]["enabled"] is True
    assert values["ingress"]["tls"] == [
        {"hosts": ["hub.example.org"], "secretName": "maas-hub-tls"}
    ]
    assert values["ingress"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    gateway = d.one("kubernetes:core/v1:Service", "gateway-svc").plain
    assert gateway["spec"]["type"] == "ClusterIP"
    assert "annotations" not in gateway["metadata"] or not gateway["metadata"]["annotations"]
    ingress = d.one("kubernetes:networking.k8s.io/v1:Ingress", "gateway-ingress").plain
    assert ingress["spec"]["tls"] == [
        {"hosts": ["api.hub.example.org"], "secretName": "maas-gateway-tls"}
    ]
    assert ingress["spec"]["rules"][0]["host"] == "api.hub.example.org"


def test_users_servers_can_have_subdomains_of_the_domain():
    """JupyterHub's recommendation for untrusted users: each server (and the MaaS
    service) on its own origin, behind one wildcard certificate."""
    d = deploy({**CONFIG, "domain": "hub.example.org", "userSubdomains": True}, SECRETS)
    values = d.hub_values()
    assert values["hub"]["config"]["JupyterHub"]["subdomain_host"] == "https://hub.example.org"
    hosts = ["hub.example.org", "*.hub.example.org"]
    assert values["ingress"]["hosts"] == hosts
    assert values["ingress"]["tls"] == [{"hosts": hosts, "secretName": "maas-hub-tls"}]
    assert values["hub"]["config"]["GitHubOAuthenticator"]  # the admin's config stays
    # the service's sign-in happens on its own subdomain, at the hub's host
    service = d.one("kubernetes:apps/v1:Deployment", "service-deployment").plain
    [container] = service["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["JUPYTERHUB_OAUTH_CALLBACK_URL"] == (
        "https://maas--service.hub.example.org/services/maas/oauth_callback"
    )
    assert env["JUPYTERHUB_HOST"] == "https://hub.example.org"
    assert d.outputs["maasPublicUrl"] == "https://maas--service.hub.example.org/services/maas/"
    # the gateway's default host is one no user's subdomain can be ("api" is a name)
    assert d.outputs["litellmPublicUrl"] == "https://api--maas.hub.example.org"
    # kernels still reach the service inside the cluster, not through the proxy
    assert values["singleuser"]["extraEnv"]["MAAS_SERVICE_URL"].startswith("http://")
    # without subdomains, one origin, as before
    plain = deploy({**CONFIG, "domain": "hub.example.org"}, SECRETS).hub_values()
    assert "subdomain_host" not in plain["hub"]["config"].get("JupyterHub", {})


def test_subdomains_without_a_domain_are_refused_with_the_fix():
    with pytest.raises(Exception, match="maas:userSubdomains needs maas:domain"):
        deploy({**CONFIG, "userSubdomains": True}, SECRETS)


def test_an_external_database_replaces_the_in_cluster_one():
    url = "postgresql://maas:fake-db-password-0001@db.example.org:5432/maas"
    d = deploy(CONFIG, {**SECRETS, "databaseUrl": url})
    assert not d.of_type("kubernetes:postgresql.cnpg.io/v1:Cluster")
    assert not [r for r in d.of_type("kubernetes:helm.sh/v3:Release") if "database" in r.name]
    secret = d.one("kubernetes:core/v1:Secret", "database-url").plain
    assert secret["stringData"] == {"uri": url}
    for r in d.resources:
        if r.type not in SECRET_TYPES:
            assert not _occurrences(r.plain, "fake-db-password-0001"), r.name
    pod = d.one("kubernetes:apps/v1:Deployment", "gateway-deployment").plain
    env = {e["name"]: e for e in pod["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MAAS_DB_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "maas-database",
        "key": "uri",
    }


def test_any_kubernetes_with_an_existing_registry():
    d = deploy(
        {
            **CONFIG,
            "cloud": "generic",
            "registry": "ghcr.io/example/maas",
            "registryUsername": "bot",
        },
        {**SECRETS, "registryPassword": "fake-registry-password-0001"},
    )
    assert not [r for r in d.resources if r.type.startswith("aws:")]
    assert "ecrRepositoryUrl" not in d.outputs
    assert d.outputs["imageRefs"]["maas"] == f"ghcr.io/example/maas/maas:test@{DIGEST}"
    gateway = d.one("kubernetes:core/v1:Service", "gateway-svc").plain
    assert gateway["spec"]["type"] == "LoadBalancer"
    assert not gateway["metadata"].get("annotations")  # no AWS annotations elsewhere
    assert "annotations" not in d.hub_values()["proxy"]["service"]
    assert d.hub_values()["singleuser"]["storage"]["dynamic"]["storageClass"] == "standard"
    # kubelets pull with a credential in each namespace; pods and the hub refer to it
    pulls = [
        r.plain
        for r in d.of_type("kubernetes:core/v1:Secret")
        if r.plain.get("type") == "kubernetes.io/dockerconfigjson"
    ]
    assert sorted(p["metadata"]["namespace"] for p in pulls) == ["jupyterhub", "maas"]
    auth = json.loads(pulls[0]["stringData"][".dockerconfigjson"])["auths"]["ghcr.io"]
    assert auth["username"] == "bot" and auth["password"] == "fake-registry-password-0001"
    for _, pod in _pods(d):
        assert pod["imagePullSecrets"] == [{"name": "registry-credentials"}]
    assert d.hub_values()["imagePullSecrets"] == ["registry-credentials"]
    for r in d.resources:
        if r.type not in SECRET_TYPES and r.type != BUILDER:
            assert not _occurrences(r.plain, "fake-registry-password-0001"), r.name


def test_a_generic_cluster_without_a_registry_is_refused_with_the_fix():
    with pytest.raises(Exception, match=r"pulumi config set maas:registry"):
        deploy({"cloud": "generic"})
