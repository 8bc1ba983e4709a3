"""The notebook image's Python layer (images/Dockerfile, target notebook), installed over
the packages of its base as the Dockerfile installs it: a fresh Python 3.12 (the base's)
seeded with the base's packages (notebook-image/base-pins.txt), then every one of them
as a constraint but those notebook-image/base-moves.txt names, then the layer. That is
.venv-notebook-image, which ``scripts/setup.sh --with-notebook-image`` makes by those
steps (and tests/stack/test_notebook_image.py runs the image's notebook in).

What it must show: pip check finds nothing (pip install only warns when it breaks an
installed package's requirement: the base's notebook 7.3 requires jupyterlab<4.4), no
package of the base moves but those listed, and only upward; and the classic /tree of
notebook 7 is served from that environment."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests
from imagevenv import REPO, installed, normalise, pins
from pg import free_port

from hub_service.local import wait_for_url

NOTEBOOK_IMAGE = REPO / "notebook-image"


def listed_moves() -> set[str]:
    lines = (NOTEBOOK_IMAGE / "base-moves.txt").read_text().splitlines()
    return {normalise(x.split("#")[0].strip()) for x in lines if x.split("#")[0].strip()}


IMAGE_VENV = REPO / ".venv-notebook-image"


@pytest.fixture(scope="module")
def notebook_layer():
    """(the environment's Python, the base's versions as pinned)"""
    python = IMAGE_VENV / "bin" / "python"
    assert python.exists(), "no .venv-notebook-image: run scripts/setup.sh --with-notebook-image"
    return str(python), pins(NOTEBOOK_IMAGE / "base-pins.txt")


def test_pip_check_is_clean_over_the_base(notebook_layer):
    python, _ = notebook_layer
    done = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_only_the_listed_base_packages_move_and_only_upward(notebook_layer):
    from packaging.version import Version

    python, base = notebook_layer
    after = installed(python)
    moved = {n: (v, after.get(n)) for n, v in base.items() if after.get(n) != v}
    down = {n: vs for n, vs in moved.items() if vs[1] is None or Version(vs[1]) < Version(vs[0])}
    assert not down, f"base packages removed or downgraded: {down}"
    listed = listed_moves()
    assert set(moved) <= listed, f"moved without being listed: {set(moved) - listed}"
    assert listed <= set(moved), f"listed but no longer moved: {listed - set(moved)}"
    # the layer's own pins are what is installed
    for name, version in pins(NOTEBOOK_IMAGE / "requirements.txt").items():
        assert after.get(name) == version, name
    assert normalise("jupyterlab_maas") in after
    # the scipy stack stays the base's (the layer pins none of it)
    for name in ["pandas", "numpy", "matplotlib", "scipy"]:
        assert after[name] == base[name], name


def test_the_classic_tree_and_the_lab_are_served(notebook_layer):
    python, _ = notebook_layer
    home = Path(tempfile.mkdtemp(prefix="notebook-home-"))
    port, token = free_port(), "t0ken-for-the-tree"
    bin_dir = Path(python).parent
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    log = open(home / "notebook.log", "w")  # noqa: SIM115 - the process owns it
    proc = subprocess.Popen(
        [
            str(bin_dir / "jupyter"),
            "notebook",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={home}",
        ],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for_url(f"{base}/api/status?token={token}", proc, timeout=120), (
            home / "notebook.log"
        ).read_text()
        tree = requests.get(f"{base}/tree", params={"token": token}, timeout=30)
        assert tree.status_code == 200, tree.text[-2000:]
        config = re.search(
            r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
            tree.text,
            re.S,
        )
        assert config, tree.text[-2000:]
        page = json.loads(config[1])
        assert page["notebookPage"] == "tree"
        # the notebook app's own bundle is there to run it
        bundle = re.search(r'src="([^"]*/main\.[0-9a-f]+\.js)[^"]*"', tree.text)
        assert bundle and requests.get(base + bundle[1], timeout=30).status_code == 200
        lab = requests.get(f"{base}/lab", params={"token": token}, timeout=30)
        assert lab.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    assert "Traceback" not in (home / "notebook.log").read_text(), (
        home / "notebook.log"
    ).read_text()[-4000:]
    shutil.rmtree(home, ignore_errors=True)
