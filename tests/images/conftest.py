"""Fixtures for the images' tests: each image's Python layer in a fresh virtualenv (pip's
cache keeps it to downloads once), and a real PostgreSQL for the MaaS image's commands."""

from __future__ import annotations

import shutil

import pytest
from imagevenv import find_python, image_tag, make_venv
from pg import PostgresServer


@pytest.fixture(scope="module")
def maas_venv():
    """images/maas's Python layer: its requirements file and this repository's wheel
    with the hub and gateway extras."""
    minor = ".".join(image_tag("PYTHON_IMAGE").split(".")[:2])
    venv = make_venv("maas-image-", find_python(minor))
    venv.pip_install("-r", "images/maas/requirements.txt", ".[hub,gateway]")
    print(f"images/maas virtualenv installed in {venv.seconds:.0f} s")
    yield venv
    shutil.rmtree(venv.root.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def hub_venv():
    """images/hub's Python layer: z2jh's hub and KubeSpawner at the base image's pins,
    and this repository's wheel with the hub extra under the same pins."""
    venv = make_venv("hub-image-", find_python("3.12"))  # z2jh's hub image has 3.12
    venv.pip_install(
        "-c",
        "images/hub/requirements.txt",
        "jupyterhub",
        "jupyterhub-kubespawner",
        ".[hub]",
    )
    print(f"images/hub virtualenv installed in {venv.seconds:.0f} s")
    yield venv
    shutil.rmtree(venv.root.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()
