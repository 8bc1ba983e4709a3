"""The hub's log stays readable: the MaaS service's polls of users and groups (every
few seconds) do not flood it, while the service's other calls still show. (That no log
holds a key, and that Ctrl-C stops everything, is checked as the session's stack
stops: tests/stack/conftest.py.)"""

from __future__ import annotations

import re

from waiting import until


def test_the_hub_log_is_not_flooded_by_the_services_polls(stack):
    """The service reads users every 2 s and groups every second in this stack; the
    hub logs neither at INFO. A personal key's issue makes the service ask the hub who
    the user's new token is, and that call shows."""
    name = "hugo-log"
    token = stack.user(name).create_token()
    r = stack.api("POST", f"users/{name}/keys", token, json={"name": "log check"})
    assert r.status_code == 201, r.text
    stack.issued_keys.append(r.json()["key"])

    def shown() -> bool:
        log = stack.log_path.read_text(errors="replace")
        return bool(re.search(rf"200 GET /hub/api/user \({name}@", log))

    until(shown, 15, "the service's check of hugo-log's token in the hub's log")
    log = stack.log_path.read_text(errors="replace")
    assert not re.search(r"200 GET /hub/api/(users|groups)\?\S* \(maas@", log)
