"""A real HTTP model backend that streams slowly (OpenAI's chat completions protocol), so
a test can abandon a stream half way and see what the gateway did about it."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK_INTERVAL = 0.05  # seconds between streamed tokens: the backend's own pace
TOKENS = 200
BRISK_TOKENS = 3  # what a "brisk" model streams, at once
DIE_AFTER = 10  # tokens a "dying" model streams before its connection drops
SLOWPOKE_DELAY = 3.0  # seconds a "slowpoke" model takes before it answers at all


# what a misbehaving backend puts in an error: a key and a database URL with a password
LEAKY_ERROR = (
    "Invalid credentials: Bearer sk-backend-1234567890abcdef for "
    "postgresql://maas:hunter2@db.internal/maas"
)


def completion(model: str) -> dict:
    return {
        "id": "slow-1",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "quick answer"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


class SlowBackend:
    """Serves ``POST /v1/chat/completions`` on 127.0.0.1: a stream of TOKENS tokens, one
    every CHUNK_INTERVAL seconds (without ``stream``, one quick answer); for a model
    whose name ends in ``leaky``, a 500 whose message quotes secrets; for one whose name
    ends in ``dying``, the connection drops after DIE_AFTER tokens, as when the backend
    process dies; one whose name ends in ``slowpoke`` says nothing for SLOWPOKE_DELAY
    seconds; one whose name ends in ``brisk`` streams BRISK_TOKENS tokens at once.
    ``streams``
    records, per stream, how many tokens it sent and whether its client went away first;
    ``authorizations`` the Authorization header of every request (what the gateway sent
    as the backend's key)."""

    def __init__(self):
        self.streams: list[dict] = []
        self.authorizations: list[str | None] = []
        self.bodies: list[dict] = []  # every request body, as the gateway sent it
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # chunked, as real model servers stream

            def log_message(self, *args):
                pass

            def answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def chunk(self, data: bytes) -> None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            def do_POST(self):
                backend.authorizations.append(self.headers.get("Authorization"))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                backend.bodies.append(body)
                if body["model"].endswith("slowpoke"):
                    time.sleep(SLOWPOKE_DELAY)
                if body["model"].endswith("leaky"):  # an error that quotes secrets
                    return self.answer(500, {"error": {"message": LEAKY_ERROR}})
                if not body.get("stream"):
                    return self.answer(200, completion(body["model"]))
                record = {"sent": 0, "client_left": False, "done": False}
                backend.streams.append(record)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                dying = body["model"].endswith("dying")
                brisk = body["model"].endswith("brisk")
                try:
                    for i in range(DIE_AFTER if dying else BRISK_TOKENS if brisk else TOKENS):
                        chunk = {
                            "id": "slow-1",
                            "object": "chat.completion.chunk",
                            "created": 0,
                            "model": body["model"],
                            "choices": [
                                {"index": 0, "delta": {"content": f"t{i} "}, "finish_reason": None}
                            ],
                        }
                        self.chunk(f"data: {json.dumps(chunk)}\n\n".encode())
                        record["sent"] += 1
                        time.sleep(0 if brisk else CHUNK_INTERVAL)
                    if dying:  # gone, without ending the chunked body
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                    else:
                        self.chunk(b"data: [DONE]\n\n")
                        self.chunk(b"")
                except (BrokenPipeError, ConnectionResetError):
                    record["client_left"] = True
                record["done"] = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
