"""Local HTTP servers speaking SMS.ru's and Twilio's send APIs as far as Medfront uses them.

Each records every request (path, headers, form fields) and answers as the provider documents:
SMS.ru's JSON with a per-number result and its status codes, Twilio's 201 message resource or
its 4xx error object behind HTTP Basic auth. `answer` chooses a scenario for the next calls.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from http.server import BaseHTTPRequestHandler

from tests.notifications.fake_server import FakeServer

SMSRU_API_ID = "0A1B2C3D-smsru-test-key"
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "twilio-test-auth-token"


class FakeProvider(FakeServer):
    def respond(self, path: str, headers, form: dict[str, str]) -> tuple[int, bytes]:
        raise NotImplementedError

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                fake.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "form": form}
                )
                status, body = fake.respond(self.path, self.headers, form)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


class FakeSmsRu(FakeProvider):
    """POST /sms/send with api_id, to, msg, json=1 (from, test optional)."""

    def respond(self, path, headers, form):
        if path != "/sms/send":
            return 404, b"{}"
        if self.answer == "http_error":
            return 502, b"Bad gateway"
        if self.answer == "not_json":
            return 200, b"100\n000000-1"
        if form.get("api_id") != SMSRU_API_ID:
            return 200, _json({"status": "ERROR", "status_code": 200, "status_text": "bad id"})
        if self.answer == "no_balance":
            return 200, _json(
                {"status": "ERROR", "status_code": 201, "status_text": "Не хватает средств"}
            )
        number = form["to"]
        if self.answer == "number_refused":
            result = {
                "status": "ERROR",
                "status_code": 207,
                "status_text": f"На номер {number} нельзя отправлять сообщения",
            }
        else:
            self.counter += 1
            result = {"status": "OK", "status_code": 100, "sms_id": f"000000-{self.counter:07d}"}
        return 200, _json(
            {"status": "OK", "status_code": 100, "sms": {number: result}, "balance": 4122.56}
        )


class FakeTwilio(FakeProvider):
    """POST /2010-04-01/Accounts/{sid}/Messages.json behind Basic auth (sid:token)."""

    def respond(self, path, headers, form):
        if path != f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json":
            return 404, _json({"code": 20404, "message": "Not found", "status": 404})
        expected = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if headers.get("Authorization") != f"Basic {expected}":
            return 401, _json({"code": 20003, "message": "Authenticate", "status": 401})
        if self.answer == "busy":
            return 429, _json({"code": 20429, "message": "Too Many Requests", "status": 429})
        if self.answer == "invalid_number":
            return 400, _json(
                {
                    "code": 21211,
                    "message": f"The 'To' number {form.get('To')} is not a valid phone number.",
                    "status": 400,
                }
            )
        self.counter += 1
        return 201, _json(
            {
                "sid": f"SM{self.counter:032d}",
                "status": "queued",
                "to": form.get("To"),
                "body": form.get("Body"),
                "error_code": None,
            }
        )


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
