"""Anthropic's Messages API on the local stack: the official ``anthropic`` SDK, with a
MaaS key as its API key and the gateway as its base URL (as Claude Code and other
agents are set up), gets SmolLM2's answers, streamed or not, within the user's models
and budget, and each request is a usage row priced from the catalog."""

from __future__ import annotations

import anthropic
import pytest

SMOLLM2 = "smollm2-135m"


def personal_key(stack, name: str) -> str:
    user = stack.user(name)
    r = stack.api("POST", f"users/{name}/keys", user.create_token(), json={"name": "sdk"})
    assert r.status_code == 201, r.text
    stack.issued_keys.append(r.json()["key"])
    return r.json()["key"]


def client(stack, key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=stack.gateway_url, api_key=key, max_retries=0, timeout=120)


def say(model: str = SMOLLM2) -> dict:
    return {
        "model": model,
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "Say hello in one word."}],
    }


def test_smollm2_answers_an_anthropic_client_streamed_or_not(stack):
    key = personal_key(stack, "anya")
    c = client(stack, key)

    answer = c.messages.create(**say())
    with c.messages.stream(**say()) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert answer.role == "assistant" and answer.content[0].text.strip()
    assert streamed.strip() and final.content[0].text == streamed
    rows = stack.wait_usage("anya", 2)
    assert [(r.model, r.status_code) for r in rows] == [(SMOLLM2, 200)] * 2
    first, second = rows
    assert (first.prompt_tokens, first.completion_tokens) == (
        answer.usage.input_tokens,
        answer.usage.output_tokens,
    )
    assert 0 < second.completion_tokens <= 16
    for row in rows:
        assert row.cost_usd == pytest.approx(
            row.prompt_tokens * row.input_cost_per_token
            + row.completion_tokens * row.output_cost_per_token
        )


def test_an_anthropic_client_is_held_to_the_users_models_and_budget(stack):
    key = personal_key(stack, "boris")
    c = client(stack, key)

    with pytest.raises(anthropic.PermissionDeniedError) as refused:
        c.messages.create(**say("echo-large"))
    assert "echo-large" in refused.value.message and SMOLLM2 in refused.value.message

    c.messages.create(**say())  # spends what a budget of a millionth of a dollar leaves
    with stack.daily_budget("boris", 1e-6):
        with pytest.raises(anthropic.RateLimitError) as refused:
            c.messages.create(**say())
        assert refused.value.body["error"]["type"] == "rate_limit_error"
        # "exhausted", or "nearly exhausted" while the first request is still settling
        assert "exhausted" in refused.value.message and "daily budget" in refused.value.message
    assert len(stack.wait_usage("boris", 1)) == 1


# one line: for a cell, and for ``python3 -c`` in a terminal
ASK = (
    "import anthropic; answer = anthropic.Anthropic().messages.create("
    "model='smollm2-135m', max_tokens=8, messages=[{'role': 'user', 'content': 'Say hi'}]); "
    "print('answered:', bool(answer.content[0].text.strip()))"
)


@pytest.fixture(scope="module")
def vera(stack):
    with stack.running("vera") as user:
        yield user


def test_a_notebooks_anthropic_client_needs_no_setting_and_is_charged_to_it(stack, vera):
    kernel = vera.open_notebook("agents.ipynb")

    assert vera.execute(kernel, ASK).strip() == "answered: True"

    (row,) = stack.wait_usage("vera", 1)
    assert (row.model, row.status_code, row.notebook_path) == (SMOLLM2, 200, "agents.ipynb")
    assert row.kernel_id == kernel
