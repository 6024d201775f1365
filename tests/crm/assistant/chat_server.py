"""A local HTTP server speaking OpenAI's chat-completions protocol as far as Medfront uses it.

POST /v1/chat/completions with {"model", "messages", "tools", ...} answers the next scripted
answer: a message with `content` and/or `tool_calls` in the protocol's envelope, or one of the
failure scenarios ("slow": no answer until released, "error": HTTP 500, "garbage": not JSON).
Every request body is recorded, so a test can read what the model was shown.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "sk-test-assistant-key"


def text(content: str) -> dict:
    return {"role": "assistant", "content": content}


def calls(*pairs: tuple[str, Any]) -> dict:
    """Tool calls of (name, arguments): a dict is sent as JSON, a string as it is."""
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{index}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
                },
            }
            for index, (name, arguments) in enumerate(pairs)
        ],
    }


class FakeModel:
    def __init__(self) -> None:
        self.script: list[Any] = []
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, headers: Any, body: dict) -> tuple[int, bytes]:
        if path != "/v1/chat/completions":
            return 404, b'{"error": {"message": "not found"}}'
        if headers.get("Authorization") != f"Bearer {API_KEY}":
            return 401, b'{"error": {"message": "invalid api key"}}'
        if not body.get("model") or not isinstance(body.get("messages"), list):
            return 400, b'{"error": {"message": "model and messages are required"}}'
        step = self.script.pop(0) if self.script else "error"
        if step == "slow":
            self.release.wait(10)
            return 200, json.dumps(_envelope(text("too late"))).encode()
        if step == "error":
            return 500, b'{"error": {"message": "internal error"}}'
        if step == "garbage":
            return 200, b"<html>bad gateway</html>"
        return 200, json.dumps(_envelope(step)).encode()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                fake.requests.append(body)
                status, data = fake.answer(self.path, self.headers, body)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up waiting (the timeout scenario)

        return Handler


def _envelope(message: dict) -> dict:
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "test-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
