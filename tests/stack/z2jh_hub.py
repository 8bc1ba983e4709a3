"""Load the hub configuration that the z2jh chart runs in the hub pod, as the hub loads
it, and report what came of it as JSON on stdout (run by test_hub_on_kubernetes.py in a
process of its own: z2jh's configuration switches tornado to its curl HTTP client).

    python z2jh_hub.py <dir> <user>

``<dir>`` holds what the chart mounts at /usr/local/etc/jupyterhub (the chart's own
jupyterhub_config.py and z2jh.py, with that path pointed at ``<dir>``; secret/ and
existing-secret/ from the rendered values). The hub is initialized (database, roles,
services, authenticator, spawner class) but not started: no proxy, no Kubernetes API.
Then the KubeSpawner profile list and the servers' environment are read, the
pre-spawn hook is run for a start that asks for a profile that does not exist (refused
before anything reaches the service), and the post-stop hook is run for ``<user>``'s
default server as KubeSpawner runs it when a server stops (the culler's stops too).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import jupyterhub
from jupyterhub import orm
from jupyterhub.app import JupyterHub
from tornado.web import HTTPError
from traitlets.config import PyFileConfigLoader


async def main(root: Path, user: str) -> dict:
    config = PyFileConfigLoader("jupyterhub_config.py", path=str(root)).load_config()
    config.JupyterHub.db_url = f"sqlite:///{root / 'jupyterhub.sqlite'}"
    hub = JupyterHub(config=config)
    await hub.initialize([])
    roles = {
        role.name: {
            "scopes": sorted(role.scopes),
            "users": sorted(u.name for u in role.users),
            "services": sorted(s.name for s in role.services),
            "groups": sorted(g.name for g in role.groups),
        }
        for role in hub.db.query(orm.Role)
    }
    services = {
        s.name: {"url": s.url, "has_token": bool(s.api_tokens)} for s in hub.db.query(orm.Service)
    }
    spawner = config.KubeSpawner
    profiles = await spawner.profile_list(None)
    asking = SimpleNamespace(
        user=SimpleNamespace(name=user, groups=[], admin=False, created=None),
        name="",
        user_options={"profile": "no-such-profile"},
        api_token=None,
    )
    try:
        await spawner.pre_spawn_hook(asking)
        refused = None
    except HTTPError as e:
        refused = [e.status_code, e.log_message]
    stopped = SimpleNamespace(user=SimpleNamespace(name=user), name="", user_options={})
    spawner.post_stop_hook(stopped)
    notify = spawner.post_stop_hook.__self__
    await asyncio.gather(*notify._tasks)
    return {
        "jupyterhub": jupyterhub.__version__,
        "roles": roles,
        "services": services,
        "custom_scopes": sorted(config.JupyterHub.custom_scopes),
        "authenticator": [c.__name__ for c in type(hub.authenticator).__mro__],
        "spawner_class": f"{hub.spawner_class.__module__}.{hub.spawner_class.__name__}",
        "culler": next(
            s["command"]
            for s in config.JupyterHub.services
            if s["name"] == "jupyterhub-idle-culler"
        ),
        "profiles": profiles,
        "refused_start": refused,
        "server_environment": {
            k: v for k, v in spawner.get("environment", {}).items() if k.startswith("MAAS_")
        },
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))))
