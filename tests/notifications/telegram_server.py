"""A local HTTP server speaking the Telegram Bot API's sendMessage as far as Medfront uses it.

POST /bot<token>/sendMessage with a JSON body (chat_id, text); answers {"ok": true, "result":
Message} or the Bot API's error object {"ok": false, "error_code", "description"} with the same
HTTP status. `answer` chooses a scenario for the next calls; every request is recorded.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

from tests.notifications.fake_server import FakeServer

BOT_TOKEN = "123456:telegram-test-token-ABCdef"


class FakeTelegram(FakeServer):
    def respond(self, path: str, body: dict) -> tuple[int, dict | bytes]:
        if path != f"/bot{BOT_TOKEN}/sendMessage":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if self.answer == "blocked":
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        if self.answer == "chat_not_found":
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }
        if self.answer == "flood":
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 5",
                "parameters": {"retry_after": 5},
            }
        if self.answer == "not_json":
            return 200, b"<html>gateway</html>"
        if self.answer == "no_result":
            return 200, {"ok": True}
        if not isinstance(body.get("chat_id"), (int, str)) or not body.get("text"):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request"}
        self.counter += 1
        return 200, {
            "ok": True,
            "result": {
                "message_id": self.counter,
                "date": 1700000000,
                "chat": {"id": int(body["chat_id"]), "type": "private"},
                "text": body["text"],
            },
        }

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                fake.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": body}
                )
                status, answer = fake.respond(self.path, body)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
