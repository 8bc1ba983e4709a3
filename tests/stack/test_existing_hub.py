"""A hub that is not ours gains MaaS by the lines docs/existing-hub.md gives.

Its ``jupyterhub_config.py`` is JupyterHub's own (``jupyterhub --generate-config``),
then the settings any hub on a machine has (where it listens, who signs in, how servers
start: not MaaS's), then the documented lines, copied from the document (only their
ports changed to free ones). A real hub runs it; the hub runs the service and the
gateway; an admin adds a model with the documented ``maas`` command (served by the
session stack's SmolLM2); a user starts a server and makes the usual first call from a
notebook, and it is accounted. The users' servers run from an environment that has only
``pip install jupyterlab-maas`` of ours: the notebook image's Python layer
(.venv-notebook-image: its base's packages, its requirements and the wheel, no hub or
gateway extras).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import requests
from hubclient import HubUser
from hubversions import hub_pythons
from pg import free_port
from waiting import until

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "existing-hub.md"
USERS_BIN = REPO / ".venv-notebook-image" / "bin"
PASSWORD = "an-outsiders-password"

HUB_OWN = """
# -- this hub's own settings (not MaaS's) -------------------------------------------
c.JupyterHub.bind_url = "http://127.0.0.1:{hub_port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_port}"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = "{password}"
c.Authenticator.admin_users = {{"ada"}}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{root}/home/{{username}}"
c.Spawner.cmd = ["{singleuser}"]
c.Spawner.default_url = "/lab"
c.Spawner.args = {args!r}
c.Spawner.environment = {{"LITELLM_LOCAL_MODEL_COST_MAP": "True"}}
"""


def documented_lines() -> str:
    """The Python block that follows the document's marker for this test."""
    text = DOC.read_text()
    after = text.split("tests/stack/test_existing_hub.py adds", 1)[1]
    block = re.search(r"```python\n(.*?)```", after, re.S)
    assert block, "docs/existing-hub.md lost its jupyterhub_config.py lines"
    return "\n".join(line.strip() for line in block.group(1).splitlines()) + "\n"


def test_the_documented_lines_name_the_default_addresses():
    lines = documented_lines()
    assert "from hub_service.hub_config import add_maas" in lines
    assert "127.0.0.1:10101" in lines and "127.0.0.1:4000" in lines


