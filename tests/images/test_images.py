"""The images (images/Dockerfile's targets maas and hub): what their stages promise, and
their Python layers, installed into fresh virtualenvs as the stages install them, doing
what the Kubernetes objects will ask of them.

Docker cannot run here, so the MaaS image's commands run from its virtualenv as its
user (uid 10001, with the image's environment and a home of its own, the virtualenv
read-only to it) against a real PostgreSQL: the migration Job once, then the service
with MAAS_MIGRATE_AT_START=0 and the gateway, as their Deployments run them. The hub
image's layer is z2jh's hub and KubeSpawner at the base image's pins plus our hub extra,
where the modules the chart's hub.extraConfig uses must import."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests
from imagevenv import DOCKERFILE, IMAGES, REPO, image_tag, normalise, pins
from pg import free_port

from hub_service import db
from hub_service.local import wait_for_url

SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


class Dockerfile:
    """A Dockerfile's instructions (one stage's, given its name), continuation lines joined
    and comments dropped."""

    def __init__(self, path: Path, stage: str | None = None):
        self.text = path.read_text()
        lines = [x for x in self.text.splitlines() if not x.lstrip().startswith("#")]
        joined = re.sub(r"\\\n", " ", "\n".join(lines))
        self.instructions = [
            (m[1].upper(), m[2].strip())
            for m in re.finditer(r"^\s*([A-Za-z]+)\s+(.*)$", joined, re.MULTILINE)
        ]
        self.global_args = [a for n, a in self.instructions if n == "ARG"]
        if stage:
            starts = [i for i, (n, _) in enumerate(self.instructions) if n == "FROM"]
            ends = [*starts[1:], len(self.instructions)]
            (self.instructions,) = [
                self.instructions[i:j]
                for i, j in zip(starts, ends, strict=True)
                if self.instructions[i][1].endswith(f" AS {stage}")
            ]

    def all(self, instruction: str) -> list[str]:
        return [args for name, args in self.instructions if name == instruction]

    def final_stage(self) -> list[tuple[str, str]]:
        starts = [i for i, (name, _) in enumerate(self.instructions) if name == "FROM"]
        return self.instructions[starts[-1] :]

    def args(self) -> dict[str, str]:
        return dict(a.split("=", 1) for a in self.global_args if "=" in a)

    def env(self) -> dict[str, str]:
        """The final stage's ENV, as the container starts with it."""
        found = {}
        for name, args in self.final_stage():
            if name == "ENV":
                found.update(word.split("=", 1) for word in shlex.split(args))
        return found

    def user(self) -> str:
        return [args for name, args in self.final_stage() if name == "USER"][-1]


MAAS = Dockerfile(DOCKERFILE, "maas")
HUB = Dockerfile(DOCKERFILE, "hub")


# -- what the Dockerfiles promise -------------------------------------------------------


@pytest.mark.parametrize("image", [MAAS, HUB], ids=["maas", "hub"])
def test_the_dockerfile_bakes_in_no_secret_and_runs_as_a_numeric_non_root_user(image):
    for name in [*image.args(), *image.env()]:
        assert not SECRET_NAME.search(name), f"{name} would be visible in the image's layers"
    uid = image.user().split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "runAsNonRoot needs a numeric user that is not root"
    # the wheel comes from the shared wheel stage
    assert "--from=wheel /wheels /tmp/wheels" in image.all("COPY")


