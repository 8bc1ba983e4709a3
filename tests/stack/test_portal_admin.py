"""The portal's admin console in a real browser (Debian's Chromium, driven by
Playwright) on the real local stack, signed in as the hub's admin: a price set with the
calculator (whose figures are ``hub_service.pricing``'s) reaches the Models page and the
audit log; a profile is created and deleted; an override is set, seen in a user's
effective policy, and removed; a key is revoked after a confirmation; chargeback exports
a CSV. axe-core finds no serious or critical violation on any tab. Everything changed is
restored. Screenshots land in test-artifacts/screenshots/portal-admin-<tab>.png.

(That a non-admin sees no Admin entry and gets 403 from admin/models is
tests/stack/test_portal.py's.)"""

from __future__ import annotations

import csv
import io
import re

import pytest
from browser import require_chromium
from test_portal import accessibility_problems, signed_in
from waiting import until

from hub_service import pricing

require_chromium()

from playwright.sync_api import expect  # noqa: E402

MODEL = "smollm2-135m"
# its name exactly (other tests add models whose names contain it, in another case)
EXACTLY = re.compile(rf"^\s*{re.escape(MODEL)}\s*$")


def model_row(page):
    """The table row whose first cell is the model's name."""
    return page.locator("tbody tr").filter(
        has=page.locator("td:first-child, th:first-child", has_text=EXACTLY)
    )


@pytest.fixture
def admin_page(stack, browser, shots, request):
    """The portal, signed in as the hub's admin (a picture of the page if the test fails)."""
    page = signed_in(stack, browser, "admin")
    failed = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed:  # (the test's report comes before teardown)
        page.screenshot(path=shots / f"portal-admin-failure-{request.node.name}.png")
    page.close()


def open_tab(stack, page, tab: str) -> None:
    page.goto(f"{stack.hub_url}/services/maas/#admin/{tab}")
    expect(page.locator(".admin-tabs a[aria-current=page]")).to_have_text(tab.capitalize())


def no_accessibility_problems(page) -> None:
    problems = accessibility_problems(page)
    assert problems == []


