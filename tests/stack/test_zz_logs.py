"""Runs last in the stack session: stop the stack as a user would (Ctrl-C), check that
nothing is left running and that no log the suite produced holds a key."""

from __future__ import annotations

import re


def test_the_hub_log_is_not_flooded_by_the_services_polls(stack):
    """The service reads users every 2 s and groups every second in this stack; the
    hub logs neither at INFO, while the service's other calls still show."""
    log = stack.log_path.read_text(errors="replace")
    assert re.search(r"GET /hub/api/users/\w+ \(maas@", log)
    assert not re.search(r"200 GET /hub/api/(users|groups)\?\S* \(maas@", log)


def test_ctrl_c_stops_everything(stack):
    left = stack.stop()
    assert stack.processes, "the stack's processes were not seen"
    assert not left, f"still running after Ctrl-C: {[p.pid for p in left]}"


def test_no_key_appears_in_any_log(stack, log_dir):
    assert stack.issued_keys, "no keys were issued, nothing was checked"
    logs = [p for p in log_dir.rglob("*") if p.is_file()]
    logs += [p for p in stack.state_dir.rglob("*.log") if p.is_file()]
    assert logs
    for path in logs:
        content = path.read_text(errors="replace")
        # counted, not compared: a failing comparison's message would print the key
        leaked = sum(key in content for key in stack.issued_keys)
        assert leaked == 0, f"{leaked} issued key(s) appear in {path}"
