"""The portal's Notebooks page in a real browser on the real local stack: a user sees
no server, chooses a profile by its resources, models and budget, starts their default
server, watches it start and become ready, opens JupyterLab from it and stops it. The
API behind the page acts as the user: no one lists, starts or stops another's servers.
The hub's own spawn form shows the same models and budget lines. Screenshot:
test-artifacts/screenshots/portal-notebooks.png."""

from __future__ import annotations

import re

import pytest
from browser import require_chromium
from waiting import until

require_chromium()

from playwright.sync_api import expect  # noqa: E402
from test_portal import accessibility_problems, signed_in  # noqa: E402

USER = "nora"
GPU_BUDGET = 25.0  # set on gpu-ml-ai for this test (the stack's profiles have none)


@pytest.fixture(scope="module")
def gpu_budget(stack):
    """gpu-ml-ai with a budget of its own while these tests run, as it was afterwards."""
    admin = stack.admin.token
    before = stack.api("GET", "admin/profiles/gpu-ml-ai", admin).json()
    changes = {"budgets": [{"window": "month", "usd": GPU_BUDGET}]}
    r = stack.api("PATCH", "admin/profiles/gpu-ml-ai", admin, json=changes)
    assert r.status_code == 200, r.text
    yield
    restore = {k: before[k] for k in changes}
    stack.api("PATCH", "admin/profiles/gpu-ml-ai", admin, json=restore)


def _stop_default_server(stack, token: str) -> None:
    """Stop the user's default server if it runs (other tests share the stack)."""
    stack.api("DELETE", f"users/{USER}/server", token)
    until(
        lambda: stack.api("GET", f"users/{USER}/servers", token).json()["servers"] == [],
        120,
        f"{USER}'s server to stop",
    )


def test_a_user_starts_opens_and_stops_a_notebook_from_the_portal(
    stack, browser, log_dir, gpu_budget
):
    shots = log_dir.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    token = stack.user(USER).create_token("notebooks test")
    page = signed_in(stack, browser, USER)
    answers: list[tuple[str, int, str]] = []  # (method, status, server status) the page saw

    def note(response):
        if "/api/v1/users/" in response.url and "/server" in response.url:
            try:
                body = response.json()
            except Exception:  # noqa: BLE001 - a 204 has no body
                body = {}
            states = [s["status"] for s in body.get("servers", [])] or [body.get("status", "")]
            answers.extend((response.request.method, response.status, s) for s in states)

    page.on("response", note)
    try:
        page.goto(f"{stack.hub_url}/services/maas/#notebooks")
        expect(page.locator("table.servers")).to_contain_text(
            "No server is running", timeout=30_000
        )

        # the profiles, each with its resources, the models it allows and its budget
        cpu = page.locator("label.profile-choice", has_text="CPU - Standard")
        gpu = page.locator("label.profile-choice", has_text="GPU - ML/AI")
        expect(cpu).to_contain_text("2 cores · 4 GB")
        expect(cpu.get_by_role("listitem")).to_have_text(["smollm2-135m"])
        expect(cpu).to_contain_text("No budget limit")
        expect(gpu).to_contain_text("4 cores · 32 GB · 1 GPU")
        expect(gpu).to_contain_text("all enabled")
        gpu_models = gpu.get_by_role("listitem")
        expect(gpu_models.filter(has_text="echo-large")).to_have_count(1)
        expect(gpu_models.filter(has_text="smollm2-135m")).to_have_count(1)
        expect(gpu).to_contain_text(f"${GPU_BUDGET:.2f} per month")
        expect(cpu.locator("input[type=radio]")).to_be_checked()  # the default profile

        # start the default server with cpu-standard: starting, then ready
        cpu.click()
        page.get_by_role("button", name="Start", exact=True).click()
        row = page.locator("tr[data-server=default]")
        expect(row).to_be_visible(timeout=60_000)
        expect(row).to_contain_text("CPU - Standard")
        expect(row).to_contain_text("Ready", timeout=180_000)
        # 201 if the server was ready within the hub's slow_spawn_timeout, else 202; the
        # page followed it from starting to ready
        posted = next(i for i, a in enumerate(answers) if a[0] == "POST")
        assert answers[posted][1:] in ((201, "ready"), (202, "pending")), answers
        seen = [a[2] for a in answers[posted:] if a[0] == "GET" and a[2]]
        assert seen and seen[-1] == "ready", answers
        assert "pending" not in seen[seen.index("ready") :], answers
        print(f"notebooks: the page saw {answers[posted:]}")

        assert accessibility_problems(page) == []
        page.screenshot(path=shots / "portal-notebooks.png", full_page=True)

        # a second start of a running server is a conflict, with a sentence
        again = stack.api("POST", f"users/{USER}/server", token, json={"profile": "gpu-ml-ai"})
        assert again.status_code == 409 and "already" in again.json()["message"]

        # Open: the user's JupyterLab, in a tab of its own
        with page.expect_popup() as opened:
            row.get_by_role("link", name=re.compile("^Open")).click()
        lab = opened.value
        lab.wait_for_url(re.compile(rf".*/user/{USER}/lab.*"), timeout=60_000)
        expect(lab.locator("#jp-main-dock-panel")).to_be_visible(timeout=60_000)
        lab.close()

        # Stop, after a confirmation: the server goes away
        row.get_by_role("button", name=re.compile("^Stop")).click()
        page.locator("[role=alertdialog] button", has_text="Stop").click()
        expect(page.locator("table.servers")).to_contain_text(
            "No server is running", timeout=120_000
        )
        assert stack.api("GET", f"users/{USER}/servers", token).json()["servers"] == []
    except Exception:
        page.screenshot(path=shots / "portal-notebooks-failure.png")
        raise
    finally:
        page.close()
        _stop_default_server(stack, token)


