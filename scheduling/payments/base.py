"""The payment provider interface: what every adapter (YooKassa, the test provider) offers.

An adapter speaks one provider's protocol and nothing else: it knows no appointments and
writes no `Payment` rows. `scheduling.services.payments` decides what a provider's answer
means for a visit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from django.http import HttpRequest


class ProviderError(Exception):
    """The provider could not be reached or refused the request; nothing is known to have
    changed there. `detail` is safe to log: it never holds personal data."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class WebhookRefused(Exception):
    """A webhook that is not what it claims (bad signature, wrong sender, malformed body).
    `reason` is a short code for the log."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class ReceiptItem:
    """One line of a 54-ФЗ receipt: the service, paid in full in advance."""

    description: str
    quantity: int
    amount: Decimal  # per unit, roubles
    vat_mode: str  # portal.choices.VatMode


@dataclass(frozen=True)
class Receipt:
    """Receipt data the provider passes to the online cash register (54-ФЗ)."""

    items: list[ReceiptItem]
    email: str = ""
    phone: str = ""  # digits with the country code, no "+"


@dataclass(frozen=True)
class PaymentRequest:
    amount: Decimal
    currency: str
    description: str
    return_url: str
    idempotence_key: str
    receipt: Receipt
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RemotePayment:
    """A payment as the provider states it now."""

    id: str
    status: str  # scheduling.choices.PaymentStatus
    amount: Decimal
    currency: str
    confirmation_url: str = ""


@dataclass(frozen=True)
class RemoteRefund:
    id: str
    payment_id: str
    status: str  # scheduling.choices.RefundStatus
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class WebhookEvent:
    """What a verified webhook is about; its state is fetched from the provider, not read from
    the body."""

    object_kind: str  # "payment" or "refund"
    object_id: str
    event: str  # the provider's event name, e.g. "payment.succeeded"
    digest: str  # SHA-256 of the raw body: replays are recognised by it


def parse_event(body: bytes) -> WebhookEvent:
    """The `{"event": "<kind>.<what>", "object": {"id": ...}}` both providers send; raises
    `WebhookRefused` for anything else."""
    try:
        data = json.loads(body)
        event = str(data["event"])[:60]
        object_id = str(data["object"]["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise WebhookRefused("malformed") from exc
    kind = event.partition(".")[0]
    if kind not in ("payment", "refund") or not object_id or len(object_id) > 64:
        raise WebhookRefused("unknown_event")
    return WebhookEvent(
        object_kind=kind,
        object_id=object_id,
        event=event,
        digest=hashlib.sha256(body).hexdigest(),
    )


class PaymentProvider(Protocol):
    name: str

    def create_payment(self, request: PaymentRequest) -> RemotePayment:
        """Create the payment (the same `idempotence_key` returns the same payment)."""
        ...

    def fetch_payment(self, payment_id: str) -> RemotePayment: ...

    def refund(
        self,
        *,
        payment_id: str,
        amount: Decimal,
        currency: str,
        idempotence_key: str,
        receipt: Receipt | None = None,
    ) -> RemoteRefund:
        """Refund `amount` of the payment (the same `idempotence_key` refunds once); `receipt`
        is the refund receipt's data where the provider issues receipts."""
        ...

    def fetch_refund(self, refund_id: str) -> RemoteRefund: ...

    def parse_webhook(self, request: HttpRequest) -> WebhookEvent:
        """Check the webhook is from the provider (signature, sender) and say what it is
        about; raises `WebhookRefused`."""
        ...

    def webhook_ok(self) -> tuple[int, str]:
        """The answer the provider expects for an accepted webhook (status, body)."""
        ...
