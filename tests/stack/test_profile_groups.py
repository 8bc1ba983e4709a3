"""Profiles belong to hub groups: a user is offered, may start and gets keys for only the
profiles open to their groups, by every route (the service's API, the hub's REST API,
the hub's spawn form and a hand-made POST to it), on the real hub, service and gateway."""

from __future__ import annotations

import html
import re

import pytest
from waiting import until

STAFF = "staff-pg"  # the only group the GPU profile is for while these tests run
STUDENTS = "cs101-pg"


def form_profiles(user) -> list[str]:
    """The profiles the hub's spawn form offers ``user``."""
    r = user.session.get(f"{user.hub_url}/hub/spawn/{user.name}")
    assert r.status_code == 200, r.status_code
    return re.findall(r'name="profile" value="([a-z0-9-]+)"', r.text)


def restrict_gpu(stack, groups: list[str]) -> None:
    """Open the GPU profile to ``groups`` only ([]: everyone), and wait until the hub's
    copy of the profiles (its form, its check of each start) says so."""
    r = stack.api("PATCH", "admin/profiles/gpu-ml-ai", stack.admin.token, json={"groups": groups})
    assert r.status_code == 200 and r.json()["groups"] == groups, r.text
    outsider = stack.user("outsider-pg")
    until(
        lambda: ("gpu-ml-ai" in form_profiles(outsider)) == (not groups),
        30,
        "the hub's spawn form to follow the change",
    )


@pytest.fixture
def gpu_for_staff(stack):
    """The GPU profile open to STAFF only; a student of STUDENTS and a teacher of STAFF.
    Everyone may use the GPU profile again afterwards."""
    for group, member in ((STUDENTS, "stud-pg"), (STAFF, "teach-pg")):
        stack.user(member)  # the hub knows them once they signed in
        r = stack.admin.hub_api("POST", f"groups/{group}", json={"users": [member]})
        assert r.status_code in (201, 409), r.text
    restrict_gpu(stack, [STAFF])
    yield
    restrict_gpu(stack, [])


def no_server(user) -> bool:
    return not (user.hub_api("GET", f"users/{user.name}").json().get("servers") or {})


def test_a_student_cannot_start_a_profile_outside_their_group_by_any_route(stack, gpu_for_staff):
    student = stack.user("stud-pg")
    token = student.create_token()
    refused = "The profile 'gpu-ml-ai' is not open to you (it is for other hub groups)"

    # the service's API offers and grants only cpu-standard
    r = stack.api("GET", "profiles", token)
    assert [p["slug"] for p in r.json()["profiles"]] == ["cpu-standard"]
    r = stack.api("POST", "users/stud-pg/server", token, json={"profile": "gpu-ml-ai"})
    assert r.status_code == 403 and r.json()["message"].startswith(refused), r.text
    r = stack.api("GET", "users/stud-pg/policy?profile=gpu-ml-ai", token)
    assert r.status_code == 403 and r.json()["message"].startswith(refused), r.text
    r = stack.api("GET", "users/stud-pg/policy", token)
    assert r.status_code == 200 and r.json()["profile"] == "cpu-standard"

    # the hub's REST API, with the user's own token
    r = student.hub_api("POST", "users/stud-pg/server", json={"profile": "gpu-ml-ai"})
    assert r.status_code == 403 and r.json()["message"].startswith(refused), r.text
    assert no_server(student)

    # the hub's spawn form offers cpu-standard only, and a hand-made POST is refused
    assert form_profiles(student) == ["cpu-standard"]
    r = student.session.post(
        f"{stack.hub_url}/hub/spawn/stud-pg",
        data={"profile": "gpu-ml-ai", "_xsrf": student._xsrf()},
    )
    assert r.status_code == 403 and refused in html.unescape(r.text)
    assert no_server(student)

    # a personal key carries cpu-standard's policy, and the gateway holds to it
    r = stack.api("POST", "users/stud-pg/keys", token, json={"name": "course"})
    assert r.status_code == 201, r.text
    key = r.json()
    stack.issued_keys.append(key["key"])
    assert (key["profile"], key["models"]) == ("cpu-standard", ["smollm2-135m"])
    denied = stack.chat(key["key"], model="echo-large")
    assert denied.status_code == 403 and "echo-large" in denied.json()["error"]["message"]


def test_the_profiles_group_and_hub_admins_may_use_it(stack, gpu_for_staff):
    teacher = stack.user("teach-pg")
    token = teacher.create_token()
    slugs = [p["slug"] for p in stack.api("GET", "profiles", token).json()["profiles"]]
    assert slugs == ["cpu-standard", "gpu-ml-ai"]
    assert "gpu-ml-ai" in form_profiles(teacher)
    r = stack.api("GET", "users/teach-pg/policy?profile=gpu-ml-ai", token)
    assert r.status_code == 200 and "echo-large" in r.json()["allowed_models"]
    # a hub admin is in no group, and may use any profile
    admin = stack.admin
    r = stack.api("GET", "profiles", admin.token)
    assert "gpu-ml-ai" in [p["slug"] for p in r.json()["profiles"]]
    # everyone's view of a profile names its groups (the admin console edits them)
    [gpu] = [p for p in r.json()["profiles"] if p["slug"] == "gpu-ml-ai"]
    assert gpu["groups"] == [STAFF]


def test_a_server_whose_profile_is_no_longer_open_to_its_user_gets_no_key(stack):
    """The profile a server's key carries is the hub's record of the server's start,
    checked against the user's groups when the key is issued."""
    user = stack.user("lena-pg")
    token = user.create_token()
    r = stack.api("POST", "users/lena-pg/server", token, json={"profile": "gpu-ml-ai"})
    assert r.status_code in (201, 202), r.text
    user.wait_server(ready=True, timeout=180)
    try:
        key = until(lambda: stack.server_key("lena-pg", token), 30, "the server's key")
        restrict_gpu(stack, [STAFF])
        r = stack.api("POST", "users/lena-pg/keys", token, json={"server_name": ""})
        assert r.status_code == 403, r.text
        assert "not open to you" in r.json()["message"]
        # nor is the key it has renewed, or given kernels' keys
        for method, path, body in (
            ("POST", f"users/lena-pg/keys/{key['id']}/renew", None),
            ("PUT", f"users/lena-pg/keys/{key['id']}/kernels/k1", {"notebook_path": None}),
        ):
            r = stack.api(method, path, token, json=body)
            assert r.status_code == 403 and "not open to you" in r.json()["message"], r.text
    finally:
        restrict_gpu(stack, [])
        user.stop_server()


def test_bad_groups_get_a_sentence_and_change_nothing(stack):
    admin = stack.admin
    for groups in (["a/b"], [" padded"], "cs101", [3]):
        r = stack.api("PATCH", "admin/profiles/cpu-standard", admin.token, json={"groups": groups})
        assert r.status_code == 400 and "hub group names" in r.json()["message"], r.text
    r = stack.api("GET", "admin/profiles/cpu-standard", admin.token)
    assert r.json()["groups"] == []
