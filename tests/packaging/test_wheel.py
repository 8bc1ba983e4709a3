"""The extension as a new user gets it, from a clean checkout.

The repository's committed HEAD (not the working tree) is cloned into a temporary
directory and pip builds its wheel with build isolation, as the notebook image's first
stage does: npm installs the frontend's dependencies into the clone, and the
jupyter-builder CLI must come from pip's isolated build environment (any other one is
taken off PATH), so nothing is borrowed from this repository's node_modules or
virtualenv.
The wheel goes into a fresh virtualenv beside the JupyterLab that
notebook-image/requirements.txt pins (the version the image will have); jupyter lists
both halves of the extension there, and a real Chromium (Debian's, driven by
Playwright) opens that JupyterLab and sees the extension at work.

Real: git, pip and PyPI, npm and its registry, the virtualenv, ``jupyter lab``, Chromium.
Not here: Docker and the base image (no access to quay.io), and any MaaS service: the
extension shows the sentence it shows a server that has none.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests
from browser import chromium
from pg import free_port
from pins import pins
from waiting import until

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO / "notebook-image" / "requirements.txt"
VERSION = json.loads((REPO / "package.json").read_text())["version"]
NO_SERVICE = "No MaaS service is configured for this server"


def jupyterlab_pin() -> str:
    """The ``jupyterlab==X`` requirement of the notebook image."""
    version = pins(REQUIREMENTS).get("jupyterlab")
    assert version, f"{REQUIREMENTS} pins no jupyterlab=="
    return f"jupyterlab=={version}"


def run(args: list, log: Path, env: dict | None = None, timeout: float = 600) -> str:
    """Run ``args``, its output appended to ``log``; return the output, or fail the
    test with its tail."""
    r = subprocess.run(
        [str(a) for a in args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    with log.open("a") as f:
        f.write(f"$ {' '.join(map(str, args))}\n{r.stdout}\n")
    assert r.returncode == 0, f"{args[:4]} failed ({r.returncode}):\n{r.stdout[-3000:]}"
    return r.stdout


def clean_env(**extra: str) -> dict:
    """This process's environment without what would let a build or a server borrow
    from this repository's setup: its virtualenv, any jupyter-builder on PATH (so the
    isolated build must bring its own), the hook-skipping and isolation-disabling
    switches, Jupyter paths, and the MaaS and hub variables."""
    path = [
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not (Path(d) / "jupyter-builder").exists()
    ]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MAAS_", "JUPYTERHUB_", "JUPYTER_"))
        and k not in {"VIRTUAL_ENV", "PYTHONPATH", "SKIP_JUPYTER_BUILDER", "PIP_NO_BUILD_ISOLATION"}
    }
    env["PATH"] = os.pathsep.join(path)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, log_dir) -> Path:
    """The wheel pip builds, with build isolation, from a shallow clone of HEAD."""
    root = tmp_path_factory.mktemp("packaging")
    log = log_dir / "packaging-build.log"
    log.write_text("")
    source, wheels = root / "src", root / "wheels"
    run(["git", "clone", "--quiet", "--depth", "1", f"file://{REPO}", source], log)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", source, "-w", wheels], log, clean_env())
    (built,) = wheels.glob("jupyterlab_maas-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory, log_dir) -> Path:
    """A fresh virtualenv with the wheel and the notebook image's JupyterLab."""
    venv = tmp_path_factory.mktemp("venv")
    log = log_dir / "packaging-venv.log"
    log.write_text("")
    run([sys.executable, "-m", "venv", venv], log)
    run([venv / "bin/python", "-m", "pip", "install", wheel, jupyterlab_pin()], log, clean_env())
    return venv


@pytest.fixture(scope="module")
def venv_env(venv, tmp_path_factory) -> dict:
    """The environment a user of that virtualenv has: its bin first, a home of its own
    (no user-level Jupyter config or extensions), no MaaS service."""
    home = tmp_path_factory.mktemp("home")
    env = clean_env(HOME=str(home), VIRTUAL_ENV=str(venv))
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    return env


def section(output: str, header: str) -> list[str]:
    """The indented lines under the line ``header`` in a ``jupyter ... list``, up to the
    blank line that ends its section; unindented lines among them are log messages (a
    slow import, say), not entries."""
    lines = re.sub(r"\x1b\[[0-9;]*m", "", output).splitlines()
    if header not in lines:
        return []
    start = lines.index(header) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return [line.strip() for line in lines[start:end] if line.startswith(" ")]