@pytest.fixture(scope="module", params=hub_pythons())
def outsider_hub(request, stack, tmp_path_factory, log_dir):
    """Their hub, under a JupyterHub (this environment's, or the hub image's) installed
    with ``pip install 'jupyterlab-maas[hub,gateway]'``; users' servers run from their
    own environment, with jupyterlab-maas alone (the notebook image's)."""
    if not USERS_BIN.exists():
        assert not os.environ.get("CI"), "bash scripts/setup.sh --with-notebook-image"
        pytest.skip("no .venv-notebook-image: bash scripts/setup.sh --with-notebook-image")
    bindir = Path(request.param).parent
    root = tmp_path_factory.mktemp("their-hub")
    env = {**os.environ, "PATH": f"{bindir}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for name in [n for n in env if n.startswith(("MAAS_", "JUPYTERHUB_"))]:
        del env[name]
    subprocess.run(
        [str(bindir / "jupyterhub"), "--generate-config", "-f", "jupyterhub_config.py"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    generated = (root / "jupyterhub_config.py").read_text()
    assert "c.JupyterHub.bind_url" in generated  # JupyterHub's commented defaults
    ports = {"hub_port": free_port(), "api_port": free_port(), "proxy_port": free_port()}
    service_port, gateway_port = free_port(), free_port()
    own = HUB_OWN.format(
        **ports,
        password=PASSWORD,
        root=root,
        args=["--allow-root"] if os.geteuid() == 0 else [],
        singleuser=USERS_BIN / "jupyterhub-singleuser",
    )
    maas = (
        documented_lines()
        .replace(":10101", f":{service_port}")
        .replace(":4000", f":{gateway_port}")
    )
    (root / "jupyterhub_config.py").write_text(generated + own + "\n" + maas)

    log = open(log_dir / f"existing-hub{bindir.parent.name}.log", "w")  # noqa: SIM115
    hub = subprocess.Popen(
        [str(bindir / "jupyterhub"), "-f", "jupyterhub_config.py"],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    hub_url = f"http://127.0.0.1:{ports['hub_port']}"

    def serving() -> bool:
        assert hub.poll() is None, f"the hub exited; see {log.name}"
        try:
            health = requests.get(f"{hub_url}/services/maas/api/v1/health", timeout=5)
        except requests.ConnectionError:
            return False
        return health.status_code == 200

    until(serving, 180, "the hub and its MaaS service to answer")
    yield {"url": hub_url, "root": root, "gateway": f"http://127.0.0.1:{gateway_port}"}

    family = [psutil.Process(hub.pid), *psutil.Process(hub.pid).children(recursive=True)]
    hub.send_signal(signal.SIGTERM)
    hub.wait(60)
    log.close()
    until(
        lambda: not any(p.is_running() and p.status() != "zombie" for p in family),
        60,
        "the hub's service, gateway and servers to stop with it",
    )


def test_a_notebooks_first_call_works_through_an_outsiders_hub(outsider_hub, stack):
    hub_url = outsider_hub["url"]
    ada = HubUser(hub_url, "ada", PASSWORD).login()
    ada.token = ada.create_token("maas admin")
    added = subprocess.run(
        [
            sys.executable, "-m", "hub_service.cli", "models", "add", "smollm2-135m",
            "--set", "provider_model=openai/smollm2-135m",
            "--set", f"api_base={stack.model_url}",
            "--set", "input_cost_per_token=5e-08",
            "--set", "output_cost_per_token=1.5e-07",
        ],
        env={**os.environ, "MAAS_URL": f"{hub_url}/services/maas/", "MAAS_TOKEN": ada.token},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr

    grace = HubUser(hub_url, "grace", PASSWORD).login()
    grace.start_server()
    kernel = grace.start_kernel()
    answer = grace.execute(
        kernel,
        "from openai import OpenAI\n"
        "import os\n"
        "client = OpenAI()\n"
        "print(client.base_url)\n"
        "r = client.chat.completions.create(model='smollm2-135m', max_tokens=8,\n"
        "    messages=[{'role': 'user', 'content': 'Say hi'}])\n"
        "print(r.usage.total_tokens)",
    )
    base_url, tokens = answer.split()
    # the server and its kernel are the users' environment's, jupyterlab-maas installed
    # there as a wheel (no extras), not this checkout
    where = grace.execute(kernel, "import sys, jupyterlab_maas; print(jupyterlab_maas.__file__)")
    assert where.strip().startswith(str(USERS_BIN.parent / "lib")), where
    # the key this hub's service issued is in no log either (the session's check)
    key = grace.execute(kernel, "import os; print(os.environ['OPENAI_API_KEY'])").strip()
    stack.foreign_keys.append(key)
    assert base_url.startswith(outsider_hub["gateway"])
    assert int(tokens) > 0

    token = grace.create_token("usage")

    def accounted() -> dict | None:
        r = requests.get(
            f"{hub_url}/services/maas/api/v1/users/grace/usage",
            headers={"Authorization": f"token {token}"},
            timeout=10,
        )
        body = r.json()
        return body if r.status_code == 200 and body.get("total_requests") else None

    usage = until(accounted, 30, "grace's request in her usage")
    assert usage["total_requests"] == 1
    assert usage["total_prompt_tokens"] + usage["total_completion_tokens"] == int(tokens)
    # the database is the one the documented defaults put beside the hub
    assert (outsider_hub["root"] / "maas.sqlite").exists()
    grace.stop_server()
