"""Virtualenvs holding an image's Python layer, installed as its Dockerfile installs it
(Docker itself cannot run here), and the pins they are checked against."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pins import normalise, pins  # noqa: F401 - pins: re-exported for test_images

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "images"
DOCKERFILE = IMAGES / "Dockerfile"


class Venv:
    def __init__(self, root: Path, python: str):
        self.root = root
        subprocess.run([python, "-m", "venv", str(root)], check=True)
        self.python = str(root / "bin" / "python")
        self.seconds = 0.0

    def pip_install(self, *args: str) -> None:
        """pip install, with pip's cache (a fresh venv costs downloads only once) and
        without building the frontend (the wheel takes the built labextension if there
        is one; the images' Python layers do not use it)."""
        start = time.monotonic()
        done = subprocess.run(
            [self.python, "-m", "pip", "install", "--quiet", *args],
            cwd=REPO,
            env={**os.environ, "SKIP_JUPYTER_BUILDER": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
            capture_output=True,
            text=True,
        )
        self.seconds += time.monotonic() - start
        assert done.returncode == 0, done.stderr[-4000:]

    def versions(self) -> dict[str, str]:
        return installed(self.python)


def installed(python: str) -> dict[str, str]:
    """The versions of what ``python``'s environment has, by normalised name."""
    out = subprocess.run(
        [python, "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {normalise(n): v for n, _, v in (x.partition("==") for x in out.splitlines())}


def make_venv(prefix: str, python: str) -> Venv:
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)  # readable by the image's user (see ``as_image_user``)
    return Venv(root / "venv", python)


def find_python(minor: str) -> str:
    """A Python ``minor`` (``"3.12"``) that any user may run (the image's user runs the
    MaaS commands), the system's first: else one from pyenv; else this one, outside CI
    (in CI the image's Python must be there)."""
    candidates = [
        f"/usr/bin/python{minor}",
        f"/usr/local/bin/python{minor}",
        shutil.which(f"python{minor}"),
        *sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{minor}.*/bin/python{minor}"))),
    ]
    for candidate in filter(None, candidates):
        if os.path.exists(candidate):
            check = subprocess.run([candidate, "-c", "import ensurepip, venv"], capture_output=True)
            if check.returncode == 0:
                return candidate
    assert not os.environ.get("CI"), f"no Python {minor} with venv here (the image's)"
    return sys.executable


def dockerfile_arg(name: str) -> str:
    """The default of ``ARG name=...`` in images/Dockerfile."""
    return re.search(rf"^ARG {name}=(\S+)", DOCKERFILE.read_text(), re.MULTILINE)[1]


def image_tag(name: str) -> str:
    """The tag of the base image that ``ARG name=repository:tag[@digest]`` names."""
    return dockerfile_arg(name).partition("@")[0].rsplit(":", 1)[1]
