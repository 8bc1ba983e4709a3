"""A person in a real browser (Debian's Chromium, driven by Playwright) against the real
local stack: log in, open JupyterLab, find SmolLM2 with its prices in the model picker,
insert its snippet into a notebook, run it, read the answer, see the status bar's
spend go up and open this period's usage. Screenshots land in test-artifacts/screenshots/.

The version-mismatch check alone alters one response (the server extension's status,
rewritten to another version with Playwright's routing), since installing a second
version of the package beside the first is not what a test should do to the stack."""

from __future__ import annotations

import datetime as dt
import json
import re

from browser import require_chromium

require_chromium()

from playwright.sync_api import expect  # noqa: E402


def test_a_person_picks_a_model_runs_its_snippet_and_sees_the_spend(stack, browser, log_dir):
    shots = log_dir.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        walk_through(stack, page, shots)
    except Exception:
        page.screenshot(path=shots / "failure.png")
        raise
    finally:
        page.close()


def walk_through(stack, page, shots):
    page.goto(f"{stack.hub_url}/hub/login")
    page.fill("#username_input", "rosa")
    page.fill("#password_input", stack.password)
    page.click("#login_submit")

    # the spawn form offers the profiles; the default one is chosen
    expect(page.locator("form")).to_contain_text("CPU - Standard")
    page.screenshot(path=shots / "spawn-form.png")
    page.click("form input[type=submit], form button[type=submit]")
    page.wait_for_url(re.compile(r".*/user/rosa/lab.*"), timeout=180_000)

    status = page.locator(".jp-maas-status")
    expect(status).to_contain_text("this month", timeout=60_000)
    before = status.inner_text()

    page.click("li[data-id='jp-maas-picker']")
    card = page.locator(".jp-maas-model[data-model='smollm2-135m']")
    expect(card).to_contain_text("in $0.05/1M", timeout=30_000)
    expect(card).to_contain_text("out $0.15/1M")
    expect(card).to_contain_text("default")
    # how to run each coding agent in a terminal with the default model
    agents = page.locator("#jp-maas-picker .jp-maas-agents")
    expect(agents.locator("[data-agent='Claude Code'] code")).to_have_text(
        "claude --model smollm2-135m"
    )
    expect(agents.locator("[data-agent='OpenCode'] code")).to_have_text(
        "opencode -m maas/smollm2-135m"
    )
    expect(agents.locator("[data-agent='Codex'] code")).to_contain_text(stack.gateway_url)
    page.screenshot(path=shots / "picker.png")
    agents.screenshot(path=shots / "picker-agents.png")

    page.locator(".jp-LauncherCard[data-category='Notebook']").first.click()
    # the notebook's kernel is up when the status bar says so
    expect(page.locator(".jp-StatusBar-Widget", has_text="Idle").first).to_be_visible(
        timeout=120_000
    )
    card.get_by_role("button", name="Insert snippet").click()
    cell = page.locator(".jp-NotebookPanel .jp-Cell").nth(1)
    expect(cell).to_contain_text('model="smollm2-135m"')
    # the inserted cell is the active one: run it from command mode
    page.locator(".jp-NotebookPanel .jp-Notebook").first.focus()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")
    answer = cell.locator(".jp-OutputArea-output")
    expect(answer).not_to_be_empty(timeout=120_000)
    assert "Error" not in answer.inner_text()

    # the status bar re-reads the spend every 30 s
    expect(status).not_to_have_text(before, timeout=45_000)
    assert re.search(r"\$0\.0000\d+ this month", status.inner_text())
    page.screenshot(path=shots / "notebook-and-status-bar.png")
    status.screenshot(path=shots / "status-bar.png")

    # a click on the status bar opens this period's spend by model and the last requests
    status.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Spend by model this period", timeout=15_000)
    month = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")
    expect(dialog).to_contain_text(f"this month since {month}-01")
    expect(dialog.locator("[data-testid=by-model]")).to_contain_text("smollm2-135m")
    expect(dialog.locator("[data-testid=recent] tr")).not_to_have_count(1)  # header only
    dialog.locator(".jp-Dialog-content").screenshot(path=shots / "usage.png")
    page.keyboard.press("Escape")


def test_the_picker_says_so_when_the_server_extension_is_another_version(stack, browser, log_dir):
    """Logs in as a user whose server another test may or may not have started."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text))

    def older_server_extension(route):
        status = json.loads(route.fetch().text())
        route.fulfill(json={**status, "version": "0.0.9"})

    # JupyterLab adds a cache-busting query string
    page.route(re.compile(r".*/jupyterlab-maas/status(\?.*)?$"), older_server_extension)
    try:
        page.goto(f"{stack.hub_url}/hub/login?next=/hub/spawn")
        page.fill("#username_input", "rosa")
        page.fill("#password_input", stack.password)
        page.click("#login_submit")
        page.wait_for_url(re.compile(r".*/(hub/spawn|user/rosa/lab).*"))
        if "/hub/spawn" in page.url:
            page.click("form input[type=submit], form button[type=submit]")
        page.wait_for_url(re.compile(r".*/user/rosa/lab.*"), timeout=180_000)
        page.click("li[data-id='jp-maas-picker']", timeout=60_000)
        picker = page.locator("#jp-maas-picker")
        expect(picker).to_contain_text("server extension is version 0.0.9", timeout=30_000)
        expect(picker).to_contain_text("restart the server")
        expect(picker.locator(".jp-maas-model")).to_have_count(0)
        picker.screenshot(path=log_dir.parent / "screenshots" / "version-mismatch.png")
    except Exception:
        print("browser console:", *console, sep="\n  ")
        raise
    finally:
        context.close()