def test_an_admin_prices_a_model_with_the_calculator_and_users_see_it(stack, admin_page, shots):
    page = admin_page
    token = stack.admin.token
    before = stack.api("GET", f"admin/models/{MODEL}", token).json()
    # the seed method for the local model's instance at 62 tokens/s: other prices than
    # the catalog's ($0.05 / $0.15)
    table = pricing.load_instance_prices()
    expected = pricing.seed_prices(table["instances"]["c7i.large"]["hourly"], 62)
    assert float(expected.input_per_million) * 1e-6 != before["input_cost_per_token"]
    try:
        page.goto(f"{stack.hub_url}/services/maas/")
        page.click("nav a:has-text('Admin')")
        row = model_row(page)
        expect(row).to_contain_text("Enabled")
        expect(row).to_contain_text("$0.05")
        no_accessibility_problems(page)
        page.screenshot(path=shots / "portal-admin-catalog.png")

        page.get_by_role("button", name=f"Edit {MODEL}").click()
        editor = page.get_by_role("region", name=f"Edit {MODEL}")
        editor.get_by_label("Instance").select_option("c7i.large")
        editor.get_by_label("Throughput (tokens/s)").fill("62")
        editor.get_by_role("button", name="Calculate").click()
        result = editor.get_by_test_id("seed-result")
        for term, value in [
            ("Total / 1M", expected.total_per_million),
            ("Input / 1M", expected.input_per_million),
            ("Output / 1M", expected.output_per_million),
        ]:
            expect(
                result.locator("div", has=page.locator("dt", has_text=term)).locator("dd")
            ).to_have_text(f"${value}")
        no_accessibility_problems(page)
        page.screenshot(path=shots / "portal-admin-calculator.png")
        result.get_by_role("button", name="Use these prices").click()
        expect(editor.get_by_label("Input price (USD / 1M tokens)")).to_have_value(
            f"{float(expected.input_per_million):g}"
        )
        # the measured method: the command to run, for this model's backend
        editor.get_by_role("tab", name="Measured method").click()
        command = editor.get_by_label("Command")
        expect(command).to_contain_text("maas pricing measure --base-url")
        expect(command).to_contain_text("--instance c7i.large")
        expect(command).to_contain_text(f"--apply {MODEL}")
        editor.get_by_role("button", name="Save").click()
        expect(editor).to_be_hidden()
        expect(row).to_contain_text(f"${expected.input_per_million}")

        after = stack.api("GET", f"admin/models/{MODEL}", token).json()
        assert after["input_cost_per_token"] == pytest.approx(expected.input_cost_per_token)
        assert after["output_cost_per_token"] == pytest.approx(expected.output_cost_per_token)
        assert after["provider_model"] == before["provider_model"]  # only the prices changed

        # a user's Models page shows the new prices
        page.click("nav a:has-text('Models')")
        card = page.locator("article.model").filter(has=page.locator("h3", has_text=EXACTLY))
        expect(card).to_contain_text(f"${expected.input_per_million}")
        expect(card).to_contain_text(f"${expected.output_per_million}")

        # and the audit log the change, by whom, field by field
        open_tab(stack, page, "audit")
        page.get_by_label("Target", exact=True).fill(MODEL)
        page.get_by_label("Action").fill("update")
        page.get_by_role("button", name="Show").click()
        entry = page.locator("tbody tr").first
        expect(entry).to_contain_text(f"model {MODEL}")
        expect(entry).to_contain_text("admin")
        expect(entry).to_contain_text("input_cost_per_token")
        assert "provider_model" not in entry.inner_text()
        no_accessibility_problems(page)
        page.screenshot(path=shots / "portal-admin-audit.png")
    finally:
        restore = {k: before[k] for k in ("input_cost_per_token", "output_cost_per_token")}
        r = stack.api("PATCH", f"admin/models/{MODEL}", token, json=restore)
        assert r.status_code == 200, r.text


def test_an_admin_adds_a_profile_and_deletes_it(stack, admin_page, shots):
    page = admin_page
    slug = "admin-console-test"
    try:
        open_tab(stack, page, "profiles")
        expect(page.locator("tr", has_text="cpu-standard")).to_be_visible()
        page.get_by_role("button", name="Add profile").click()
        editor = page.get_by_role("region", name="Add a profile")
        editor.get_by_label("Slug").fill(slug)
        editor.get_by_label("Display name").fill("Admin console test")
        editor.get_by_label("CPU limit (cores)").fill("1")
        editor.get_by_label("Memory limit").fill("2G")
        editor.get_by_label("Weekly budget (USD)").fill("5")
        editor.get_by_label(MODEL).check()
        editor.get_by_label("Hub groups (comma-separated, empty: everyone)").fill("cs101, staff ")
        editor.get_by_role("button", name="Save").click()
        row = page.locator("tr", has_text=slug)
        expect(row).to_contain_text("1 CPU / 2G memory")
        expect(row).to_contain_text("$5.00 / week")
        expect(row).to_contain_text(MODEL)
        expect(row).to_contain_text("cs101, staff")
        created = stack.api("GET", f"admin/profiles/{slug}", stack.admin.token).json()
        assert created["resources"] == {"cpu_limit": 1, "mem_limit": "2G"}
        assert created["models"] == [MODEL] and created["default"] is False
        assert created["groups"] == ["cs101", "staff"]
        assert created["budgets"] == [{"window": "week", "usd": 5}]
        no_accessibility_problems(page)
        page.screenshot(path=shots / "portal-admin-profiles.png")

        row.get_by_role("button", name=f"Delete {slug}").click()
        dialog = page.get_by_role("alertdialog", name="Confirm deletion")
        expect(dialog).to_contain_text(slug)
        no_accessibility_problems(page)
        dialog.get_by_role("button", name="Delete").click()
        expect(row).to_have_count(0)
        assert stack.api("GET", f"admin/profiles/{slug}", stack.admin.token).status_code == 404
    finally:
        stack.api("DELETE", f"admin/profiles/{slug}", stack.admin.token)


