"""Helpers of the prepayment suites: book a prepaid visit, pay it at the test provider,
deliver the test provider's signed webhook through the test client."""

from __future__ import annotations

import json

from django.urls import reverse

from scheduling.choices import AppointmentChannel
from scheduling.models import Payment, TestGatewayPayment
from scheduling.payments.test_gateway import SIGNATURE_HEADER, sign
from scheduling.services.booking import appointment_book
from scheduling.services.payments import payment_start

RETURN_URL = "http://testserver/return/"


def book_online(patient, doctor, service, start, *, actor=None):
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=start,
        channel=AppointmentChannel.ONLINE,
        actor=actor or patient.user,
    )


def start_payment(appointment, actor) -> Payment:
    return payment_start(appointment=appointment, actor=actor, return_url=RETURN_URL)


def settle_at_gateway(payment: Payment, *, paid: bool = True) -> TestGatewayPayment:
    """What the payer's click on the test provider's page does on its side."""
    remote = TestGatewayPayment.objects.get(public_id=payment.provider_payment_id)
    remote.status = "succeeded" if paid else "canceled"
    remote.save(update_fields=["status"])
    return remote


def webhook_body(object_id: str, event: str = "payment.succeeded") -> bytes:
    return json.dumps({"event": event, "object": {"id": object_id}}).encode()


def post_webhook(client, body: bytes, *, signature: str | None = None):
    return client.post(
        reverse("scheduling:payment_webhook", args=["test"]),
        data=body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: sign(body) if signature is None else signature},
    )


def notify_yookassa(client, event: str, object_id: str):
    """YooKassa's notification about `object_id`, sent from an address the test allows."""
    body = {"type": "notification", "event": event, "object": {"id": object_id}}
    return client.post(
        reverse("scheduling:payment_webhook", args=["yookassa"]),
        data=body,
        content_type="application/json",
    )
