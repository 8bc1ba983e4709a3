"""OpenAI's Responses API on the local stack (what Codex speaks): the official ``openai``
SDK, with a MaaS key and the gateway as its base URL, gets SmolLM2's answers, streamed
or not, within the user's models, and each request is a usage row priced from the
catalog. llama.cpp's server has no Responses API: the gateway sends these requests to
it as chat completions."""

from __future__ import annotations

import openai
import pytest

SMOLLM2 = "smollm2-135m"
ENDED = ("response.completed", "response.incomplete")


def client(stack, name: str) -> openai.OpenAI:
    user = stack.user(name)
    r = stack.api("POST", f"users/{name}/keys", user.create_token(), json={"name": "codex"})
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    stack.issued_keys.append(key)
    return openai.OpenAI(
        base_url=stack.gateway_url + "/v1", api_key=key, max_retries=0, timeout=120
    )


def test_smollm2_answers_a_responses_client_streamed_or_not(stack):
    c = client(stack, "rhea")
    ask = {"model": SMOLLM2, "input": "Say hello in one word.", "max_output_tokens": 16}

    answer = c.responses.create(**ask)
    events = list(c.responses.create(**ask, stream=True))
    streamed = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    # "incomplete" once the 16 tokens are spent, as OpenAI says it
    (final,) = [e.response for e in events if e.type in ENDED]

    assert answer.status in ("completed", "incomplete") and answer.output_text.strip()
    assert streamed.strip() and final.output_text == streamed
    rows = stack.wait_usage("rhea", 2)
    assert [(r.model, r.status_code) for r in rows] == [(SMOLLM2, 200)] * 2
    assert (rows[0].prompt_tokens, rows[0].completion_tokens) == (
        answer.usage.input_tokens,
        answer.usage.output_tokens,
    )
    for row in rows:
        assert 0 < row.completion_tokens <= 16
        assert row.cost_usd == pytest.approx(
            row.prompt_tokens * row.input_cost_per_token
            + row.completion_tokens * row.output_cost_per_token
        )


def test_a_responses_client_is_held_to_the_users_models(stack):
    c = client(stack, "remy")
    with pytest.raises(openai.PermissionDeniedError) as refused:
        c.responses.create(model="echo-large", input="hi")
    assert "echo-large" in refused.value.message and SMOLLM2 in refused.value.message
    assert stack.usage_rows("remy") == []