def test_the_maas_image_is_pinned_and_serves_both_commands():
    python_tag = image_tag("PYTHON_IMAGE")
    assert re.fullmatch(r"3\.11\.\d+-slim-bookworm", python_tag), python_tag
    assert MAAS.env()["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert MAAS.env()["PYTHONUNBUFFERED"] == "1"
    assert MAAS.all("EXPOSE") == ["10101 4000"]
    assert json.loads(MAAS.all("CMD")[-1]) == ["python", "-m", "hub_service"]
    install = next(a for n, a in MAAS.final_stage() if n == "RUN" and "pip install" in a)
    assert "-r /tmp/maas-requirements.txt" in install and "[hub,gateway]" in install
    assert "images/maas/requirements.txt" in " ".join(MAAS.all("COPY"))
    requirements = pins(IMAGES / "maas" / "requirements.txt")
    assert requirements["litellm"].startswith("1.108."), "pyproject's gateway extra pins 1.108"


def test_the_hub_image_moves_with_its_pins():
    base = HUB.args()["HUB_IMAGE"].partition("@")[0]
    assert base.startswith("quay.io/jupyterhub/k8s-hub:")
    assert base in (IMAGES / "hub" / "requirements.txt").read_text()
    assert HUB.final_stage()[0][1] == "${HUB_IMAGE} AS hub"
    install = next(a for n, a in HUB.final_stage() if n == "RUN" and "pip install" in a)
    assert "-c /tmp/maas-hub-requirements.txt" in install and "[hub]" in install


# -- images/maas: the migration Job, the service and the gateway -------------------------


class ImageUser:
    """Run commands as the image's user would: its uid (when these tests run as root), a
    home of its own as working directory, and the image's environment."""

    def __init__(self, image: Dockerfile, python: str):
        self.uid = int(image.user().split(":")[0])
        self.home = Path(tempfile.mkdtemp(prefix="maas-home-"))
        self.prefix: list[str] = []
        if os.geteuid() == 0 and shutil.which("setpriv"):
            self.prefix = [
                "setpriv",
                f"--reuid={self.uid}",
                f"--regid={self.uid}",
                "--clear-groups",
            ]
            os.chown(self.home, self.uid, self.uid)
            # the gateway execs Python again: the second exec is the one that tells
            reexec = "import os, sys; os.execv(sys.executable, [sys.executable, '-c', ''])"
            if subprocess.run([*self.prefix, python, "-c", reexec]).returncode != 0:
                self.prefix = []  # this machine's Python is not readable by others
        self.env = {
            "PATH": f"{Path(python).parent}:/usr/local/bin:/usr/bin:/bin",
            **image.env(),
            "HOME": str(self.home),
        }

    def popen(self, argv: list[str], log: Path, **env: str) -> subprocess.Popen:
        return subprocess.Popen(
            [*self.prefix, *argv],
            cwd=self.home,
            env={**self.env, **env},
            stdout=open(log, "w"),  # noqa: SIM115 - the process owns it
            stderr=subprocess.STDOUT,
        )

    def cleanup(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


def process_uid(proc: subprocess.Popen) -> int:
    status = Path(f"/proc/{proc.pid}/status").read_text()
    return int(re.search(r"^Uid:\s+(\d+)", status, re.MULTILINE)[1])


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def test_the_maas_image_layer_matches_its_pins(maas_venv):
    python = subprocess.run(
        [maas_venv.python, "-c", "import sys; print(*sys.version_info[:2], sep='.')"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert image_tag("PYTHON_IMAGE").startswith(python + "."), "not the image's Python"
    installed = maas_venv.versions()
    for name, version in pins(IMAGES / "maas" / "requirements.txt").items():
        assert installed.get(name) == version, name


def test_the_maas_image_runs_the_migration_job_then_the_service_and_the_gateway(
    maas_venv, postgres, log_dir
):
    python = maas_venv.python
    user = ImageUser(MAAS, python)
    database = postgres.create_database("maas_image")
    # as CloudNativePG's <cluster>-app Secret gives it (its "uri" key)
    db_url = database.replace("postgresql+psycopg://", "postgresql://")
    service_port, gateway_port = free_port(), free_port()
    procs: list[subprocess.Popen] = []
    try:
        # The migration Job: the database URL is all it needs
        job = user.popen(
            [python, "-m", "hub_service", "--migrate-only"],
            log_dir / "image-maas-job.log",
            MAAS_DB_URL=db_url,
        )
        assert job.wait(timeout=120) == 0, (log_dir / "image-maas-job.log").read_text()

        # The service's Deployment: no migration, the hub's variables (no hub needs to
        # run for its health check), listening on all interfaces
        service = user.popen(
            [python, "-m", "hub_service"],
            log_dir / "image-maas-service.log",
            MAAS_DB_URL=db_url,
            MAAS_MIGRATE_AT_START="0",
            MAAS_GATEWAY_URL=f"http://127.0.0.1:{gateway_port}",
            JUPYTERHUB_API_TOKEN=secrets.token_hex(16),
            JUPYTERHUB_API_URL=f"http://127.0.0.1:{free_port()}/hub/api",
            JUPYTERHUB_SERVICE_URL=f"http://0.0.0.0:{service_port}",
            JUPYTERHUB_SERVICE_PREFIX="/services/maas/",
            JUPYTERHUB_SERVICE_NAME="maas",
        )
        procs.append(service)
        # The gateway's Deployment
        gateway = user.popen(
            [python, "-m", "hub_service.gateway", "--host", "0.0.0.0", "--port", str(gateway_port)],
            log_dir / "image-maas-gateway.log",
            MAAS_DB_URL=db_url,
        )
        procs.append(gateway)

        health = f"http://127.0.0.1:{service_port}/services/maas/api/v1/health"
        assert wait_for_url(health, service, timeout=60), (
            log_dir / "image-maas-service.log"
        ).read_text()
        body = requests.get(health, timeout=10).json()
        assert body["status"] == "ok"
        assert body["database"]["reachable"] is True
        assert body["database"]["revision"] == db.head_revision()

        liveliness = f"http://127.0.0.1:{gateway_port}/health/liveliness"
        assert wait_for_url(liveliness, gateway, timeout=120), (
            log_dir / "image-maas-gateway.log"
        ).read_text()
        # the gate is in front: no key, no models
        assert (
            requests.get(f"http://127.0.0.1:{gateway_port}/v1/models", timeout=10).status_code
            == 401
        )

        if user.prefix:
            assert {process_uid(p) for p in procs} == {user.uid}
    finally:
        codes = [stop(p) for p in procs]
        user.cleanup()
    # both stop cleanly on Kubernetes' SIGTERM, as PID 1 without an init
    assert codes == [0, 0], codes
    assert "Traceback" not in (log_dir / "image-maas-service.log").read_text()


# -- images/hub: z2jh's hub with our modules ------------------------------------------------


def test_the_hub_image_layer_keeps_z2jhs_versions_and_imports_our_modules(hub_venv):
    wanted = pins(IMAGES / "hub" / "requirements.txt")
    installed = hub_venv.versions()
    assert installed["jupyterhub"] == wanted["jupyterhub"]
    assert installed["jupyterhub-kubespawner"] == wanted["jupyterhub-kubespawner"]
    moved = {n: (v, wanted[n]) for n, v in installed.items() if n in wanted and v != wanted[n]}
    assert not moved, f"packages of the base image that the extension would move: {moved}"

    modules = [
        "kubespawner",
        "hub_service.spawner",
        "hub_service.hub_hooks",
        "hub_service.hub_config",
    ]
    script = (
        "import importlib, json, jupyterhub\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "from importlib.metadata import version\n"
        "print(json.dumps([jupyterhub.__version__, version('jupyterhub-kubespawner')]))\n"
    )
    done = subprocess.run(
        [hub_venv.python, "-c", script], capture_output=True, text=True, cwd=hub_venv.root
    )
    assert done.returncode == 0, done.stderr
    hub, kubespawner = json.loads(done.stdout.strip().splitlines()[-1])
    assert (hub, kubespawner) == (wanted["jupyterhub"], wanted["jupyterhub-kubespawner"])
    assert normalise("jupyterlab_maas") in installed


# The hub-facing unit tests: what add_maas adds to a hub's configuration, the spawn form,
# the profile gate and KubeSpawner's profile_list (the stack runs these hooks for real).
HUB_FACING = ["tests/hub_service/test_hub_config.py", "tests/hub_service/test_spawner.py"]


def test_the_hub_facing_tests_pass_in_the_hub_images_python(hub_venv, tmp_path):
    """Exactly the hub image's Python layer (its Python, every pin of its base, our wheel
    with the hub extra), not the tests' environment: the hub-facing tests pass there,
    importing our modules as the image installs them."""
    hub_venv.pip_install("-c", "images/hub/requirements.txt", "pytest")  # moves no pin
    done = subprocess.run(
        [
            hub_venv.python,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rs",
            "--rootdir",
            str(REPO),
            *(str(REPO / t) for t in HUB_FACING),
        ],
        cwd=tmp_path,  # not the checkout: hub_service comes from the installed wheel
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "skipped" not in summary, summary
    where = subprocess.run(
        [hub_venv.python, "-c", "import hub_service; print(hub_service.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "site-packages" in where, where
