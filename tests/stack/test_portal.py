"""The portal (``/services/maas/``) in a real browser (Debian's Chromium, driven by
Playwright) on the real local stack: a user signs in through the hub, finds the models
with their prices, creates a personal key that is shown once, calls the gateway with it,
sees the request in Usage, and revokes the key; each page passes axe-core's checks
with no serious or critical violation. A non-admin's portal has no admin entry and the
admin API refuses them. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import re
import time
from pathlib import Path

import requests
from browser import require_chromium
from waiting import until

require_chromium()

from playwright.sync_api import expect  # noqa: E402

AXE = Path(__file__).resolve().parents[2] / "portal" / "node_modules" / "axe-core" / "axe.min.js"


def signed_in(stack, browser, user: str):
    # axe-core is injected into the page, which the portal's Content-Security-Policy
    # (checked in test_the_portal_needs_a_hub_sign_in) would refuse
    page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    # next=: the hub's home even for a user whose server runs (else the hub sends them on)
    page.goto(f"{stack.hub_url}/hub/login?next=%2Fhub%2Fhome")
    page.fill("#username_input", user)
    page.fill("#password_input", stack.password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(r".*/hub/.*"))
    return page


def accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_a_user_finds_models_makes_a_key_uses_it_and_revokes_it(stack, browser, log_dir):
    shots = log_dir.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page = signed_in(stack, browser, "pia")
    try:
        # Models: the catalog with its prices, and what pia's profile allows
        started = time.monotonic()
        page.goto(f"{stack.hub_url}/services/maas/")
        card = page.locator("article.model", has_text="smollm2-135m")
        expect(card).to_be_visible(timeout=30_000)
        print(f"portal: navigation to the models grid in {time.monotonic() - started:.2f} s")
        expect(card).to_contain_text("Available")
        expect(card).to_contain_text("$0.05")  # input per 1M tokens
        expect(card).to_contain_text("$0.15")  # output per 1M tokens
        assert page.locator("nav a", has_text="Admin").count() == 0  # pia is no admin
        assert accessibility_problems(page) == []
        page.screenshot(path=shots / "portal-models.png")
        other = page.locator("article.model", has_text="echo-large")
        expect(other).to_contain_text("Not in your profile")
        page.get_by_label("Only models I can use").check()
        expect(other).to_have_count(0)
        expect(card).to_be_visible()
        card.locator("button", has_text="Details").click()
        expect(page.locator("dl.params")).to_contain_text("POST /v1/chat/completions")
        expect(page.locator("dl.params")).to_contain_text("temperature")
        expect(page.locator("pre[aria-label=Snippet]")).to_contain_text('model="smollm2-135m"')
        expect(page.locator("pre[aria-label=Snippet]")).to_contain_text(f"{stack.gateway_url}/v1")

        # API Keys: create one, shown once
        page.click("nav a:has-text('API Keys')")
        form = page.locator("form[aria-label='New key']")
        form.get_by_label("Name").fill("laptop")
        form.get_by_label("Expires in (days)").fill("7")
        form.locator("button[type=submit]").click()
        key = page.locator("[data-testid=new-key]").inner_text(timeout=15_000)
        # (asserted so that a failure's message cannot print the key)
        assert key.startswith("sk-maas-"), "the new key is not a MaaS key"
        assert accessibility_problems(page) == []
        # (the key itself is masked in the picture)
        secret = [page.locator("[data-testid=new-key]"), page.locator(".issued pre")]
        page.screenshot(path=shots / "portal-keys.png", mask=secret, mask_color="#2d2926")
        stack.issued_keys.append(key)
        assert stack.chat(key).status_code == 200
        page.reload()
        row = page.locator("tr", has_text="laptop")
        expect(row).to_contain_text("active")
        shown_again = key in page.content()
        assert not shown_again, "the key is shown again after a reload (masked only)"
        expect(row).to_contain_text(key[:12])

        # Usage: the request shows within 30 s
        page.click("nav a:has-text('Usage')")

        def counted():
            page.reload()
            page.wait_for_selector("#usage-title")
            stat = page.locator(".stat", has_text="Requests")
            return stat.count() and stat.inner_text().split()[-1] not in ("", "0")

        until(counted, 30, "the request in Usage")
        expect(page.locator("table", has_text="Spend by model")).to_contain_text("smollm2-135m")
        expect(page.locator("table", has_text="Spend by key")).to_contain_text("laptop")
        # the charts, with data: each an image named by a sentence of its data, each
        # money axis's ticks read differently (a request costs millionths of a dollar)
        charts = page.locator(".charts figure")
        expect(charts).to_have_count(3)
        expect(charts.nth(0).get_by_role("img")).to_have_accessible_name(
            re.compile(r"^\$[\d.]+ over the last 30 days, the most on \d\d-\d\d: \$[\d.]+\.$")
        )
        expect(charts.nth(1).get_by_role("img")).to_have_accessible_name(
            re.compile(r"smollm2-135m: \$[\d.]+")
        )
        expect(charts.nth(2).get_by_role("img")).to_have_accessible_name(
            re.compile(r"^Tokens in: [\d,]+ \(\d+ %\), Tokens out: [\d,]+ \(\d+ %\)\.$")
        )
        for chart in (charts.nth(0), charts.nth(1)):
            ticks = chart.locator(".recharts-yAxis .recharts-cartesian-axis-tick-value")
            expect(ticks.first).to_be_attached()
            labels = ticks.all_text_contents()  # (SVG text has no inner text)
            assert len(set(labels)) == len(labels) > 1, labels
        expect(charts.nth(2).locator(".recharts-pie-sector").first).to_be_attached()
        assert accessibility_problems(page) == []
        page.screenshot(path=shots / "portal-usage.png")
        with page.expect_download() as download:
            page.click("text=Download CSV")
        exported = Path(download.value.path()).read_text()
        assert exported.startswith("time,model,key_id,key_name,")
        assert ",laptop," in exported and "smollm2-135m" in exported

        # Subscriptions: the model, the key that reaches it, and the request
        page.click("nav a:has-text('Subscriptions')")
        row = page.locator("[data-testid=subscriptions] tr", has_text="smollm2-135m")
        expect(row).to_contain_text("laptop")
        expect(row).to_contain_text("CPU - Standard")
        row.locator("button", has_text="Details").click()
        expect(page.locator("[data-testid=last-requests] tbody tr").first).to_contain_text("laptop")
        assert accessibility_problems(page) == []
        page.screenshot(path=shots / "portal-subscriptions.png")

        # rename it, then regenerate it: a new secret, the old one refused
        page.click("nav a:has-text('API Keys')")
        page.locator("tr", has_text="laptop").locator("button", has_text="Edit").click()
        editor = page.locator("form[aria-label='Edit laptop']")
        editor.get_by_label("Name").fill("laptop 2")
        editor.locator("button[type=submit]").click()
        row = page.locator("tr", has_text="laptop 2")
        expect(row).to_contain_text("active")
        expect(row).not_to_contain_text("never")  # its last use is shown
        row.locator("button", has_text="Regenerate").click()
        page.locator("[role=alertdialog] button", has_text="Regenerate").click()
        new_key = page.locator("[data-testid=new-key]")
        until(lambda: new_key.inner_text() != key, 15, "the new secret")  # no key in a failure
        old_key, key = key, new_key.inner_text()
        stack.replaced_keys.append(old_key)
        assert key.startswith("sk-maas-"), "the regenerated key is not a MaaS key"
        stack.issued_keys.append(key)
        until(lambda: stack.chat(old_key).status_code == 401, 15, "the old secret refused")
        assert stack.chat(key).status_code == 200

        # revoke, after a confirmation: the gateway refuses the key
        page.locator("tr", has_text="laptop 2").locator("button", has_text="Revoke").click()
        page.locator("[role=alertdialog] button", has_text="Revoke").click()
        expect(page.locator("tr", has_text="laptop 2")).to_contain_text("revoked")
        until(lambda: stack.chat(key).status_code == 401, 15, "the gateway to refuse the key")
    except Exception:
        page.screenshot(path=shots / "portal-failure.png")
        raise
    finally:
        page.close()


def test_the_portal_needs_a_hub_sign_in(stack):
    r = requests.get(f"{stack.hub_url}/services/maas/", allow_redirects=False, timeout=30)
    assert r.status_code == 302
    assert "/hub/api/oauth2/authorize" in r.headers["Location"]
    admin_api = f"{stack.hub_url}/services/maas/api/v1/admin/models"
    assert requests.get(admin_api, timeout=30).status_code == 401


def test_a_signed_in_page_is_locked_down_and_its_cookie_alone_changes_nothing(stack, browser):
    """The page's Content-Security-Policy; the sign-in cookie without the page's XSRF
    token (what a cross-site form or script would send) is not a sign-in for a change;
    a signed-in user who is not an admin gets 403 from the admin API."""
    page = signed_in(stack, browser, "quinn-portal")
    try:
        response = page.goto(f"{stack.hub_url}/services/maas/")
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        expect(page.locator("article.model").first).to_be_visible(timeout=30_000)
        api = f"{stack.hub_url}/services/maas/api/v1"
        forged = page.request.post(f"{api}/users/quinn-portal/keys", data={"name": "forged"})
        assert forged.status == 401
        keys = page.request.get(f"{api}/users/quinn-portal/keys").json()["keys"]
        assert not [k for k in keys if k["name"] == "forged"]
        assert page.request.get(f"{api}/admin/models").status == 403
    finally:
        page.close()
