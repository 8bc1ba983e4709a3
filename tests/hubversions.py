"""The JupyterHubs that the hub-facing tests run under: this environment's (the newest)
and the one the hub image ships (images/hub/requirements.txt's pin: z2jh 4.4's), in
.venv-jupyterhub5, which ``scripts/setup.sh --with-notebook-image`` makes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import jupyterhub
import pytest
from pins import pins

REPO = Path(__file__).resolve().parent.parent
HUB_IMAGE_PYTHON = REPO / ".venv-jupyterhub5" / "bin" / "python"
HUB_IMAGE_JUPYTERHUB = pins(REPO / "images" / "hub" / "requirements.txt")["jupyterhub"]


def hub_pythons() -> list:
    """pytest params: the Python of each JupyterHub, named for its version. Outside CI
    a missing .venv-jupyterhub5 skips its runs (saying how to make it); in CI it fails."""
    missing = not HUB_IMAGE_PYTHON.exists() and not os.environ.get("CI")
    return [
        pytest.param(sys.executable, id=f"jupyterhub-{jupyterhub.__version__}"),
        pytest.param(
            str(HUB_IMAGE_PYTHON),
            id=f"jupyterhub-{HUB_IMAGE_JUPYTERHUB}",
            marks=pytest.mark.skipif(
                missing, reason="no .venv-jupyterhub5: run scripts/setup.sh --with-notebook-image"
            ),
        ),
    ]
