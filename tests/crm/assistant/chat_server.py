"""A local HTTP server speaking OpenAI's chat-completions protocol as far as Medfront uses it.

POST /v1/chat/completions with {"model", "messages", "tools", ...} answers the next scripted
answer: a message with `content` and/or `tool_calls` in the protocol's envelope, or one of the
failure scenarios ("slow": no answer until released, "error": HTTP 500, "garbage": not JSON).
Every request body is recorded, so a test can read what the model was shown.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.notifications.fake_server import FakeServer

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


class FakeModel(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.script: list[Any] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"{super().url}/v1"

    def stop(self) -> None:
        self.release.set()
        super().stop()

    def respond(self, path: str, headers: Any, body: dict) -> tuple[int, bytes]:
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
                status, data = fake.respond(self.path, self.headers, body)
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
