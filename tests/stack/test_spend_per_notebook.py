"""Spend per notebook on the real local stack: two notebooks in one server each call
SmolLM2 through the OpenAI SDK, with nothing changed in their code; each kernel has a
key of its own, derived from the server's; the usage rows, the service's usage API,
the lab's usage view and chargeback name each notebook with its own requests and
spend, which add up to the server's; a rename is followed; a kernel's key dies with
its kernel, and with its server's key."""

from __future__ import annotations

import datetime as dt

import pytest
from browser import chromium
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from test_portal import signed_in
from waiting import until

CALL = (
    "from openai import OpenAI\n"
    "for _ in range({n}):\n"
    "    OpenAI().chat.completions.create(model='smollm2-135m', max_tokens=8,\n"
    "        messages=[{{'role': 'user', 'content': 'Say hi'}}])\n"
    "print('done')"
)
KEY = "import os; print(os.environ['OPENAI_API_KEY'])"


def db_now() -> dt.datetime:
    """The time as the service writes it (naive UTC)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@pytest.fixture(scope="module")
def nell(stack):
    """nell, with a running server and two notebooks open, each with its kernel."""
    with stack.running("nell") as user:
        user.token = user.create_token()
        user.kernels = {p: user.open_notebook(p) for p in ("churn.ipynb", "forecast.ipynb")}
        yield user


def test_each_notebook_is_charged_for_its_own_calls(stack, nell):
    keys = {path: nell.execute(k, KEY).strip() for path, k in nell.kernels.items()}
    stack.issued_keys.extend(keys.values())
    server_key = stack.api("GET", "users/nell/keys", nell.token).json()["keys"][0]
    assert server_key["server_name"] == ""
    # each kernel has its own key, which is neither the server's nor listed as a key
    distinct = len(set(keys.values())) == 2
    assert distinct, "the two kernels share a key"  # (a boolean: no key in the message)
    assert not any(k.startswith(server_key["masked"][:12]) for k in keys.values())

    before = len(stack.usage_rows("nell"))
    for path, n in (("churn.ipynb", 2), ("forecast.ipynb", 1)):
        assert nell.execute(nell.kernels[path], CALL.format(n=n)).strip() == "done"
    rows = stack.wait_usage("nell", before + 3)[before:]
    assert sorted(r.notebook_path for r in rows) == ["churn.ipynb", "churn.ipynb", "forecast.ipynb"]
    assert {r.key_id for r in rows} == {server_key["id"]}  # the server's key's spend
    assert {r.kernel_id for r in rows} == set(nell.kernels.values())

    usage = stack.api("GET", "users/nell/usage?days=1&server_name=", nell.token).json()
    notebooks = {n["notebook_path"]: n for n in usage["by_notebook"]}
    assert {p: n["requests"] for p, n in notebooks.items()} == {
        "churn.ipynb": 2,
        "forecast.ipynb": 1,
    }
    server_spend = next(k for k in usage["by_key"] if k["key_id"] == server_key["id"])
    assert sum(n["cost_usd"] for n in notebooks.values()) == pytest.approx(server_spend["cost_usd"])
    assert server_spend["cost_usd"] > 0

    # the lab's usage view, as the extension serves it to JupyterLab
    lab = nell.server_api("GET", "jupyterlab-maas/usage").json()
    assert {n["notebook_path"]: n["requests"] for n in lab["by_notebook"]} == {
        "churn.ipynb": 2,
        "forecast.ipynb": 1,
    }
    # the portal's Usage page, in a browser
    with chromium() as browser:
        page = signed_in(stack, browser, "nell")
        page.goto(f"{stack.hub_url}/services/maas/#usage")
        table = page.locator("[data-testid=by-notebook]")
        expect(table.locator("tr", has_text="churn.ipynb")).to_contain_text("2")
        expect(table.locator("tr", has_text="forecast.ipynb")).to_contain_text("1")
        page.close()
    # chargeback by notebook, for admins
    rows = stack.api("GET", "admin/chargeback?by=notebook", stack.admin.token).json()["rows"]
    charged = {r["notebook"]: r["requests"] for r in rows if r["notebook"].startswith("nell:")}
    assert charged == {"nell:churn.ipynb": 2, "nell:forecast.ipynb": 1}


def test_a_renamed_notebook_is_charged_under_its_new_name(stack, nell):
    kernel = nell.kernels["forecast.ipynb"]
    sessions = nell.server_api("GET", "api/sessions").json()
    session = next(s for s in sessions if s["kernel"]["id"] == kernel)
    r = nell.server_api(
        "PATCH",
        f"api/sessions/{session['id']}",
        json={"path": "forecast-2027.ipynb", "name": "forecast-2027.ipynb"},
    )
    assert r.status_code == 200, r.text

    def renamed():
        before = len(stack.usage_rows("nell"))
        nell.execute(kernel, CALL.format(n=1))
        return stack.wait_usage("nell", before + 1)[-1].notebook_path == "forecast-2027.ipynb"

    until(renamed, 30, "requests to name the notebook's new path")


def test_a_kernels_key_dies_with_its_kernel(stack, nell):
    path = "scratch.ipynb"
    kernel = nell.open_notebook(path)
    key = nell.execute(kernel, KEY).strip()
    stack.issued_keys.append(key)
    assert stack.chat(key).status_code == 200
    r = nell.server_api("DELETE", f"api/kernels/{kernel}")
    assert r.status_code == 204
    until(lambda: stack.chat(key).status_code == 401, 15, "the stopped kernel's key refused")


def kernel_key_expiry(stack, kernel_id: str) -> dt.datetime:
    with create_engine(stack.db_url).connect() as conn:
        value = conn.execute(
            text("SELECT expires_at FROM api_keys WHERE kernel_id = :k AND revoked_at IS NULL"),
            {"k": kernel_id},
        ).scalar_one()
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def test_a_kernels_key_lives_as_long_as_its_servers_key_then_dies_with_it(stack, nell):
    """The server renews its key at half-life (server keys live 20 s in this stack): its
    kernels' keys keep working past the expiry they were issued with. Revoking the
    server's key (as the server's stop does) refuses them, though they themselves were
    not revoked."""
    kernel = nell.kernels["churn.ipynb"]
    key = nell.execute(kernel, KEY).strip()
    issued_until = kernel_key_expiry(stack, kernel)
    until(lambda: db_now() > issued_until, 30, "the kernel key's first expiry to pass")
    assert stack.chat(key).status_code == 200
    server_key = stack.api("GET", "users/nell/keys", nell.token).json()["keys"][0]
    r = stack.api("DELETE", f"users/nell/keys/{server_key['id']}", nell.token)
    assert r.status_code == 204
    refusal = until(lambda: (r := stack.chat(key)).status_code == 401 and r.json(), 15, "a refusal")
    assert "revoked" in refusal["error"]["message"]
