"""YooKassa (ЮKassa) API v3: payments with a redirect confirmation and 54-ФЗ receipt data,
refunds, and webhooks verified as YooKassa recommends.

YooKassa does not sign its webhooks: a notification is accepted only from its published
address ranges (`YOOKASSA_WEBHOOK_NETWORKS`), and even then its body is not trusted: the
payment or refund it names is fetched back with our credentials and that answer is used.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import urllib.error
import urllib.request
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from portal.choices import VatMode
from portal.request_context import client_ip
from scheduling.choices import PaymentStatus, RefundStatus

from .base import (
    PaymentRequest,
    ProviderError,
    Receipt,
    RemotePayment,
    RemoteRefund,
    WebhookEvent,
    WebhookRefused,
    parse_event,
)

logger = logging.getLogger(__name__)

# 54-ФЗ VAT rate codes of YooKassa's `vat_code` (its "parameters values" reference); 11 is
# the 22 % rate in force from 2026.
VAT_CODES: dict[str, int] = {
    VatMode.NONE: 1,
    VatMode.VAT0: 2,
    VatMode.VAT10: 3,
    VatMode.VAT5: 7,
    VatMode.VAT7: 8,
    VatMode.VAT22: 11,
}
PAYMENT_STATUSES = {
    "pending": PaymentStatus.PENDING,
    # Only with capture=false, which we never send; still money not yet ours.
    "waiting_for_capture": PaymentStatus.PENDING,
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELED,
}
REFUND_STATUSES = {
    "pending": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "canceled": RefundStatus.CANCELED,
}
DESCRIPTION_LENGTH = 128  # YooKassa's limit for a payment's and an item's description


def money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"value": f"{amount:.2f}", "currency": currency}


def receipt_json(receipt: Receipt, currency: str) -> dict[str, Any]:
    customer = {}
    if receipt.email:
        customer["email"] = receipt.email
    if receipt.phone:
        customer["phone"] = receipt.phone
    return {
        "customer": customer,
        "items": [
            {
                "description": item.description[:DESCRIPTION_LENGTH],
                "quantity": item.quantity,
                "amount": money(item.amount, currency),
                "vat_code": VAT_CODES.get(item.vat_mode, VAT_CODES[VatMode.NONE]),
                "payment_mode": "full_prepayment",
                "payment_subject": "service",
            }
            for item in receipt.items
        ],
    }


class YooKassaProvider:
    name = "yookassa"

    def __init__(
        self,
        *,
        shop_id: str,
        secret_key: str,
        api_url: str,
        webhook_networks: list[str],
        timeout: float = 10.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        token = base64.b64encode(f"{shop_id}:{secret_key}".encode()).decode()
        self._authorization = f"Basic {token}"
        self.networks = [ipaddress.ip_network(net, strict=False) for net in webhook_networks]
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> YooKassaProvider:
        if not settings.YOOKASSA_SHOP_ID or not settings.YOOKASSA_SECRET_KEY:
            raise ImproperlyConfigured(
                "PAYMENT_PROVIDER=yookassa needs YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY."
            )
        return cls(
            shop_id=settings.YOOKASSA_SHOP_ID,
            secret_key=settings.YOOKASSA_SECRET_KEY,
            api_url=settings.YOOKASSA_API_URL,
            webhook_networks=settings.YOOKASSA_WEBHOOK_NETWORKS,
        )

    # --- Requests ---------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, body: dict | None = None, idempotence_key: str = ""
    ) -> dict[str, Any]:
        headers = {"Authorization": self._authorization, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if idempotence_key:
            headers["Idempotence-Key"] = idempotence_key
        request = urllib.request.Request(  # noqa: S310 - the URL is our configured API base
            self.api_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ProviderError(f"yookassa {method} {path.split('/')[1]}: HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ProviderError(f"yookassa unreachable ({exc.__class__.__name__})") from exc
        except ValueError as exc:
            raise ProviderError("yookassa answered with malformed JSON") from exc

    # --- Payments ---------------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> RemotePayment:
        body = {
            "amount": money(request.amount, request.currency),
            "capture": True,
            "confirmation": {"type": "redirect", "return_url": request.return_url},
            "description": request.description[:DESCRIPTION_LENGTH],
            "metadata": request.metadata,
            "receipt": receipt_json(request.receipt, request.currency),
        }
        answer = self._call("POST", "/payments", body, idempotence_key=request.idempotence_key)
        return self._payment(answer)

    def fetch_payment(self, payment_id: str) -> RemotePayment:
        return self._payment(self._call("GET", f"/payments/{_safe_id(payment_id)}"))

    def refund(
        self,
        *,
        payment_id: str,
        amount: Decimal,
        currency: str,
        idempotence_key: str,
        receipt: Receipt | None = None,
    ) -> RemoteRefund:
        body: dict[str, Any] = {"payment_id": payment_id, "amount": money(amount, currency)}
        if receipt is not None:
            body["receipt"] = receipt_json(receipt, currency)
        return self._refund(self._call("POST", "/refunds", body, idempotence_key=idempotence_key))

    def fetch_refund(self, refund_id: str) -> RemoteRefund:
        return self._refund(self._call("GET", f"/refunds/{_safe_id(refund_id)}"))

    def _payment(self, answer: dict[str, Any]) -> RemotePayment:
        try:
            amount = answer["amount"]
            return RemotePayment(
                id=str(answer["id"]),
                status=PAYMENT_STATUSES[answer["status"]],
                amount=Decimal(amount["value"]),
                currency=str(amount["currency"]),
                confirmation_url=str(
                    (answer.get("confirmation") or {}).get("confirmation_url", "")
                ),
            )
        except (KeyError, TypeError, InvalidOperation) as exc:
            raise ProviderError("yookassa payment answer lacks fields") from exc

    def _refund(self, answer: dict[str, Any]) -> RemoteRefund:
        try:
            amount = answer["amount"]
            return RemoteRefund(
                id=str(answer["id"]),
                payment_id=str(answer["payment_id"]),
                status=REFUND_STATUSES[answer["status"]],
                amount=Decimal(amount["value"]),
                currency=str(amount["currency"]),
            )
        except (KeyError, TypeError, InvalidOperation) as exc:
            raise ProviderError("yookassa refund answer lacks fields") from exc

    # --- Webhooks ---------------------------------------------------------------------------

    def parse_webhook(self, request: HttpRequest) -> WebhookEvent:
        try:
            sender = ipaddress.ip_address(client_ip(request) or "")
        except ValueError as exc:
            raise WebhookRefused("sender_unknown") from exc
        if not any(sender in network for network in self.networks):
            raise WebhookRefused("sender_not_allowed")
        return parse_event(request.body)

    def webhook_ok(self) -> tuple[int, str]:
        return 200, ""


def _safe_id(value: str) -> str:
    """A provider id as a path segment: YooKassa's ids are UUID-like; anything else is
    refused before it reaches a URL."""
    if not value or len(value) > 64 or not all(c.isalnum() or c == "-" for c in value):
        raise ProviderError("malformed provider id")
    return value