def test_the_wheel_carries_the_labextension_and_the_server_config(wheel):
    data = f"jupyterlab_maas-{VERSION}.data/data/"
    labextension = f"{data}share/jupyter/labextensions/jupyterlab-maas/"
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("package.json", "install.json", "static/style.js"):
        assert labextension + name in names
    assert any(re.fullmatch(rf"{labextension}static/remoteEntry\.\w+\.js", n) for n in names)
    config = f"{data}etc/jupyter/jupyter_server_config.d/jupyterlab_maas.json"
    assert json.loads(zipfile.ZipFile(wheel).read(config)) == {
        "ServerApp": {"jpserver_extensions": {"jupyterlab_maas": True}}
    }


def test_jupyter_lists_both_halves_enabled_and_ok(venv, venv_env, log_dir):
    log = log_dir / "packaging-venv.log"
    listed = run([venv / "bin/jupyter", "labextension", "list"], log, venv_env)
    assert f"JupyterLab v{jupyterlab_pin().split('==')[1]}" in listed, listed
    ours = section(listed, str(venv / "share/jupyter/labextensions"))
    assert f"jupyterlab-maas v{VERSION} enabled OK (python, jupyterlab-maas)" in ours, listed

    listed = run([venv / "bin/jupyter", "server", "extension", "list"], log, venv_env)
    config = section(listed, f"Config dir: {venv / 'etc/jupyter'}")
    assert "jupyterlab_maas enabled" in config, listed
    assert f"jupyterlab_maas {VERSION} OK" in config, listed


@pytest.fixture(scope="module")
def lab(venv, venv_env, tmp_path_factory, log_dir):
    """``jupyter lab`` from the virtualenv on loopback with a token; its URL and token
    once its API answers."""
    port, token = free_port(), secrets.token_hex(16)
    root = tmp_path_factory.mktemp("notebooks")
    log_path = log_dir / "packaging-jupyter-lab.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                venv / "bin/jupyter",
                "lab",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                "--allow-root",  # CI runs as root
            ],
            env=venv_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert proc.poll() is None, f"jupyter lab exited; see {log_path}"
        try:
            headers = {"Authorization": f"token {token}"}
            r = requests.get(f"{url}/api/status", headers=headers, timeout=5)
        except requests.ConnectionError:
            return False
        return r.ok

    try:
        until(answers, 60, f"jupyter lab to answer (see {log_path})")
        yield url, token
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def test_chromium_loads_the_extension_from_the_wheel(lab, browser, wheel, log_dir):
    """The page loads the wheel's remoteEntry, and the plugin shows itself in the status
    bar and the left sidebar, saying what a server without a MaaS service lacks (which
    also proves the wheel's server extension answered)."""
    from playwright.sync_api import expect

    url, token = lab
    (remote_entry,) = (
        Path(n).name
        for n in zipfile.ZipFile(wheel).namelist()
        if re.search(r"/labextensions/jupyterlab-maas/static/remoteEntry\.\w+\.js$", n)
    )
    shots = log_dir.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    loaded: list[int] = []
    page.on(
        "response",
        lambda r: loaded.append(r.status) if r.url.endswith(f"/{remote_entry}") else None,
    )
    try:
        page.goto(f"{url}/lab?token={token}")
        config = json.loads(page.locator("#jupyter-config-data").text_content())
        (ours,) = (e for e in config["federated_extensions"] if e["name"] == "jupyterlab-maas")
        assert ours["load"] == f"static/{remote_entry}"

        status = page.locator(".jp-maas-status")
        expect(status).to_have_text("LLM: unavailable", timeout=60_000)
        expect(status).to_have_attribute("title", re.compile(NO_SERVICE))
        assert loaded == [200]

        page.click("li[data-id='jp-maas-picker']")
        expect(page.locator("#jp-maas-picker .jp-maas-message")).to_contain_text(NO_SERVICE)
        page.screenshot(path=shots / "packaging-lab.png")
    except Exception:
        page.screenshot(path=shots / "packaging-failure.png")
        raise
    finally:
        page.close()
