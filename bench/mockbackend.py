"""The benchmarks' model backend: an OpenAI-compatible server that answers every chat
completion at once with the same short answer, so that what is measured is what sits
in front of it (served by uvicorn, as LiteLLM is):

    .venv/bin/python -m uvicorn --app-dir bench mockbackend:app --port 8999
"""

from __future__ import annotations

import json

ANSWER = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": "bench-mock",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "A short mock answer from the benchmark backend.",
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 12, "total_tokens": 22},
    }
).encode()


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):  # the request's body, unread
        pass
    found = scope["method"] == "POST" and scope["path"].endswith("/chat/completions")
    body = ANSWER if found else b'{"error": {"message": "not found"}}'
    await send(
        {
            "type": "http.response.start",
            "status": 200 if found else 404,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
