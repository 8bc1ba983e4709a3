"""Anthropic's Messages API through the gate (``POST /v1/messages`` and
``/v1/messages/count_tokens``), called with the official ``anthropic`` SDK against a real
gateway process (LiteLLM with our gate and plugin) on SQLite and PostgreSQL: the key as
``x-api-key`` or as a bearer, the same entitlement, budget and accounting as chat
completions, refusals in Anthropic's error shape, and only the request fields listed.

The backend is LiteLLM's mock response (no model needed); the stack's tests run the
same SDK against SmolLM2 (tests/stack/test_anthropic_messages.py)."""

from __future__ import annotations

import json
import secrets

import anthropic
import pytest
import requests
from gatewayproc import MOCK_PREMIUM, MOCK_SMALL, issue_key, module_gateway
from sqlalchemy import select
from waiting import until

from hub_service import catalog
from hub_service.db import PolicyOverride, Usage, session_scope
from hub_service.gateway.gate import pseudonym

PROFILES = [
    {"slug": "small", "display_name": "Small", "is_default": True, "models": ["mock-small"]},
    {"slug": "backed", "display_name": "Backed", "models": ["quick"]},
]


@pytest.fixture(scope="module")
def sessions(module_sessions, backend):
    quick = {  # a backend that records what the gateway sends it
        "name": "quick",
        "provider_model": "openai/quick",
        "api_base": backend.url,
        "input_cost_per_token": 1e-06,
        "output_cost_per_token": 1e-06,
        "max_output_tokens": 50,
    }
    with session_scope(module_sessions) as s:
        catalog.seed(s, [MOCK_SMALL, MOCK_PREMIUM, quick], PROFILES)
    return module_sessions


@pytest.fixture(scope="module")
def gateway(sessions, module_db_url, log_dir):
    gw = module_gateway(
        module_db_url,
        log_dir,
        "gateway-anthropic",
        env={"MAAS_REFRESH_INTERVAL": "0.5", "MAAS_REFUSAL_INTERVAL": "0.5"},
    )
    yield gw
    gw.terminate()


@pytest.fixture
def user(request) -> str:
    return f"a-{request.node.name[:40]}-{secrets.token_hex(3)}"


@pytest.fixture
def key(sessions, user) -> str:
    return issue_key(sessions, user, "small")[1]


def client(gateway, key: str, bearer: bool = False) -> anthropic.Anthropic:
    auth = {"auth_token": key} if bearer else {"api_key": key}
    return anthropic.Anthropic(base_url=gateway.url, max_retries=0, timeout=60, **auth)


def ask(c: anthropic.Anthropic, model: str = "mock-small", **extra):
    return c.messages.create(
        model=model, max_tokens=20, messages=[{"role": "user", "content": "hi"}], **extra
    )


def rows(sessions, user: str) -> list[Usage]:
    with session_scope(sessions) as s:
        return s.scalars(select(Usage).where(Usage.user == user).order_by(Usage.id)).all()


def post(gateway, path: str, key: str, body: dict, **headers) -> requests.Response:
    return requests.post(
        f"{gateway.url}{path}", json=body, headers={"x-api-key": key, **headers}, timeout=60
    )


@pytest.mark.parametrize("bearer", [False, True], ids=["x-api-key", "bearer"])
def test_an_anthropic_client_gets_an_answer_and_a_usage_row(gateway, sessions, user, key, bearer):
    answer = ask(client(gateway, key, bearer))

    assert answer.type == "message"
    assert answer.content[0].text == "small answer"
    assert answer.usage.input_tokens > 0 and answer.usage.output_tokens > 0
    until(lambda: rows(sessions, user), 30, "the request's usage row")
    (row,) = rows(sessions, user)
    assert (row.model, row.status_code) == ("mock-small", 200)
    assert (row.prompt_tokens, row.completion_tokens) == (
        answer.usage.input_tokens,
        answer.usage.output_tokens,
    )
    assert row.cost_usd == pytest.approx(
        row.prompt_tokens * MOCK_SMALL["input_cost_per_token"]
        + row.completion_tokens * MOCK_SMALL["output_cost_per_token"]
    )


