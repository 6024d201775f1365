"""The built-in test provider: a payment page of its own inside the app ("Pay" / "Fail"),
then a signed webhook to our endpoint and a redirect back to our return page, the same path
a real provider takes. Its records (`TestGatewayPayment`) stand for the provider's servers.

Webhooks carry `X-Medfront-Signature`: HMAC-SHA256 of the raw body under a key derived from
SECRET_KEY. Even a correctly signed webhook only says which payment changed; its state is
then fetched, as with YooKassa.
"""

from __future__ import annotations

import hmac
import json
import logging
import urllib.error
import urllib.request
import uuid
from decimal import Decimal

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import salted_hmac

from scheduling.choices import PaymentStatus, RefundStatus
from scheduling.models import TestGatewayPayment

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
SIGNATURE_HEADER = "X-Medfront-Signature"
_SALT = "medfront.payments.test-gateway"


def sign(body: bytes) -> str:
    return salted_hmac(_SALT, body, algorithm="sha256").hexdigest()


def _gateway_payment(payment_id: str) -> TestGatewayPayment:
    try:
        return TestGatewayPayment.objects.get(public_id=uuid.UUID(payment_id))
    except (ValueError, TestGatewayPayment.DoesNotExist) as exc:
        raise ProviderError("test gateway: unknown payment") from exc


class TestGatewayProvider:
    __test__ = False  # not a pytest test class, despite its name
    name = "test"

    def create_payment(self, request: PaymentRequest) -> RemotePayment:
        remote, _created = TestGatewayPayment.objects.get_or_create(
            idempotence_key=request.idempotence_key,
            defaults={
                "amount": request.amount,
                "currency": request.currency,
                "description": request.description[:128],
                "return_url": request.return_url,
            },
        )
        return self._payment(remote)

    def fetch_payment(self, payment_id: str) -> RemotePayment:
        return self._payment(_gateway_payment(payment_id))

    def refund(
        self,
        *,
        payment_id: str,
        amount: Decimal,
        currency: str,
        idempotence_key: str,
        receipt: Receipt | None = None,
    ) -> RemoteRefund:
        with transaction.atomic():
            remote = _gateway_payment(payment_id)
            remote = TestGatewayPayment.objects.select_for_update().get(pk=remote.pk)
            if remote.status != PaymentStatus.SUCCEEDED or amount != remote.amount:
                raise ProviderError("test gateway: refund refused")
            if remote.refund_id is None:
                remote.refund_id = uuid.uuid4()
                remote.refund_key = idempotence_key
                remote.save(update_fields=["refund_id", "refund_key"])
            elif remote.refund_key != idempotence_key:
                raise ProviderError("test gateway: already refunded")
        return self._refund(remote)

    def fetch_refund(self, refund_id: str) -> RemoteRefund:
        try:
            remote = TestGatewayPayment.objects.get(refund_id=uuid.UUID(refund_id))
        except (ValueError, TestGatewayPayment.DoesNotExist) as exc:
            raise ProviderError("test gateway: unknown refund") from exc
        return self._refund(remote)

    def parse_webhook(self, request: HttpRequest) -> WebhookEvent:
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given or not hmac.compare_digest(given, sign(request.body)):
            raise WebhookRefused("bad_signature")
        return parse_event(request.body)

    def webhook_ok(self) -> tuple[int, str]:
        return 200, "OK"

    @staticmethod
    def _payment(remote: TestGatewayPayment) -> RemotePayment:
        return RemotePayment(
            id=str(remote.public_id),
            status=remote.status,
            amount=remote.amount,
            currency=remote.currency,
            confirmation_url=reverse("scheduling:test_gateway", args=[remote.public_id]),
        )

    @staticmethod
    def _refund(remote: TestGatewayPayment) -> RemoteRefund:
        return RemoteRefund(
            id=str(remote.refund_id),
            payment_id=str(remote.public_id),
            status=RefundStatus.SUCCEEDED,
            amount=remote.amount,
            currency=remote.currency,
        )


# --- The provider's side: its payment page decides, then it notifies us --------------------


def gateway_payment_for_page(public_id: uuid.UUID) -> TestGatewayPayment | None:
    return TestGatewayPayment.objects.filter(public_id=public_id).first()


def gateway_settle(*, remote: TestGatewayPayment, paid: bool, notify_url: str) -> None:
    """The payer pressed "Pay" or "Fail" on the test provider's page: settle a pending
    payment once and send the signed webhook to `notify_url` after the commit (a settled one
    stays as it is, as at a real provider)."""
    # tasks.py imports this module; the task is looked up when first needed.
    from scheduling.tasks import deliver_test_gateway_webhook

    with transaction.atomic():
        remote = TestGatewayPayment.objects.select_for_update().get(pk=remote.pk)
        if remote.status != PaymentStatus.PENDING:
            return
        remote.status = PaymentStatus.SUCCEEDED if paid else PaymentStatus.CANCELED
        remote.notify_url = notify_url
        remote.save(update_fields=["status", "notify_url"])
        pk = remote.pk
        transaction.on_commit(lambda: deliver_test_gateway_webhook.delay(pk))


def deliver_webhook(*, gateway_payment_id: int) -> bool:
    """POST the signed webhook about a settled payment; False if our endpoint did not take it
    (the return page and the periodic check fetch the payment anyway)."""
    remote = TestGatewayPayment.objects.get(pk=gateway_payment_id)
    event = "payment.succeeded" if remote.status == PaymentStatus.SUCCEEDED else "payment.canceled"
    return post_signed(remote.notify_url, webhook_json(str(remote.public_id), event))


def webhook_json(object_id: str, event: str) -> bytes:
    return json.dumps({"event": event, "object": {"id": object_id}}).encode()


def post_signed(url: str, data: bytes) -> bool:
    request = urllib.request.Request(  # noqa: S310 - our own endpoint
        url,
        data=data,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(data)},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return 200 <= response.status < 300
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        logger.warning("test gateway: webhook not delivered (%s)", exc.__class__.__name__)
        return False


def webhook_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("scheduling:payment_webhook", args=["test"]))
