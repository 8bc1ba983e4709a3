"""The hub configuration that infra/ deploys, and the one docs/existing-hub.md gives a
release that is not ours (docs/z2jh/values.yaml), run for real: the zero-to-jupyterhub
chart's own jupyterhub_config.py (4.4.0, tests/infra/z2jh/) with those values, loaded
into a real JupyterHub with KubeSpawner installed, against the local stack's MaaS
service: the profiles come from the service, the roles and custom scopes load, the
culler's post-stop hook revokes a running server's key.

Each runs under this environment's JupyterHub and under the hub image's (JupyterHub 5.5
and KubeSpawner 7.0 in .venv-jupyterhub5: tests/hubversions.py). Not run: Kubernetes
itself (the hub is initialized, not started, so KubeSpawner never calls the API).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jupyterhub
import pytest
import yaml
from hubversions import HUB_IMAGE_JUPYTERHUB, HUB_IMAGE_PYTHON, hub_pythons
from waiting import until

REPO = Path(__file__).resolve().parents[2]
Z2JH = REPO / "tests" / "infra" / "z2jh"
sys.path.insert(0, str(REPO / "tests" / "infra"))

from deploy import helm_merge  # noqa: E402 - tests/infra/deploy.py, which puts infra/ on the path
from maas_infra.hub_values import jupyterhub_values, secret_env_key  # noqa: E402

MOUNT = "/usr/local/etc/jupyterhub"


def helm_values(values: dict) -> dict:
    """The chart's defaults with ``values`` over them, plus what the chart adds."""
    merged = helm_merge(yaml.safe_load((Z2JH / "values.yaml").read_text()), values)
    merged["Chart"] = {"Name": "jupyterhub", "Version": "4.4.0", "AppVersion": "5.5.0"}
    merged["Release"] = {"Name": "jupyterhub", "Namespace": "jupyterhub", "Service": "Helm"}
    return merged


def mount(root: Path, values: dict, secrets: dict[str, str]) -> Path:
    """What the chart mounts in the hub pod, under ``root`` instead of /usr/local/etc."""
    for name in ("jupyterhub_config.py", "z2jh.py"):
        text = (Z2JH / name).read_text()
        assert MOUNT in text
        (root / name).write_text(text.replace(MOUNT, str(root)))
    (root / "secret").mkdir()
    (root / "secret" / "values.yaml").write_text(yaml.safe_dump(helm_values(values)))
    chart_secrets = {
        "hub.config.JupyterHub.cookie_secret": "ab" * 32,
        "hub.config.CryptKeeper.keys": "cd" * 32,
        "hub.config.ConfigurableHTTPProxy.auth_token": "ef" * 32,
        # the chart generates one for every service; hub.existingSecret's wins
        "hub.services.maas.apiToken": "chart-generated-token-that-must-not-be-used",
    }
    for key, value in chart_secrets.items():
        (root / "secret" / key).write_text(value)
    (root / "existing-secret").mkdir()
    for key, value in secrets.items():
        (root / "existing-secret" / key).write_text(value)
    # the ConfigMap's resource names (z2jh's defaults for a release named jupyterhub)
    (root / "config").mkdir()
    for name in ("hub", "proxy-api", "proxy-public", "singleuser", "user-scheduler"):
        (root / "config" / name).write_text(name)
    return root


def documented_values(service_base: str) -> dict:
    """docs/z2jh/values.yaml, the release's own sign-in and admins added, its service
    URL pointed at the stack's service."""
    values = yaml.safe_load((REPO / "docs" / "z2jh" / "values.yaml").read_text())
    values["hub"]["services"]["maas"]["url"] = service_base
    values["hub"]["config"] = {
        "JupyterHub": {"authenticator_class": "dummy"},
        "DummyAuthenticator": {"password": "not-used-here"},
        "Authenticator": {"admin_users": ["alice"]},
    }
    return values


@pytest.fixture(scope="module", params=["infra", "docs"])
def values_from(request) -> str:
    return request.param


