"""The portal's Teams page in a real browser (Debian's Chromium, driven by Playwright) on
the real local stack: the hub admin makes the hub group ``cs102`` a team and puts the
instructor in ``cs102-admins``; a student calls the team's model once; the instructor, no
MaaS admin, signed in to the portal, finds Teams in the navigation, chooses the models,
budgets per member, a cap and the term, sees the student's spend in the roster, is told
why an adjustment over the cap is refused, gives the student a day budget of their own
(which the team's audit log then holds), and revokes the student's keys after a
confirmation. A student, who runs no team, has no Teams page; a MaaS admin makes a hub
group a team in the admin console's Teams tab and removes it. axe-core finds no serious
or critical violation. Screenshots land in test-artifacts/screenshots/portal-teams*.png.

(test_teams.py runs a course through the API alone, with other users and ``cs101``.)"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from browser import require_chromium
from test_portal import accessibility_problems, signed_in
from waiting import until

from hub_service.numbers import money

require_chromium()

from playwright.sync_api import expect  # noqa: E402

TEAM = "cs102"
LAB = "portal-teams-lab"  # a hub group a MaaS admin makes a team in the admin console
INSTRUCTOR, STUDENT, CLASSMATE = "irene", "sam", "sara"
MODEL = "portal-team-echo"
# the echo backend, priced so that a request costs a fraction of a cent
TEAM_MODEL = {
    "name": MODEL,
    "provider_model": f"openai/{MODEL}",
    "mode": "chat",
    "description": "The team's model (a mock)",
    "input_cost_per_token": 1e-4,
    "output_cost_per_token": 2e-4,
    "extra_params": {"mock_response": "echo"},
}


def personal_key(stack, name: str) -> str:
    token = stack.user(name).create_token()
    r = stack.api("POST", f"users/{name}/keys", token, json={"name": "course"})
    assert r.status_code == 201, r.text
    stack.issued_keys.append(r.json()["key"])
    return r.json()["key"]


@pytest.fixture(scope="module")
def team(stack):
    """The hub groups, the team's model and the team, made by the hub admin through the
    API; the team grants its model from the start (no term yet); the student has called
    it once. Everything is undone afterwards."""
    admin = stack.admin
    r = stack.api("POST", "admin/models", admin.token, json=TEAM_MODEL)
    assert r.status_code == 201, r.text
    for name in (INSTRUCTOR, STUDENT, CLASSMATE):
        stack.user(name)  # signed in once: the hub knows them
    for group, users in ((TEAM, [STUDENT, CLASSMATE]), (LAB, [])):
        r = admin.hub_api("POST", f"groups/{group}", json={"users": users})
        assert r.status_code in (201, 409), r.text
        if r.status_code == 409:
            admin.hub_api("POST", f"groups/{group}/users", json={"users": users})
    # the hub's role for cs102 (the stack's MAAS_TEAMS) is held by cs102-admins
    r = admin.hub_api("POST", f"groups/{TEAM}-admins/users", json={"users": [INSTRUCTOR]})
    assert r.status_code == 200, r.text
    r = stack.api(
        "PUT", f"admin/teams/{TEAM}", admin.token, json={"available_models": [MODEL, "echo-large"]}
    )
    assert r.status_code in (200, 201), r.text
    r = stack.api("PATCH", f"teams/{TEAM}", admin.token, json={"models": [MODEL]})
    assert r.status_code == 200, r.text
    key = personal_key(stack, STUDENT)
    until(lambda: stack.chat(key, model=MODEL).ok, 30, "the team's model to be granted")
    stack.wait_usage(STUDENT, 1)
    yield key
    for group in (TEAM, LAB):
        stack.api("DELETE", f"admin/teams/{group}", admin.token)
        admin.hub_api("DELETE", f"groups/{group}")
    admin.hub_api("DELETE", f"groups/{TEAM}-admins/users", json={"users": [INSTRUCTOR]})
    stack.api("DELETE", f"admin/models/{MODEL}", admin.token)


def no_accessibility_problems(page) -> None:
    problems = accessibility_problems(page)
    assert problems == []


def portal_nav(page):
    return page.get_by_role("navigation", name="Portal")


def member_row(page, user: str):
    """The roster's row whose row header is ``user`` exactly."""
    return page.locator("tr").filter(has=page.get_by_role("rowheader", name=user, exact=True))