def test_an_admin_sets_a_users_override_sees_their_policy_and_removes_it(stack, admin_page, shots):
    page = admin_page
    user = "olga-admin-test"
    try:
        open_tab(stack, page, "overrides")
        page.get_by_role("button", name="Set an override").click()
        editor = page.get_by_role("region", name="Set an override")
        editor.get_by_label("For a").select_option("user")
        editor.get_by_label("Group or user name").fill(user)
        editor.get_by_label("Weekly budget (USD)").fill("7")
        editor.get_by_label("Requests per minute").fill("30")
        editor.get_by_label("echo-large").check()
        editor.get_by_role("button", name="Save").click()
        row = page.locator("tr", has_text=user)
        expect(row).to_contain_text("$7.00 / week")
        expect(row).to_contain_text("echo-large")
        no_accessibility_problems(page)
        page.screenshot(path=shots / "portal-admin-overrides.png")

        # their effective policy: the profile's models and the override's budget
        open_tab(stack, page, "policy")
        page.get_by_label("User", exact=True).fill(user)
        page.get_by_role("button", name="Look up").click()
        policy = page.get_by_role("region", name=f"Policy of {user}")
        expect(policy).to_contain_text("$7.00 / week")
        expect(policy).to_contain_text("echo-large")
        expect(policy).to_contain_text(MODEL)
        budgets = policy.get_by_role("table", name="Budgets (the one most spent binds)")
        expect(budgets.locator("tr", has_text="Weekly")).to_contain_text("user")
        expect(budgets.locator("tr", has_text="Weekly")).to_contain_text("binding")
        sources = policy.get_by_role("table", name="Which layer set what")
        expect(sources.locator("tr", has_text="rpm_limit")).to_contain_text("user")
        no_accessibility_problems(page)
        page.screenshot(path=shots / "portal-admin-policy.png")

        open_tab(stack, page, "overrides")
        row.get_by_role("button", name=f"Remove user {user}").click()
        page.get_by_role("alertdialog", name="Confirm removal").get_by_role(
            "button", name="Remove"
        ).click()
        expect(row).to_have_count(0)
        r = stack.api("GET", f"admin/overrides/user/{user}", stack.admin.token)
        assert r.status_code == 404
    finally:
        stack.api("DELETE", f"admin/overrides/user/{user}", stack.admin.token)


def test_a_refused_change_shows_the_apis_sentence(stack, admin_page):
    page = admin_page
    open_tab(stack, page, "catalog")
    page.get_by_role("button", name="Add model").click()
    editor = page.get_by_role("region", name="Add a model")
    editor.get_by_label("Name").fill(MODEL)  # exists
    editor.get_by_label("Provider model (LiteLLM)").fill("openai/x")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("alert")).to_have_text(
        f"A model named '{MODEL}' exists: edit it instead."
    )
    calculator = editor.locator(".calculator")
    calculator.get_by_label("Throughput (tokens/s)").fill("0")
    calculator.get_by_role("button", name="Calculate").click()
    expect(calculator.get_by_role("alert")).to_have_text(
        "tokens_per_second must be a number above 0."
    )