def test_a_stream_left_half_way_is_billed_for_what_was_generated(gateway, sessions, user, backend):
    """Streamed from a backend that streams slowly (LiteLLM's mock does not stream
    Anthropic's events); SmolLM2's whole streams are in the stack's tests."""
    key = issue_key(sessions, user, "backed")[1]
    with client(gateway, key).messages.stream(
        model="quick", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        words = []
        for text in stream.text_stream:
            words.append(text)
            if len(words) == 3:
                break

    assert "".join(words).startswith("t0 t1 ")
    until(lambda: rows(sessions, user), 30, "the stream's usage row")
    (row,) = rows(sessions, user)
    assert row.model == "quick"
    assert 3 <= row.completion_tokens < 50  # what was generated, not the cap
    assert row.cost_usd > 0


def test_a_model_outside_the_keys_policy_is_refused_in_anthropics_shape(
    gateway, sessions, user, key
):
    with pytest.raises(anthropic.PermissionDeniedError) as refused:
        ask(client(gateway, key), model="premium")

    assert refused.value.status_code == 403
    assert refused.value.body["error"]["type"] == "permission_error"
    assert "premium" in refused.value.message and "mock-small" in refused.value.message
    r = post(gateway, "/v1/messages", key, {"model": "premium", "max_tokens": 5, "messages": []})
    assert r.json()["type"] == "error" and r.json()["error"]["type"] == "permission_error"
    assert rows(sessions, user) == []


def test_a_spent_budget_is_refused_before_the_model(gateway, sessions, user):
    with session_scope(sessions) as s:
        s.add(PolicyOverride(kind="user", name=user, budgets=[{"window": "day", "usd": 1e-9}]))
    _, key = issue_key(sessions, user, "small")
    gateway.refreshed()
    c = client(gateway, key)
    ask(c)  # admitted while something is left: this spends it

    with pytest.raises(anthropic.RateLimitError) as refused:
        ask(c)

    assert refused.value.body["error"]["type"] == "rate_limit_error"
    # "exhausted", or "nearly exhausted" while the first request is still settling
    assert "exhausted" in refused.value.message and "daily budget" in refused.value.message
    until(lambda: rows(sessions, user), 30, "the first request's usage row")
    assert len(rows(sessions, user)) == 1


def test_counting_tokens_is_entitled_and_free(gateway, sessions, user, key):
    c = client(gateway, key)
    counted = c.messages.count_tokens(
        model="mock-small", messages=[{"role": "user", "content": "How many tokens is this?"}]
    )
    assert counted.input_tokens > 0
    with pytest.raises(anthropic.PermissionDeniedError):
        c.messages.count_tokens(model="premium", messages=[{"role": "user", "content": "hi"}])
    ask(c)  # then a request that is accounted: its row is the only one
    until(lambda: rows(sessions, user), 30, "the message's usage row")
    assert [r.model for r in rows(sessions, user)] == ["mock-small"]


def test_a_key_is_needed_and_sent_once(gateway, key, sessions):
    body = {"model": "mock-small", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    r = requests.post(f"{gateway.url}/v1/messages", json=body, timeout=30)
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "authentication_error"
    assert "x-api-key" in r.json()["error"]["message"]
    other = issue_key(sessions, f"other-{secrets.token_hex(3)}", "small")[1]
    r = post(gateway, "/v1/messages", key, body, Authorization=f"Bearer {other}")
    assert r.status_code == 401 and "once" in r.json()["error"]["message"]
    # OpenAI's routes take a bearer only
    r = requests.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": "mock-small", "messages": [{"role": "user", "content": "x"}]},
        headers={"x-api-key": key},
        timeout=30,
    )
    assert r.status_code == 401 and r.json()["error"]["code"] == "401"


@pytest.mark.parametrize(
    "extra, said",
    [
        ({"container": "c1"}, "'container' is not accepted"),
        ({"mcp_servers": []}, "'mcp_servers' is not accepted"),
        ({"service_tier": "auto"}, "'service_tier' is not accepted"),
        ({"metadata": {"user_id": "x", "tenant": "y"}}, "'metadata' may hold only"),
        (
            {"tools": [{"type": "web_search_20250305", "name": "web_search"}]},
            "'web_search_20250305' are not available",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image", "source": {"type": "file", "file_id": "file_1"}}
                        ],
                    }
                ]
            },
            "names a stored file",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": "t1",
                                "content": [{"type": "document", "source": {"type": "file"}}],
                            }
                        ],
                    }
                ]
            },
            "names a stored file",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "server_tool_use"}]}]},
            "'server_tool_use'",
        ),
    ],
)
def test_fields_and_content_outside_the_list_are_refused(gateway, key, extra, said):
    body = {
        "model": "mock-small",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "x"}],
        **extra,
    }
    r = post(gateway, "/v1/messages", key, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert said in r.json()["error"]["message"]


def test_the_backend_gets_the_gates_pseudonym_and_output_cap(gateway, sessions, user, backend):
    """The gate writes its pseudonym of the hub user over ``metadata.user_id`` (if
    LiteLLM passes it on at all) and caps ``max_tokens`` at the model's most."""
    key = issue_key(sessions, user, "backed")[1]
    c = client(gateway, key)
    c.messages.create(
        model="quick",
        max_tokens=100_000,
        metadata={"user_id": "someone-else"},
        messages=[{"role": "user", "content": "hi"}],
    )
    sent = backend.bodies[-1]
    assert "someone-else" not in json.dumps(sent)
    assert sent.get("user") in (None, pseudonym(user))
    # as chat completions (hub_service.gateway.config), which every backend serves
    assert sent["messages"][-1]["content"] in ("hi", [{"type": "text", "text": "hi"}])
    assert sent.get("max_tokens", sent.get("max_completion_tokens")) == 50


def test_what_claude_code_adds_is_taken_and_not_passed_on(gateway, sessions, user, backend):
    """Claude Code calls ``/v1/messages?beta=true`` with Anthropic's context editing and
    output settings: taken, and removed before the backend; any other query string,
    or the same on OpenAI's routes, is refused."""
    key = issue_key(sessions, user, "backed")[1]
    body = {
        "model": "quick",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "hi"}],
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "high"},
    }
    r = post(gateway, "/v1/messages?beta=true", key, body)
    assert r.status_code == 200, r.text
    sent = backend.bodies[-1]
    assert "context_management" not in json.dumps(sent) and "effort" not in json.dumps(sent)

    r = post(gateway, "/v1/messages?beta=true&model=premium", key, body)
    assert r.status_code == 400 and "'beta' is not accepted" in r.json()["error"]["message"]
    r = requests.post(
        f"{gateway.url}/v1/chat/completions?beta=true",
        json={"model": "quick", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert r.status_code == 400 and "'beta' is not accepted" in r.json()["error"]["message"]