@pytest.fixture(scope="module", params=hub_pythons())
def hub_python(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def hub_on_kubernetes(values_from, hub_python, stack, tmp_path_factory):
    """Initialize the deployed hub's configuration (infra/'s values, or the documented
    ones) under a JupyterHub (this environment's, or the hub image's); ``kim``'s server
    runs meanwhile and its key is stopped by the culler's hook."""
    kim = stack.user(f"kim-{values_from}-{abs(hash(hub_python)) % 1000}")
    kim.start_server()
    kim.kernel = kim.start_kernel()
    key = kim.execute(kim.kernel, "import os; print(os.environ['OPENAI_API_KEY'])").strip()
    stack.issued_keys.append(key)
    assert stack.chat(key).status_code == 200

    service_base = stack.service_url.split("/services/")[0]
    token = (stack.state_dir / "maas-service-token").read_text().strip()
    infra_values = jupyterhub_values(
        app_name="maas",
        maas_namespace="maas",
        service_url=service_base,
        gateway_port=4000,
        service_port=10101,
        hub_image="registry.example.org/maas/hub:dev@sha256:" + "1" * 64,
        notebook_image="registry.example.org/maas/notebook:dev@sha256:" + "2" * 64,
        existing_secret="maas-hub",
        storage_class="gp3",
        admin_users=["alice"],
        teams=["cs101"],
        hub_config={
            "JupyterHub": {"authenticator_class": "dummy"},
            "DummyAuthenticator": {"password": "not-used-here"},
        },
        hub_secret_env=["OAUTH_CLIENT_SECRET"],
    )
    values = infra_values if values_from == "infra" else documented_values(service_base)
    root = mount(
        tmp_path_factory.mktemp("z2jh"),
        values,
        {"hub.services.maas.apiToken": token, secret_env_key("OAUTH_CLIENT_SECRET"): "x"},
    )
    env = {
        "PATH": str(Path(hub_python).parent),
        "HOME": str(root),
        # what Kubernetes and the hub pod's spec give the hub container
        "POD_NAMESPACE": "jupyterhub",
        "HUB_SERVICE_HOST": "127.0.0.1",
        "HUB_SERVICE_PORT": "8081",
        "PROXY_API_SERVICE_HOST": "127.0.0.1",
        "PROXY_API_SERVICE_PORT": "8001",
        "PROXY_PUBLIC_SERVICE_HOST": "127.0.0.1",
        "PROXY_PUBLIC_SERVICE_PORT": "80",
        "CONFIGPROXY_AUTH_TOKEN": "ef" * 32,
    }
    if values_from == "infra":  # the pod's environment: hub.extraEnv's plain values
        for name in ("MAAS_SERVICE_URL", "MAAS_TEAMS"):
            env[name] = values["hub"]["extraEnv"][name]
    run = subprocess.run(
        [hub_python, str(Path(__file__).with_name("z2jh_hub.py")), str(root), kim.name],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    image = hub_python == str(HUB_IMAGE_PYTHON)
    assert report["jupyterhub"] == (HUB_IMAGE_JUPYTERHUB if image else jupyterhub.__version__)
    yield report, kim, key, stack, values_from
    kim.stop_server()


def test_the_profiles_are_the_services(hub_on_kubernetes):
    report, _, _, stack, _ = hub_on_kubernetes
    service_profiles = stack.api("GET", "profiles", stack.admin.token).json()["profiles"]
    assert [p["slug"] for p in report["profiles"]] == [p["slug"] for p in service_profiles]
    by_slug = {p["slug"]: p for p in report["profiles"]}
    gpu = by_slug["gpu-ml-ai"]["kubespawner_override"]
    assert gpu["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert [p["slug"] for p in report["profiles"] if p["default"]] == ["cpu-standard"]


def test_servers_are_told_the_service_and_starts_are_checked(hub_on_kubernetes):
    """The users' servers get MAAS_SERVICE_URL (where the lab extension asks for its
    key), and a start asking for a profile that does not exist is refused by the hub
    with the service's sentence."""
    report, *_ = hub_on_kubernetes
    url = report["server_environment"]["MAAS_SERVICE_URL"]
    assert url.endswith("/services/maas/") and url.startswith("http")
    status, message = report["refused_start"]
    assert status == 400
    assert "no-such-profile" in message


def test_the_roles_and_scopes_load(hub_on_kubernetes):
    report, *_, values = hub_on_kubernetes  # values: where they come from
    roles = report["roles"]
    assert roles["maas-service"]["services"] == ["maas"]
    assert "read:servers" in roles["maas-service"]["scopes"]
    assert roles["maas-admin"]["users"] == ["alice"]
    assert set(roles["maas-admin"]["scopes"]) == {
        "custom:maas:admin",
        "custom:maas:metrics",
        "custom:maas:team-admin",
    }
    # infra's values name the team cs101 (hub.extraEnv.MAAS_TEAMS, from maas:teams): a
    # role for its cs101-admins, scoped to it alone; the documented values name none
    teams = {name for name in roles if name.startswith("maas-team-admin-")}
    if values == "infra":
        assert teams == {"maas-team-admin-cs101"}
        assert roles["maas-team-admin-cs101"]["scopes"] == ["custom:maas:team-admin!group=cs101"]
        assert roles["maas-team-admin-cs101"]["groups"] == ["cs101-admins"]
    else:
        assert teams == set()
    assert "access:services!service=maas" in roles["server"]["scopes"]
    assert "access:services!service=maas" in roles["user"]["scopes"]
    assert {"custom:maas:admin", "custom:maas:metrics"} <= set(report["custom_scopes"])
    assert report["services"]["maas"]["has_token"]
    assert report["spawner_class"] == "kubespawner.spawner.KubeSpawner"
    # sign-in is the configured authenticator, which also tells MaaS of deleted users
    assert "DummyAuthenticator" in report["authenticator"]
    assert report["authenticator"][0] == "DummyAuthenticatorNotifyingMaaS"
    culler = " ".join(report["culler"])
    # infra/'s culling; a release of its own keeps the chart's
    flags = ["--timeout=3600", "--cull-every=300" if values == "infra" else "--cull-every=600"]
    for flag in flags:
        assert flag in culler


def test_the_cullers_stop_revokes_the_servers_key(hub_on_kubernetes):
    _, _, key, stack, _ = hub_on_kubernetes

    def refused():
        r = stack.chat(key)
        return r.status_code == 401 and "revoked (server stopped)" in r.json()["error"]["message"]

    until(refused, 15, "the gateway to refuse the stopped server's key")
