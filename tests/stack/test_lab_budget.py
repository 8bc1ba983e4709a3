"""Budget awareness and the dark theme in a real browser (Debian's Chromium, driven by
Playwright) against the real local stack: an admin gives lena a budget smaller than
one SmolLM2 call; a notebook's kernel calls until the gateway refuses for budget
(429); JupyterLab's status bar item turns to its warning state and a notification
names the spend, the budget and the reset. Then lena switches to JupyterLab Dark: the
model panel and the status bar take the dark theme's colours (screenshot
test-artifacts/screenshots/lab-dark.png)."""

from __future__ import annotations

import json
import re

import pytest
from browser import require_chromium
from waiting import until

require_chromium()

from playwright.sync_api import expect  # noqa: E402

USER = "lena"
BUDGET = 0.000001  # less than one call: the first is admitted, the next refused

CALLS = """
import openai
client = openai.OpenAI(max_retries=0)
for _ in range(10):
    try:
        client.chat.completions.create(model='smollm2-135m', max_tokens=8,
            messages=[{'role': 'user', 'content': 'Say hi'}])
    except openai.RateLimitError as e:
        print('refused', e.status_code, e.message)
        break
else:
    print('never refused')
"""

# The computed colours of an element and of the theme's variables, side by side.
COLOURS = """([selector, background, color]) => {
  const probe = document.createElement('div');
  probe.style.background = `var(${background})`;
  probe.style.color = `var(${color})`;
  document.body.append(probe);
  const el = getComputedStyle(document.querySelector(selector));
  const theme = getComputedStyle(probe);
  const found = {
    background: el.backgroundColor,
    color: el.color,
    themeBackground: theme.backgroundColor,
    themeColor: theme.color
  };
  probe.remove();
  return found;
}"""


def luminance(rgb: str) -> float:
    """Relative luminance (0 black .. 1 white) of a CSS ``rgb(...)``/``rgba(...)``."""
    r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", rgb)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.fixture
def lena(stack):
    """lena with a running server and a budget smaller than one call, both undone."""
    admin = stack.admin
    r = stack.api(
        "PUT",
        f"admin/overrides/user/{USER}",
        admin.token,
        json={"budgets": [{"window": "month", "usd": BUDGET}]},
    )
    assert r.status_code in (200, 201), r.text
    user = stack.user(USER)
    try:
        stack.gateway_refreshed()
        user.start_server()
        # the spend is re-read every 5 s rather than 30 (a setting a user may change)
        r = user.server_api(
            "PUT",
            "lab/api/settings/jupyterlab-maas:plugin",
            json={"raw": json.dumps({"refreshInterval": 5})},
        )
        assert r.status_code == 204, r.text
        # no "Jupyter news?" prompt among the notifications this test reads
        r = user.server_api(
            "PUT",
            "lab/api/settings/@jupyterlab/apputils-extension:notification",
            json={"raw": json.dumps({"fetchNews": "false"})},
        )
        assert r.status_code == 204, r.text
        yield user
    finally:
        stack.api("DELETE", f"admin/overrides/user/{USER}", admin.token)
        user.stop_server()


def test_a_refusal_for_budget_warns_in_the_status_bar_and_the_dark_theme_reads_well(
    stack, browser, lena, log_dir
):
    shots = log_dir.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text))
    try:
        walk_through(stack, page, lena, shots)
    except Exception:
        page.screenshot(path=shots / "lab-budget-failure.png")
        print("browser console:", *console, sep="\n  ")
        raise
    finally:
        page.close()


def walk_through(stack, page, lena, shots):
    page.goto(f"{stack.hub_url}/hub/login?next=%2Fuser%2F{USER}%2Flab")
    page.fill("#username_input", USER)
    page.fill("#password_input", stack.password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf".*/user/{USER}/lab.*"), timeout=60_000)

    # Given lena's budget, nothing spent yet
    status = page.locator(".jp-maas-status")
    expect(status).to_contain_text("of $0.000001 this month", timeout=60_000)
    expect(status).not_to_have_attribute("data-state", "warning")

    # When a notebook calls until the gateway refuses for budget
    kernel = lena.open_notebook("budget.ipynb")
    out = lena.execute(kernel, CALLS)
    assert out.startswith("refused 429"), out
    assert "budget" in out.lower(), out
    refusals = stack.refusals(USER, 1)
    assert {r.reason for r in refusals} <= {"budget", "budget-held"}, refusals

    # Then the status bar item warns, and a notification says spend, budget and reset
    expect(status).to_have_attribute("data-state", "warning", timeout=30_000)
    expect(status).to_have_class(re.compile(r"\bjp-mod-warning\b"))
    expect(status).to_contain_text("LLM budget reached")
    toast = page.locator(".jp-toast-message", has_text="refused for budget")
    expect(toast).to_be_visible(timeout=30_000)
    message = toast.inner_text()
    assert re.search(r"you have spent \$0\.0000\d+ of your \$0\.000001 monthly budget", message), (
        message
    )
    assert re.search(r"It resets on \d{4}-\d{2}-01 at 00:00 UTC\.", message), message
    title = status.get_attribute("title")
    assert re.match(r"\d+ calls? (was|were) refused for budget this period\.", title), title

    # the usage view says so too, with lena's notebook
    status.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("refused for budget", timeout=15_000)
    expect(dialog.locator("[data-testid=by-notebook]")).to_contain_text("budget.ipynb")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # JupyterLab Dark, from the Settings menu
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Settings$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Dark$")).click()
    expect(page.locator("body")).to_have_attribute(
        "data-jp-theme-name", "JupyterLab Dark", timeout=30_000
    )
    until(
        lambda: page.evaluate("document.body.dataset.jpThemeLight") == "false",
        30,
        "the dark theme's stylesheet",
    )
    page.click("li[data-id='jp-maas-picker']")
    panel = page.locator("#jp-maas-picker")
    expect(panel.locator(".jp-maas-model[data-model='smollm2-135m']")).to_be_visible(timeout=30_000)

    def picker():
        return page.evaluate(
            COLOURS, ["#jp-maas-picker", "--jp-layout-color1", "--jp-ui-font-color1"]
        )

    # the theme's stylesheet may still be on its way when the attribute changes
    until(lambda: luminance(picker()["background"]) < 0.2, 30, "the panel's dark background")
    colours = picker()
    assert colours["background"] == colours["themeBackground"], colours
    assert colours["color"] == colours["themeColor"], colours
    assert luminance(colours["background"]) < 0.2 < 0.6 < luminance(colours["color"]), colours
    card = page.evaluate(
        COLOURS,
        [".jp-maas-model[data-model='smollm2-135m']", "--jp-layout-color1", "--jp-ui-font-color1"],
    )
    assert luminance(card["background"]) < 0.2 < 0.6 < luminance(card["color"]), card
    warning = page.evaluate(
        COLOURS, [".jp-maas-status", "--jp-warn-color0", "--jp-ui-inverse-font-color1"]
    )
    assert warning["background"] == warning["themeBackground"], warning
    assert warning["color"] == warning["themeColor"], warning

    page.screenshot(path=shots / "lab-dark.png")