def test_an_admin_lists_keys_and_revokes_one(stack, admin_page, shots):
    page = admin_page
    token = stack.admin.token
    issued = stack.api("POST", "users/admin/keys", token, json={"name": "admin-console-key"})
    assert issued.status_code == 201, issued.text
    key = issued.json()
    stack.issued_keys.append(key["key"])
    try:
        assert stack.chat(key["key"]).status_code == 200
        open_tab(stack, page, "keys")
        page.get_by_label("User", exact=True).fill("admin")
        page.get_by_label("State", exact=True).select_option("active")
        page.get_by_role("button", name="Show").click()
        row = page.locator("tr", has_text="admin-console-key")
        expect(row).to_contain_text(key["masked"])
        expect(row).to_contain_text("active")
        no_accessibility_problems(page)
        page.screenshot(path=shots / "portal-admin-keys.png")

        row.get_by_role("button", name="Revoke").click()
        dialog = page.get_by_role("alertdialog", name="Confirm revocation")
        expect(dialog).to_contain_text(key["masked"])
        dialog.get_by_role("button", name="Revoke").click()
        expect(row).to_have_count(0)  # no longer active
        page.get_by_label("State", exact=True).select_option("revoked")
        page.get_by_role("button", name="Show").click()
        expect(row).to_contain_text("revoked")
        until(lambda: stack.chat(key["key"]).status_code == 401, 15, "the gateway to refuse it")
    finally:
        stack.api("DELETE", f"admin/keys/{key['id']}", token)


def test_an_admin_exports_chargeback_as_csv(stack, admin_page, shots):
    page = admin_page
    token = stack.admin.token
    issued = stack.api("POST", "users/admin/keys", token, json={"name": "admin-chargeback"})
    assert issued.status_code == 201, issued.text
    key = issued.json()
    stack.issued_keys.append(key["key"])
    try:
        used = len(stack.usage_rows("admin"))
        assert stack.chat(key["key"]).status_code == 200
        assert len(stack.wait_usage("admin", used + 1)) > used

        open_tab(stack, page, "chargeback")
        page.get_by_label("Period").select_option("7")
        row = page.locator("tbody tr", has_text="admin")
        expect(row).to_be_visible()
        no_accessibility_problems(page)
        page.screenshot(path=shots / "portal-admin-chargeback.png")
        with page.expect_download() as download:
            page.get_by_role("link", name="Export CSV").click()
        assert download.value.suggested_filename.startswith("maas-chargeback-user-")
        text = download.value.path().read_text()
        rows = list(csv.DictReader(io.StringIO(text)))
        assert text.splitlines()[0] == "user,requests,prompt_tokens,completion_tokens,cost_usd"
        mine = [r for r in rows if r["user"] == "admin"]
        assert len(mine) == 1 and int(mine[0]["requests"]) >= 1
        assert float(mine[0]["cost_usd"]) > 0
        shown = row.locator("td").first.inner_text()
        assert int(shown.replace(",", "")) == int(mine[0]["requests"])

        # by model: the same export, another first column
        page.get_by_label("By").select_option("model")
        expect(model_row(page)).to_be_visible()
        with page.expect_download() as download:
            page.get_by_role("link", name="Export CSV").click()
        header = download.value.path().read_text().splitlines()[0]
        assert header == "model,requests,prompt_tokens,completion_tokens,cost_usd"
    finally:
        stack.api("DELETE", f"users/admin/keys/{key['id']}", token)


def test_the_price_calculator_is_for_admins_and_says_what_is_wrong(stack):
    pia = stack.user("pia")
    pia_token = pia.create_token("pricing test")
    assert stack.api("GET", "admin/pricing", pia_token).status_code == 403
    body = {"instance": "g5.2xlarge", "tokens_per_second": 35}
    assert stack.api("POST", "admin/pricing", pia_token, json=body).status_code == 403

    admin = stack.admin.token
    table = stack.api("GET", "admin/pricing", admin).json()
    assert table["instances"]["g5.2xlarge"]["hourly"] == 1.212
    quote = stack.api("POST", "admin/pricing", admin, json=body).json()
    assert (quote["input_per_million"], quote["output_per_million"]) == (2.40, 7.22)
    r = stack.api("POST", "admin/pricing", admin, json={**body, "tokens_per_second": -1})
    assert r.status_code == 400
    assert r.json()["message"] == "tokens_per_second must be a number above 0."
