"""A real HTTP model backend that streams slowly (OpenAI's chat completions protocol), so
a test can abandon a stream half way and see what the gateway did about it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK_INTERVAL = 0.05  # seconds between streamed tokens: the backend's own pace
TOKENS = 200


class SlowBackend:
    """Serves ``POST /v1/chat/completions`` on 127.0.0.1: a stream of TOKENS tokens, one
    every CHUNK_INTERVAL seconds. ``streams`` records, per stream, how many tokens it
    sent and whether its client went away first; ``authorizations`` the Authorization
    header of every request (what the gateway sent as the backend's key)."""

    def __init__(self):
        self.streams: list[dict] = []
        self.authorizations: list[str | None] = []
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                backend.authorizations.append(self.headers.get("Authorization"))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                record = {"sent": 0, "client_left": False, "done": False}
                backend.streams.append(record)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                try:
                    for i in range(TOKENS):
                        chunk = {
                            "id": "slow-1",
                            "object": "chat.completion.chunk",
                            "created": 0,
                            "model": body["model"],
                            "choices": [
                                {"index": 0, "delta": {"content": f"t{i} "}, "finish_reason": None}
                            ],
                        }
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                        record["sent"] += 1
                        time.sleep(CHUNK_INTERVAL)
                    self.wfile.write(b"data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):
                    record["client_left"] = True
                record["done"] = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
