"""The portal's chat playground on the real local stack: a user picks one of their
models, gets SmolLM2's answer streamed into the page with the turn's tokens and cost,
stops a stream, sees the conversation as code, and is refused in the gateway's words;
the requests are usage rows of the notebook "playground", made with a key the service
holds (never listed among the user's keys) and revokes at sign-out. The page passes
axe-core's checks. Through the API: the stream itself, a model outside the profile and
a malformed conversation."""

from __future__ import annotations

import json

import requests
from browser import require_chromium
from waiting import until

require_chromium()

from playwright.sync_api import expect  # noqa: E402
from test_portal import accessibility_problems, signed_in  # noqa: E402

SMOLLM2 = "smollm2-135m"


def chat(stack, user: str, token: str, **body) -> requests.Response:
    return requests.post(
        f"{stack.service_url}api/v1/users/{user}/playground",
        headers={"Authorization": f"token {token}"},
        json=body,
        stream=True,
        timeout=120,
    )


def playground_keys(stack, user: str) -> list:
    return [k for k in stack.key_rows(user) if k.kernel_id == "playground"]


def test_the_playground_streams_an_answer_counted_as_playground(stack):
    token = stack.user("pablo").create_token()
    r = chat(
        stack,
        "pablo",
        token,
        model=SMOLLM2,
        max_tokens=16,
        messages=[{"role": "user", "content": "Say hello."}],
    )
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/event-stream")
    events = [
        line[5:].strip() for line in r.iter_lines(decode_unicode=True) if line.startswith("data:")
    ]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    answer = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    usage = next(c["usage"] for c in chunks if c.get("usage"))
    assert answer.strip() and 0 < usage["completion_tokens"] <= 16

    (row,) = stack.wait_usage("pablo", 1)
    assert (row.model, row.status_code, row.notebook_path) == (SMOLLM2, 200, "playground")
    assert (row.prompt_tokens, row.completion_tokens) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
    )
    # the key is the service's: not among pablo's keys
    listed = stack.api("GET", "users/pablo/keys", token).json()["keys"]
    assert [k for k in listed if k["name"] == "playground"] == []
    assert [k.name for k in playground_keys(stack, "pablo")] == ["playground"]


def test_the_playground_refuses_in_the_gateways_words(stack):
    token = stack.user("pilar").create_token()
    r = chat(
        stack, "pilar", token, model="echo-large", messages=[{"role": "user", "content": "hi"}]
    )
    assert r.status_code == 403, r.text
    assert "echo-large" in r.json()["message"] and SMOLLM2 in r.json()["message"]
    r = chat(stack, "pilar", token, model=SMOLLM2, messages=[{"role": "robot", "content": "hi"}])
    assert r.status_code == 400 and "role one of system, user, assistant" in r.json()["message"]
    assert stack.usage_rows("pilar") == []


def test_a_person_chats_in_the_portal_stops_and_signs_out(stack, browser, log_dir):
    shots = log_dir.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page = signed_in(stack, browser, "paloma")
    try:
        page.goto(f"{stack.hub_url}/services/maas/#chat")
        model = page.get_by_label("Model")
        expect(model.locator("option")).to_have_text([SMOLLM2], timeout=30_000)  # not echo-large
        page.get_by_label("Max tokens").fill("24")
        page.get_by_label("Message").fill("Say hello.")
        page.get_by_role("button", name="Send").click()
        answer = page.locator(".turn.assistant").last
        expect(answer.locator("[data-testid=turn-usage]")).to_contain_text(
            " out · $", timeout=120_000
        )
        assert answer.locator(".text").inner_text().strip() not in ("", "…")
        expect(page.get_by_test_id("chat-total")).to_contain_text("tokens, $0.0000")
        assert accessibility_problems(page) == []
        page.screenshot(path=shots / "portal-playground.png")

        page.get_by_role("button", name="View code").click()
        expect(page.locator("pre[aria-label=Snippet]")).to_contain_text('"content": "Say hello."')

        # a long answer, stopped once it streams
        page.get_by_label("Max tokens").fill("400")
        page.get_by_label("Message").fill("Tell a long story about a lighthouse.")
        page.get_by_role("button", name="Send").click()
        expect(answer.locator(".text")).not_to_have_text("…", timeout=120_000)
        page.get_by_role("button", name="Stop").click()
        expect(page.locator(".turn.assistant").last).to_contain_text("Stopped")
        until(lambda: len(stack.usage_rows("paloma")) == 2, 60, "the stopped turn's usage row")
        rows = stack.usage_rows("paloma")
        assert {r.notebook_path for r in rows} == {"playground"}
        assert rows[1].completion_tokens < 400  # what was generated until Stop

        # a spent budget: the gateway's sentence
        with stack.daily_budget("paloma", 1e-9):
            page.get_by_label("Message").fill("Hello again.")
            page.get_by_role("button", name="Send").click()
            expect(page.get_by_role("alert")).to_contain_text("budget", timeout=60_000)
            expect(page.get_by_label("Message")).to_have_value("Hello again.")

        # another site's link or form (no XSRF token) changes nothing; the portal's
        # Sign out revokes the key the service held
        logout = f"{stack.hub_url}/services/maas/logout"
        linked = page.request.get(logout)
        assert linked.url.rstrip("/").endswith("/services/maas"), linked.url
        forged = page.request.post(logout, form={})
        assert forged.json() == {"next": "/services/maas/"}
        assert [k.revoked_reason for k in playground_keys(stack, "paloma")] == [None]
        page.reload()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(lambda url: "/hub/" in url, timeout=30_000)
        assert [k.revoked_reason for k in playground_keys(stack, "paloma")] == ["signed out"]
    finally:
        page.close()