def test_an_instructor_runs_her_team_in_the_portal(stack, browser, team, shots):
    key = team
    admin_token = stack.admin.token
    today = dt.datetime.now(dt.UTC).date()
    starts, ends = today - dt.timedelta(days=30), today + dt.timedelta(days=60)
    page = signed_in(stack, browser, INSTRUCTOR)
    try:
        page.goto(f"{stack.hub_url}/services/maas/")
        nav = portal_nav(page)
        nav.get_by_role("link", name="Teams").click()
        expect(page.get_by_role("heading", name=f"Team {TEAM}")).to_be_visible()
        expect(nav.get_by_role("link", name="Admin")).to_have_count(0)  # no MaaS admin
        expect(page.get_by_text("No term: the team grants its models at any time.")).to_be_visible()

        # the settings: a second model, budgets per member, a cap, the term, the alert
        settings = page.get_by_role("region", name=f"Settings of {TEAM}")
        expect(settings.get_by_label(MODEL, exact=True)).to_be_checked()
        settings.get_by_label("echo-large", exact=True).check()
        expect(settings.get_by_label("Term budget (USD)")).to_have_count(0)  # no term yet
        settings.get_by_label("Term starts (UTC)").fill(f"{starts}T00:00")
        settings.get_by_label("Term ends (UTC)").fill(f"{ends}T00:00")
        settings.get_by_label("Daily budget (USD)").fill("0.05")
        settings.get_by_label("Term budget (USD)").fill("1")
        settings.get_by_label("Daily cap (USD)").fill("0.2")
        settings.get_by_label("Alert at (% of a budget)").fill("70")
        settings.get_by_role("button", name="Save").click()
        expect(page.get_by_text(re.compile(r"^Term from .*: running\.$"))).to_be_visible()
        saved = stack.api("GET", f"teams/{TEAM}", admin_token).json()
        assert sorted(saved["models"]) == sorted([MODEL, "echo-large"])
        assert saved["budgets"] == [{"window": "day", "usd": 0.05}, {"window": "term", "usd": 1}]
        assert saved["caps"] == [{"window": "day", "usd": 0.2}]
        assert saved["starts_at"].startswith(f"{starts}T00:00:00")
        assert saved["ends_at"].startswith(f"{ends}T00:00:00")
        assert (saved["alert_percent"], saved["term_state"]) == (70, "during")

        # the roster: the student's spend of each budget, his request, his last use
        roster = stack.api("GET", f"teams/{TEAM}/members", admin_token).json()["members"]
        mine = {m["user"]: m for m in roster}[STUDENT]
        day = {b["window"]: b for b in mine["budgets"]}["day"]
        assert day["spend_usd"] > 0
        row = member_row(page, STUDENT)
        expect(row).to_contain_text(f"Daily: {money(day['spend_usd'])} of $0.05")
        expect(row).to_contain_text("Term: ")
        assert mine["requests"] >= 1 and mine["last_used"]
        expect(row.locator("td").nth(1)).to_have_text(str(mine["requests"]))
        expect(row).to_contain_text(mine["last_used"][:10])
        expect(member_row(page, CLASSMATE)).to_contain_text("Daily: $0.00 of $0.05")
        export = page.get_by_role("link", name="Export CSV")
        expect(export).to_have_attribute("href", re.compile(rf"teams/{TEAM}/members\?format=csv$"))
        expect(page.get_by_role("img", name=re.compile(rf"\({MODEL} \$"))).to_be_visible()

        # an adjustment over the day's cap is refused with the API's sentence ...
        row.get_by_role("button", name=f"Adjust budgets of {STUDENT}").click()
        editor = page.get_by_role("region", name=f"Adjust the budgets of {STUDENT}")
        editor.get_by_label("Daily budget (USD)").fill("0.5")
        editor.get_by_label("Note (why)").fill("accommodation")
        editor.get_by_role("button", name="Save").click()
        expect(editor.get_by_role("alert")).to_contain_text("over the team's day cap of $0.2")
        # ... within it, it holds, and the team's audit log has it
        editor.get_by_label("Daily budget (USD)").fill("0.1")
        editor.get_by_role("button", name="Save").click()
        expect(editor).to_be_hidden()
        expect(row).to_contain_text("$0.10 / day (accommodation)")
        expect(row).to_contain_text("Daily: ")
        expect(row).to_contain_text(" of $0.10")
        [entry, *_] = stack.api("GET", f"teams/{TEAM}/audit", admin_token).json()["entries"]
        assert (entry["actor"], entry["target"]) == (INSTRUCTOR, f"{TEAM}/{STUDENT}")
        assert entry["after"]["budgets"] == [{"window": "day", "usd": 0.1}]
        assert entry["after"]["note"] == "accommodation"
        changes = page.get_by_role("table", name=re.compile(rf"^Changes to {TEAM}"))
        expect(changes.locator("tbody tr").first).to_contain_text(f"team-member {TEAM}/{STUDENT}")
        expect(changes.locator("tbody tr").first).to_contain_text(INSTRUCTOR)
        no_accessibility_problems(page)
        page.screenshot(path=shots / "portal-teams.png", full_page=True)

        # the student's keys, revoked after a confirmation: how many, and the gateway
        # refuses his key
        row.get_by_role("button", name=f"Revoke keys of {STUDENT}").click()
        dialog = page.get_by_role("alertdialog", name="Confirm revocation")
        expect(dialog).to_contain_text(f"Revoke every key of {STUDENT}?")
        no_accessibility_problems(page)
        dialog.get_by_role("button", name="Revoke keys").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_role("status")).to_have_text(
            re.compile(rf"^Revoked [1-9]\d* keys? of {STUDENT}\.$")
        )
        until(lambda: stack.chat(key, model=MODEL).status_code == 401, 30, "the revocation")
        [entry, *_] = stack.api("GET", f"teams/{TEAM}/audit", admin_token).json()["entries"]
        assert (entry["action"], entry["target"]) == ("revoke", f"{TEAM}/{STUDENT}")
        assert entry["after"]["keys_revoked"] >= 1
        # and his adjustment goes: the team's budgets are his again
        row.get_by_role("button", name=f"Remove adjustment of {STUDENT}").click()
        expect(row.locator("td").nth(4)).to_have_text("-")  # the Adjustment column
        expect(row).to_contain_text(" of $0.05")
        roster = stack.api("GET", f"teams/{TEAM}/members", admin_token).json()["members"]
        assert {m["user"]: m for m in roster}[STUDENT]["adjustment"] is None
    except Exception:
        page.screenshot(path=shots / "portal-teams-failure.png", full_page=True)
        raise
    finally:
        page.close()


