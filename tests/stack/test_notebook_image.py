"""The users' image (images/Dockerfile, target notebook): its Python layer, installed
over the base image's packages (notebook-image/base-pins.txt) as the Dockerfile installs
it (scripts/setup.sh --with-notebook-image), runs the image's getting-started notebook
inside a hub user's server, with nothing but the credentials that jupyterlab-maas
injects, against the real gateway and SmolLM2.

Docker itself cannot run here: the kernel runs from that virtualenv, registered in the
user's home as the image's would be, in a server of this repository's environment."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGE_PYTHON = REPO / ".venv-notebook-image" / "bin" / "python"
NOTEBOOK = REPO / "notebook-image" / "getting-started.ipynb"

if not IMAGE_PYTHON.exists():
    if os.environ.get("CI"):
        raise RuntimeError("bash scripts/setup.sh --with-notebook-image was not run")
    pytest.skip(
        "the notebook image's virtualenv is missing: bash scripts/setup.sh --with-notebook-image",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def nina(stack):
    """A user whose server offers a kernel from the image's virtualenv."""
    spec = stack.state_dir / "users" / "nina" / ".local/share/jupyter/kernels/maas-image"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(IMAGE_PYTHON), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python (notebook image)",
                "language": "python",
            }
        )
    )
    user = stack.user("nina")
    user.start_server()
    yield user
    user.stop_server()


def test_the_getting_started_notebook_runs_on_the_injected_credentials(stack, nina):
    kernelspecs = nina.server_api("GET", "api/kernelspecs").json()["kernelspecs"]
    assert "maas-image" in kernelspecs
    r = nina.server_api("POST", "api/kernels", json={"name": "maas-image"})
    assert r.status_code == 201, r.text
    kernel = r.json()["id"]
    prefix, key = nina.execute(
        kernel, "import os, sys; print(sys.prefix); print(os.environ['OPENAI_API_KEY'])"
    ).split()
    stack.issued_keys.append(key)  # the last stack test looks for it in every log
    assert prefix == str(IMAGE_PYTHON.parent.parent)
    assert prefix != sys.prefix

    cells = [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    outputs = [nina.execute(kernel, source, results=True) for source in cells]
    by_start = {source.splitlines()[0]: out for source, out in zip(cells, outputs, strict=True)}

    assert "model: smollm2-135m" in outputs[0]
    assert "smollm2-135m" in by_start["models = [m.id for m in client.models.list()]"]
    conversation = next(o for s, o in by_start.items() if s.startswith("class Conversation"))
    assert "5 messages in the conversation" in conversation
    # the last cell: a table of the tokens each step used, all of them non-zero
    table = outputs[-1]
    for step in ("chat", "streaming", "conversation", "code", "total"):
        assert step in table
    assert all(out.strip() for out in outputs[1:]), "a cell printed nothing"
    assert "rror" not in "".join(outputs)

    # six calls reached the gateway with nina's server key: chat, stream, two turns,
    # code, and the %%ai magic
    rows = stack.wait_usage("nina", 6)
    assert [(r.model, r.status_code, r.server_name) for r in rows] == [
        ("smollm2-135m", 200, "")
    ] * 6
