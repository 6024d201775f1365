"""A local HTTP server speaking YooKassa's API v3 as far as Medfront uses it: payments
(create with Idempotence-Key, fetch) and refunds (create with Idempotence-Key, fetch), behind
HTTP Basic auth with the shop id and secret key. Tests settle payments on it directly."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SHOP_ID = "123456"
SECRET_KEY = "test_secret-key"


class FakeYooKassa:
    def __init__(self) -> None:
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []  # method, path, headers, body
        self.down = False  # every request answered with a 500
        self.confirmation = True  # new payments carry a payment link
        self.refund_status = "succeeded"  # what a new refund starts as
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v3"

    def start(self) -> FakeYooKassa:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def settle(self, payment_id: str, status: str = "succeeded") -> None:
        self.payments[payment_id]["status"] = status
        self.payments[payment_id]["paid"] = status == "succeeded"

    def settle_refund(self, refund_id: str, status: str = "succeeded") -> None:
        self.refunds[refund_id]["status"] = status

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                token = base64.b64encode(f"{SHOP_ID}:{SECRET_KEY}".encode()).decode()
                return self.headers.get("Authorization") == f"Basic {token}"

            def _error(self, status: int, code: str) -> None:
                self._answer(status, {"type": "error", "code": code})

            def do_GET(self):
                fake.requests.append(
                    {"method": "GET", "path": self.path, "headers": dict(self.headers)}
                )
                if fake.down:
                    return self._error(500, "internal_server_error")
                if not self._authorised():
                    return self._error(401, "invalid_credentials")
                kind, _sep, object_id = self.path.removeprefix("/v3/").partition("/")
                store = {"payments": fake.payments, "refunds": fake.refunds}.get(kind)
                if store is None or object_id not in store:
                    return self._error(404, "not_found")
                return self._answer(200, store[object_id])

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(
                    {
                        "method": "POST",
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                    }
                )
                if fake.down:
                    return self._error(500, "internal_server_error")
                if not self._authorised():
                    return self._error(401, "invalid_credentials")
                key = self.headers.get("Idempotence-Key")
                if not key:
                    return self._error(400, "invalid_request")
                if key in fake.by_key:  # the same key: the same object, as YooKassa does
                    object_id = fake.by_key[key]
                    store = fake.payments if object_id in fake.payments else fake.refunds
                    return self._answer(200, store[object_id])
                if self.path == "/v3/payments":
                    payment_id = f"2d{uuid.uuid4().hex[:6]}-000f-5000-9000-1b68e7b15f3f"
                    fake.payments[payment_id] = {
                        "id": payment_id,
                        "status": "pending",
                        "paid": False,
                        "amount": body["amount"],
                        "confirmation": {
                            "type": "redirect",
                            "confirmation_url": f"https://yoomoney.ru/checkout/payments/v2/contract?orderId={payment_id}",
                        },
                        "description": body.get("description", ""),
                        "metadata": body.get("metadata", {}),
                        "test": True,
                    }
                    if not fake.confirmation:
                        del fake.payments[payment_id]["confirmation"]
                    fake.by_key[key] = payment_id
                    return self._answer(200, fake.payments[payment_id])
                if self.path == "/v3/refunds":
                    payment = fake.payments.get(body.get("payment_id"))
                    if payment is None or payment["status"] != "succeeded":
                        return self._error(400, "invalid_request")
                    refund_id = f"2e{uuid.uuid4().hex[:6]}-0015-5000-9000-1b68e7b15f3f"
                    fake.refunds[refund_id] = {
                        "id": refund_id,
                        "payment_id": payment["id"],
                        "status": fake.refund_status,
                        "amount": body["amount"],
                    }
                    fake.by_key[key] = refund_id
                    return self._answer(200, fake.refunds[refund_id])
                return self._error(404, "not_found")

        return Handler