def test_a_student_who_runs_no_team_has_no_teams_page(stack, browser, team):
    page = signed_in(stack, browser, CLASSMATE)
    try:
        with page.expect_response(re.compile(r".*/api/v1/teams$")) as answer:
            page.goto(f"{stack.hub_url}/services/maas/#teams")
        assert answer.value.json() == {"teams": []}
        nav = portal_nav(page)
        expect(nav.get_by_role("link", name="Models")).to_be_visible()
        expect(nav.get_by_role("link", name="Teams")).to_have_count(0)
        # the page asked for falls back to the first one
        expect(nav.get_by_role("link", name="Models")).to_have_attribute("aria-current", "page")
    finally:
        page.close()


def test_a_maas_admin_makes_a_group_a_team_and_removes_it(stack, browser, team, shots):
    page = signed_in(stack, browser, "admin")
    try:
        page.goto(f"{stack.hub_url}/services/maas/#admin/teams")
        expect(page.locator(".admin-tabs a[aria-current=page]")).to_have_text("Teams")
        # a MaaS admin runs every team: the Teams page is in the navigation too
        expect(portal_nav(page).get_by_role("link", name="Teams")).to_be_visible()
        expect(member_row(page, TEAM)).to_contain_text(MODEL)

        page.get_by_role("button", name="Make a group a team").click()
        editor = page.get_by_role("region", name="Make a group a team")
        editor.get_by_label("Hub group").fill(LAB)
        editor.get_by_label("echo-large", exact=True).check()
        editor.get_by_role("button", name="Save").click()
        expect(editor).to_be_hidden()
        row = member_row(page, LAB)
        expect(row).to_contain_text("echo-large")
        expect(row).to_contain_text("No term")
        made = stack.api("GET", f"teams/{LAB}", stack.admin.token).json()
        assert made["available_models"] == ["echo-large"] and made["models"] == []
        no_accessibility_problems(page)
        page.screenshot(path=shots / "portal-admin-teams.png")

        row.get_by_role("button", name=f"Remove team {LAB}").click()
        dialog = page.get_by_role("alertdialog", name="Confirm removal")
        expect(dialog).to_contain_text(f"Remove the team {LAB}?")
        dialog.get_by_role("button", name="Remove").click()
        expect(row).to_have_count(0)
        assert stack.api("GET", f"teams/{LAB}", stack.admin.token).status_code == 404
    except Exception:
        page.screenshot(path=shots / "portal-admin-teams-failure.png", full_page=True)
        raise
    finally:
        page.close()
