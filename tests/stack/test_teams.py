"""A course run by its instructor, end to end on the local stack (real hub, service,
gateway): the hub admin makes the hub group ``cs101`` a team and puts the instructor in
``cs101-admins`` (the hub role that ``add_maas(teams=...)`` made gives its members
``custom:maas:team-admin!group=cs101``); the instructor, no hub admin, chooses the model,
the budgets over two windows, the cap and the term; a student exhausts a day and is told
which window bound and when it resets; the instructor sees his spend (not his prompts),
raises his day within the cap (audited) and he works again; a classmate may see and
change nothing; another course is not the instructor's; when the term ends the course's
model answers with a sentence saying so.

(The issue's alice, bob and carol are amelia, bruno and chloe here: other stack tests
have users named carol, and a hub group changes its members' policies.)"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from waiting import until

TEAM, OTHER = "cs101", "cs102"
ADMIN, STUDENT, CLASSMATE = "amelia", "bruno", "chloe"
PROMPT = "Say hi to the class"
# the echo backend, priced so that a request costs about a third of a cent
COURSE_MODEL = {
    "name": "course-echo",
    "provider_model": "openai/course-echo",
    "mode": "chat",
    "description": "The course's model (a mock)",
    "input_cost_per_token": 1e-4,
    "output_cost_per_token": 2e-4,
    "extra_params": {"mock_response": "echo"},
}


@pytest.fixture(scope="module")
def course(stack):
    """The hub groups, the course's model and the team, made by the hub admin."""
    admin = stack.admin
    r = stack.api("POST", "admin/models", admin.token, json=COURSE_MODEL)
    assert r.status_code == 201, r.text
    for name in (ADMIN, STUDENT, CLASSMATE, "dora"):
        stack.user(name)  # signed in once: the hub knows them
    for group, users in (
        (TEAM, [STUDENT, CLASSMATE]),
        (OTHER, ["dora"]),
    ):
        r = admin.hub_api("POST", f"groups/{group}", json={"users": users})
        assert r.status_code in (201, 409), r.text
    # the role add_maas(teams=["cs101", "cs102"]) made is held by cs101-admins
    r = admin.hub_api("POST", f"groups/{TEAM}-admins/users", json={"users": [ADMIN]})
    assert r.status_code == 200, r.text
    for group in (TEAM, OTHER):
        r = stack.api(
            "PUT",
            f"admin/teams/{group}",
            admin.token,
            json={"available_models": ["course-echo", "echo-large"]},
        )
        assert r.status_code == 201, r.text
    yield
    for group in (TEAM, OTHER, f"{TEAM}-admins"):
        admin.hub_api("DELETE", f"groups/{group}")
    for group in (TEAM, OTHER):
        stack.api("DELETE", f"admin/teams/{group}", admin.token)
    stack.api("DELETE", "admin/models/course-echo", admin.token)
    stack.move_clock(0)


def personal_key(stack, name: str) -> str:
    token = stack.user(name).create_token()
    r = stack.api("POST", f"users/{name}/keys", token, json={"name": "course"})
    assert r.status_code == 201, r.text
    stack.issued_keys.append(r.json()["key"])
    return r.json()["key"]


def course_chat(stack, key: str):
    return stack.chat(key, model="course-echo", content=PROMPT)


def next_quarter_hour(now: dt.datetime) -> dt.datetime:
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) + (
        dt.timedelta(minutes=15)
    )


