"""``add_maas``: what one call in a hub's ``jupyterhub_config.py`` adds, and what it
keeps of the hub's own configuration. The configuration is a real traitlets ``Config``
as JupyterHub loads it; the hooks it installs run end to end in tests/stack
(test_existing_hub.py, and every stack test through the local demo's config)."""

from __future__ import annotations

import asyncio
import stat

import pytest
from jupyterhub.spawner import Spawner
from traitlets.config import Config

from hub_service.hub_config import add_maas, chain


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    """The hub's working directory (where JupyterHub keeps its own files too)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAAS_SERVICE_TOKEN", raising=False)
    return tmp_path


def by_name(c) -> dict:
    return {s["name"]: s for s in c.JupyterHub.services}


def test_a_plain_hub_runs_the_service_and_the_gateway(hub_dir):
    c = Config()
    c.Authenticator.admin_users = {"ada"}
    add_maas(c)

    services = by_name(c)
    maas, gateway = services["maas"], services["maas-gateway"]
    assert maas["url"] == "http://127.0.0.1:10101"
    assert maas["command"][-2:] == ["-m", "hub_service"]
    assert gateway["command"][-6:] == [
        "-m", "hub_service.gateway", "--host", "127.0.0.1", "--port", "4000",
    ]  # fmt: skip
    assert maas["environment"]["MAAS_DB_URL"] == f"sqlite:///{hub_dir / 'maas.sqlite'}"
    assert gateway["environment"]["MAAS_DB_URL"] == maas["environment"]["MAAS_DB_URL"]
    assert maas["environment"]["MAAS_GATEWAY_URL"] == "http://127.0.0.1:4000"
    # the token is kept beside the hub, owner-only, and the same at the next start
    kept = hub_dir / "maas-service-token"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_text().strip() == maas["api_token"]
    again = Config()
    add_maas(again)
    assert by_name(again)["maas"]["api_token"] == maas["api_token"]
    # no secret of the hub's in the processes' environment
    assert maas["api_token"] not in str(maas["environment"])

    assert c.Spawner.environment["MAAS_SERVICE_URL"] == "http://127.0.0.1:10101/services/maas/"
    assert callable(c.Spawner.options_form)
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert roles["maas-admin"]["users"] == ["ada"]
    assert roles["maas-admin"]["groups"] == ["maas-admins"]  # named later, no restart
    assert "access:services!service=maas" in roles["server"]["scopes"]
    assert set(c.JupyterHub.custom_scopes) == {
        "custom:maas:admin",
        "custom:maas:metrics",
        "custom:maas:team-admin",
    }
    # the hub's sign-in (JupyterHub's default here) also tells MaaS of deleted users
    assert c.JupyterHub.authenticator_class.__name__ == "PAMAuthenticatorNotifyingMaaS"


def test_the_hubs_own_roles_hooks_and_environment_stay(hub_dir):
    c = Config()
    c.JupyterHub.spawner_class = "simple"
    c.JupyterHub.authenticator_class = "dummy"
    c.JupyterHub.load_roles = [
        {"name": "user", "scopes": ["self", "read:metrics"]},
        {"name": "graders", "scopes": ["admin:servers"], "groups": ["tas"]},
    ]
    c.JupyterHub.custom_scopes = {"custom:course:grade": {"description": "Grade"}}

    def theirs(spawner):
        pass

    c.Spawner.pre_spawn_hook = theirs
    c.Spawner.environment = {"COURSE": "stats-101"}
    add_maas(c, admin_users=["lin"])

    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert set(roles["user"]["scopes"]) == {"self", "read:metrics", "access:services!service=maas"}
    assert roles["graders"] == {"name": "graders", "scopes": ["admin:servers"], "groups": ["tas"]}
    assert roles["maas-admin"]["users"] == ["lin"]
    assert "custom:course:grade" in c.JupyterHub.custom_scopes
    assert c.Spawner.environment["COURSE"] == "stats-101"
    assert "MAAS_SERVICE_URL" in c.Spawner.environment
    hook = c.SimpleLocalProcessSpawner.pre_spawn_hook
    assert hook is not theirs and callable(hook)
    assert c.JupyterHub.authenticator_class.__name__ == "DummyAuthenticatorNotifyingMaaS"


def test_a_chained_hook_runs_the_hubs_first_then_ours():
    calls = []

    def theirs(spawner):
        calls.append(("theirs", spawner))

    async def ours(spawner):
        calls.append(("ours", spawner))

    asyncio.run(chain(theirs, ours)("s"))
    assert calls == [("theirs", "s"), ("ours", "s")]
    assert chain(None, ours) is ours


def test_servers_elsewhere_cannot_reach_loopback_and_the_hub_says_so(hub_dir):
    c = Config()
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    with pytest.raises(SystemExit) as refused:
        add_maas(c)
    message = str(refused.value)
    assert "KubeSpawner's servers do not run on the hub's host" in message
    assert "http://127.0.0.1:10101/services/maas/" in message
    assert "docs/existing-hub.md" in message

    c = Config()
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    add_maas(c, service_url="http://10.0.0.5:10101", gateway_url="http://10.0.0.5:4000")
    gateway = by_name(c)["maas-gateway"]
    assert gateway["command"][-4:] == ["--host", "10.0.0.5", "--port", "4000"]
    # KubeSpawner's own form: profile_list, not an options form
    assert callable(c.KubeSpawner.profile_list)
    assert "options_form" not in c.Spawner


# Stand-ins named as the spawners that are not installed here (systemdspawner,
# dockerspawner): add_maas knows a spawner by its class's name, as it would the real one.
class NotInstalled(Spawner):
    async def start(self):
        raise NotImplementedError("a stand-in: never started")

    async def stop(self, now=False):
        raise NotImplementedError("a stand-in: never started")

    async def poll(self):
        raise NotImplementedError("a stand-in: never started")


class SystemdSpawner(NotInstalled):
    pass


class DockerSpawner(NotInstalled):
    pass


def test_a_spawner_on_the_hubs_host_reaches_loopback(hub_dir):
    """SystemdSpawner's servers are processes of the hub's host: the local defaults
    stand, and they get the spawn form and the service's URL."""
    c = Config()
    c.JupyterHub.spawner_class = SystemdSpawner
    add_maas(c)
    assert "maas-gateway" in by_name(c)
    assert callable(c.Spawner.options_form)
    assert c.Spawner.environment["MAAS_SERVICE_URL"] == "http://127.0.0.1:10101/services/maas/"
    assert callable(c.SystemdSpawner.pre_spawn_hook)


