"""A person in a real browser (Debian's Chromium, driven by Playwright) against the real
local stack: log in, open JupyterLab, find SmolLM2 with its prices in the model picker,
insert its snippet into a notebook, run it, read the answer, and see the status bar's
spend go up. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


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
    page.screenshot(path=shots / "picker.png")

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