def test_no_one_lists_starts_or_stops_another_users_servers(stack):
    other = stack.user("otto").create_token("notebooks test")
    for method, path, body in [
        ("GET", f"users/{USER}/servers", None),
        ("POST", f"users/{USER}/server", {"profile": "cpu-standard"}),
        ("POST", f"users/{USER}/servers/lab2", {}),
        ("DELETE", f"users/{USER}/server", None),
        ("DELETE", f"users/{USER}/servers/lab2", None),
    ]:
        r = stack.api(method, path, other, json=body)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert r.json()["message"].startswith("You may only see and manage your own servers")
    assert stack.api("GET", f"users/{USER}/servers").status_code == 401


def test_a_bad_start_gets_a_sentence_and_starts_nothing(stack):
    token = stack.user(USER).create_token("notebooks test")
    for body, words in [
        ({"profile": "no-such-profile"}, "There is no profile 'no-such-profile'"),
        ({"profile": 5}, "profile must be a string"),
        ({"profile": "cpu-standard", "image": "x"}, "Unknown fields"),
    ]:
        r = stack.api("POST", f"users/{USER}/server", token, json=body)
        assert r.status_code == 400, (body, r.text)
        assert words in r.json()["message"], r.text
    # the local hub has no named servers: the hub's own sentence says so
    r = stack.api("POST", f"users/{USER}/servers/lab2", token, json={})
    assert r.status_code == 400 and "Named servers are not enabled" in r.json()["message"]
    assert stack.api("GET", f"users/{USER}/servers", token).json() == {"servers": []}


def test_the_hubs_spawn_form_shows_each_profiles_models_and_budget(stack, browser, gpu_budget):
    page = signed_in(stack, browser, "nora-spawn")
    try:

        def form_is_current():
            # the hub caches the service's profiles for a minute
            page.goto(f"{stack.hub_url}/hub/spawn")
            return f"Budget: ${GPU_BUDGET:.2f} per month" in page.locator("form").inner_text()

        until(form_is_current, 90, "the spawn form to show gpu-ml-ai's budget", every=5)
        cpu = page.locator("label.maas-profile", has_text="CPU - Standard")
        gpu = page.locator("label.maas-profile", has_text="GPU - ML/AI")
        expect(cpu.locator(".maas-models")).to_have_text("Models: smollm2-135m")
        expect(cpu.locator(".maas-budget")).to_have_text("Budget: no limit")
        expect(gpu.locator(".maas-models")).to_contain_text("Models: all enabled (")
        expect(gpu.locator(".maas-models")).to_contain_text("echo-large")
        expect(gpu.locator(".maas-budget")).to_have_text(f"Budget: ${GPU_BUDGET:.2f} per month")
        expect(gpu.locator(".maas-resources")).to_have_text("4 cores, 32GB, 1 GPU")
    finally:
        page.close()