@pytest.mark.parametrize("run", [True, False])
def test_containers_cannot_reach_loopback_whoever_runs_the_service(hub_dir, run):
    """DockerSpawner's servers are containers: a loopback service URL is refused at start,
    also when the service runs elsewhere (run=False), since the servers still ask it for
    their keys."""
    c = Config()
    c.JupyterHub.spawner_class = DockerSpawner
    with pytest.raises(SystemExit, match="DockerSpawner's servers do not run on the hub's"):
        add_maas(c, run=run)
    c = Config()
    c.JupyterHub.spawner_class = DockerSpawner
    # the docker bridge's address of the hub's host, where both listen
    add_maas(
        c, run=run, service_url="http://172.17.0.1:10101", gateway_url="http://172.17.0.1:4000"
    )
    assert c.Spawner.environment["MAAS_SERVICE_URL"] == "http://172.17.0.1:10101/services/maas/"
    assert ("maas-gateway" in by_name(c)) is run
    if run:
        assert by_name(c)["maas-gateway"]["command"][-4:-2] == ["--host", "172.17.0.1"]
        # kernels call the gateway at gateway_url: a public URL elsewhere does not help
        c = Config()
        c.JupyterHub.spawner_class = DockerSpawner
        with pytest.raises(SystemExit, match="cannot reach http://127.0.0.1:4000"):
            add_maas(
                c,
                service_url="http://172.17.0.1:10101",
                gateway_url="http://127.0.0.1:4000",
                gateway_public_url="https://llm.example.org",
            )


def test_a_service_url_the_hub_registers_is_taken_as_it_is(hub_dir):
    """The hub's own hub.services entry names where its service is (a test stack's may
    be loopback); one registered without a URL gets add_maas's, which is checked."""
    c = Config()
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    c.JupyterHub.services = [{"name": "maas", "url": "http://127.0.0.1:10101", "api_token": "t"}]
    add_maas(c)
    assert c.Spawner.environment["MAAS_SERVICE_URL"] == "http://127.0.0.1:10101/services/maas/"

    c = Config()
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    c.JupyterHub.services = [{"name": "maas", "api_token": "t"}]
    with pytest.raises(SystemExit, match="cannot reach http://127.0.0.1:10101/services/maas/"):
        add_maas(c)


def test_a_service_registered_by_the_hub_is_not_run_again(hub_dir):
    """z2jh registers the service from hub.services, its token from existingSecret."""
    c = Config()
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    c.JupyterHub.services = [
        {"name": "maas", "url": "http://maas-service.maas:10101", "api_token": "from-secret"}
    ]
    c.KubeSpawner.environment = {"EDITOR": "vim"}
    add_maas(c)

    assert list(by_name(c)) == ["maas"]
    maas = by_name(c)["maas"]
    assert maas["api_token"] == "from-secret" and "command" not in maas
    assert not (hub_dir / "maas-service-token").exists()
    expected = "http://maas-service.maas:10101/services/maas/"
    assert c.KubeSpawner.environment == {"EDITOR": "vim", "MAAS_SERVICE_URL": expected}


def test_each_team_gets_a_role_for_its_admins_group_scoped_to_the_team_alone(hub_dir):
    """A hub admin names a team's admins by adding them to <team>-admins in the hub: the
    role's scope is filtered to the team's group, so no other team is theirs."""
    c = Config()
    add_maas(c, teams=["cs101", "cs102"])
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert roles["maas-team-admin-cs101"]["scopes"] == ["custom:maas:team-admin!group=cs101"]
    assert roles["maas-team-admin-cs101"]["groups"] == ["cs101-admins"]
    assert roles["maas-team-admin-cs102"]["groups"] == ["cs102-admins"]
    maas = next(s for s in c.JupyterHub.services if s["name"] == "maas")
    # the service's sign-in may carry the scope, as the hub grants it to its holders
    assert "custom:maas:team-admin" in maas["oauth_client_allowed_scopes"]


def test_the_teams_come_from_maas_teams_when_not_given(hub_dir, monkeypatch):
    """How z2jh's hub.extraEnv (and the Pulumi program's maas:teams) names them."""
    monkeypatch.setenv("MAAS_TEAMS", "cs101, lab-7")
    c = Config()
    add_maas(c)
    names = {r["name"] for r in c.JupyterHub.load_roles}
    assert {"maas-team-admin-cs101", "maas-team-admin-lab-7"} <= names