def test_an_instructor_runs_a_course_end_to_end(stack, course):
    admin_token = stack.user(ADMIN).create_token()  # after joining cs101-admins
    student_token = stack.user(STUDENT).create_token()
    classmate_token = stack.user(CLASSMATE).create_token()

    # the instructor sees her team, and only hers
    teams = stack.api("GET", "teams", admin_token).json()["teams"]
    assert [t["name"] for t in teams] == [TEAM]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    term_end = next_quarter_hour(now) + dt.timedelta(minutes=15)
    settings = {
        "models": ["course-echo"],
        "budgets": [{"window": "day", "usd": 0.01}, {"window": "week", "usd": 0.02}],
        "caps": [{"window": "day", "usd": 0.03}, {"window": "week", "usd": 0.5}],
        "starts_at": (now - dt.timedelta(days=30)).strftime("%Y-%m-%dT00:00:00Z"),
        "ends_at": term_end.isoformat() + "Z",
        "alert_percent": 75,
    }
    r = stack.api("PATCH", f"teams/{TEAM}", admin_token, json=settings)
    assert r.status_code == 200, r.text
    assert r.json()["term_state"] == "during" and r.json()["models"] == ["course-echo"]
    # a model the hub admin did not make available is not hers to give
    r = stack.api("PATCH", f"teams/{TEAM}", admin_token, json={"models": ["smollm2-135m"]})
    assert r.status_code == 400 and "not available to team 'cs101'" in r.json()["message"]

    # the student works until his day is spent: 429 naming the day and its reset
    key = personal_key(stack, STUDENT)
    until(lambda: course_chat(stack, key).ok, 30, "the course's model to be granted")

    def refused():  # a list: a refused Response is falsy
        r = course_chat(stack, key)
        return [r] if r.status_code == 429 else None

    [r] = until(refused, 60, "the student's day budget to run out")
    message = r.json()["error"]["message"]
    tomorrow = (now + dt.timedelta(days=1)).date().isoformat()
    assert "Budget exhausted: you have spent" in message
    assert "of your $0.01 daily budget (team 'cs101')" in message
    assert f"It resets at {tomorrow}T00:00:00Z." in message
    policy = stack.api("GET", f"users/{STUDENT}/policy", student_token).json()
    assert policy["binding"]["window"] == "day" and policy["binding"]["team"] == TEAM

    # the instructor sees his spend per window, never what he wrote
    roster_r = stack.api("GET", f"teams/{TEAM}/members", admin_token)
    assert roster_r.status_code == 200, roster_r.text
    roster = {m["user"]: m for m in roster_r.json()["members"]}
    assert set(roster) == {STUDENT, CLASSMATE}
    day = {b["window"]: b for b in roster[STUDENT]["budgets"]}["day"]
    assert day["spend_usd"] >= 0.01 and day["usd"] == 0.01
    assert roster[STUDENT]["requests"] >= 2 and roster[STUDENT]["last_used"]
    assert roster[CLASSMATE]["requests"] == 0
    assert PROMPT not in roster_r.text
    exported = stack.api("GET", f"teams/{TEAM}/members?format=csv", admin_token)
    lines = list(csv.DictReader(io.StringIO(exported.text)))
    assert {(x["user"], x["window"]) for x in lines} >= {(STUDENT, "day"), (STUDENT, "week")}
    assert PROMPT not in exported.text

    # an accommodation: over the day's cap it is refused, within it it holds, audited
    path = f"teams/{TEAM}/members/{STUDENT}"
    r = stack.api("PUT", path, admin_token, json={"budgets": [{"window": "day", "usd": 0.05}]})
    assert r.status_code == 400 and "over the team's day cap of $0.03" in r.json()["message"]
    raised = {"budgets": [{"window": "day", "usd": 0.015}], "note": "accommodation"}
    r = stack.api("PUT", path, admin_token, json=raised)
    assert r.status_code == 201, r.text
    until(lambda: course_chat(stack, key).ok, 30, "the student's raised day budget")
    [entry, *_] = stack.api("GET", f"teams/{TEAM}/audit", admin_token).json()["entries"]
    assert (entry["actor"], entry["target"]) == (ADMIN, f"{TEAM}/{STUDENT}")
    assert entry["after"]["budgets"] == [{"window": "day", "usd": 0.015}]

    # a classmate sees nobody's usage and changes nothing
    for method, where, body in (
        ("GET", f"teams/{TEAM}/members", None),
        ("PATCH", f"teams/{TEAM}", {"alert_percent": 10}),
        ("PUT", f"teams/{TEAM}/members/{CLASSMATE}", raised),
        ("DELETE", f"teams/{TEAM}/members/{STUDENT}/keys", None),
        ("GET", f"users/{STUDENT}/usage", None),
    ):
        r = stack.api(method, where, classmate_token, json=body)
        assert r.status_code == 403, (method, where, r.text)
    assert stack.api("GET", "teams", classmate_token).json()["teams"] == []
    # ... and the instructor may not touch another course, nor make teams
    for method, where, body in (
        ("GET", f"teams/{OTHER}/members", None),
        ("PATCH", f"teams/{OTHER}", {"alert_percent": 10}),
        ("PUT", "admin/teams/cs103", {"available_models": []}),
    ):
        r = stack.api(method, where, admin_token, json=body)
        assert r.status_code == 403, (method, where, r.text)

    # she revokes the classmate's keys
    classmate_key = personal_key(stack, CLASSMATE)
    until(lambda: course_chat(stack, classmate_key).ok, 30, "the classmate's key to work")
    r = stack.api("DELETE", f"teams/{TEAM}/members/{CLASSMATE}/keys", admin_token)
    assert r.status_code == 200 and r.json()["revoked"] >= 1
    until(lambda: course_chat(stack, classmate_key).status_code == 401, 30, "the revocation")

    # the term ends: the course's model is refused with a sentence, the rest still works
    stack.move_clock((term_end - now).total_seconds() + 60)
    try:

        def ended():
            r = course_chat(stack, key)
            return [r] if r.status_code == 403 else None

        [r] = until(ended, 30, "the term's end to reach the gateway")
        assert (
            f"Team 'cs101''s term ended at {term_end.isoformat()}Z."
            in (r.json()["error"]["message"])
        )
        assert stack.chat(key).ok  # the hub's own grants still hold
        policy = stack.api("GET", f"users/{STUDENT}/policy", student_token).json()
        assert TEAM in policy["idle_teams"] and "course-echo" not in policy["allowed_models"]
    finally:
        stack.move_clock(0)
