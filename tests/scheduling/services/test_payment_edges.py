"""Prepayment when things go sideways: a provider that is down, answers about another sum,
gives no payment link yet, or keeps a refund pending or refuses it; webhooks about refunds
we never asked for; refunds that fail one by one; and the periodic check of payments whose
webhook never came. Providers are the built-in test provider and a local YooKassa."""

import datetime
import logging

import pytest
from django.test import Client

from notifications.models import OutboxMessage
from scheduling.choices import AppointmentStatus, PaymentStatus, RefundStatus
from scheduling.errors import PaymentUnavailable
from scheduling.models import Payment, PaymentWebhookEvent, Refund, TestGatewayPayment
from scheduling.services.booking import appointment_cancel
from scheduling.services.payments import (
    latest_payment_refresh,
    payment_refresh,
    payments_refresh_pending,
)
from scheduling.services.refunds import refund_record, refunds_retry_pending
from tests.scheduling.conftest import local
from tests.scheduling.payments.helpers import (
    book_online,
    notify_yookassa,
    post_webhook,
    settle_at_gateway,
    start_payment,
    webhook_body,
)

pytestmark = pytest.mark.django_db
S = AppointmentStatus


@pytest.fixture
def tue9(clinic_a):
    return local(clinic_a, 2027, 3, 2, 9)


@pytest.fixture
def waiting(clock, doctor, prepaid, patient, tue9):
    return book_online(patient, doctor, prepaid, tue9)


def paid_at_gateway(appointment, actor) -> Payment:
    """Paid at the test provider and confirmed by its signed webhook."""
    payment = start_payment(appointment, actor)
    settle_at_gateway(payment)
    assert post_webhook(Client(), webhook_body(payment.provider_payment_id)).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    return payment


def paid_at_yookassa(appointment, actor, fake) -> Payment:
    payment = start_payment(appointment, actor)
    fake.settle(payment.provider_payment_id)
    assert (
        notify_yookassa(Client(), "payment.succeeded", payment.provider_payment_id).status_code
        == 200
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    return payment


def requests_to(fake, method, path):
    return [r for r in fake.requests if r["method"] == method and r["path"] == path]


def refund_pending_at_yookassa(appointment, patient, fake, capture) -> Refund:
    """A cancelled paid visit whose refund YooKassa took but has not settled yet."""
    paid_at_yookassa(appointment, patient.user, fake)
    fake.refund_status = "pending"
    with capture(execute=True):
        appointment_cancel(appointment=appointment, actor=patient.user)
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.PENDING and refund.provider_refund_id in fake.refunds
    return refund


# --- Starting a payment --------------------------------------------------------------------------


def test_a_second_click_before_the_link_exists_keeps_the_first_provider_payment(
    waiting, patient, yookassa
):
    yookassa.confirmation = False  # YooKassa took the payment but gave no link (yet)
    first = start_payment(waiting, patient.user)
    assert first.provider_payment_id in yookassa.payments and first.confirmation_url == ""
    second = start_payment(waiting, patient.user)
    # Asked again (there is no link to send the payer to), with the same key: the same
    # payment there, and the one recorded here is kept as it was.
    sent = requests_to(yookassa, "POST", "/v3/payments")
    assert {r["headers"]["Idempotence-Key"] for r in sent} == {str(first.idempotence_key)}
    assert len(sent) == 2 and len(yookassa.payments) == 1
    assert second.pk == first.pk and Payment.objects.count() == 1
    assert second.provider_payment_id == first.provider_payment_id
    assert second.confirmation_url == ""


def test_a_link_given_with_a_later_answer_is_kept(waiting, patient, yookassa):
    yookassa.confirmation = False
    first = start_payment(waiting, patient.user)
    assert first.confirmation_url == ""
    # YooKassa's payment now carries its link; the next click's answer brings it.
    link = f"https://yoomoney.ru/checkout/payments/v2/contract?orderId={first.provider_payment_id}"
    yookassa.payments[first.provider_payment_id]["confirmation"] = {
        "type": "redirect",
        "confirmation_url": link,
    }
    second = start_payment(waiting, patient.user)
    assert (second.pk, second.provider_payment_id) == (first.pk, first.provider_payment_id)
    assert second.confirmation_url == link
    assert Payment.objects.get().confirmation_url == link
    # With the link kept, a third click goes straight to it without asking the provider.
    asked = len(requests_to(yookassa, "POST", "/v3/payments"))
    assert start_payment(waiting, patient.user).confirmation_url == link
    assert len(requests_to(yookassa, "POST", "/v3/payments")) == asked


# --- Asking the provider about a payment ---------------------------------------------------------


def test_a_payment_never_made_at_the_provider_or_already_settled_is_not_asked_about(
    waiting, patient, yookassa
):
    yookassa.down = True
    with pytest.raises(PaymentUnavailable):
        start_payment(waiting, patient.user)
    yookassa.down = False
    # The payer comes back: there is nothing the provider could tell about this payment.
    unsent = latest_payment_refresh(appointment=waiting)
    assert unsent is not None
    assert unsent.status == PaymentStatus.PENDING and unsent.provider_payment_id == ""
    paid = paid_at_yookassa(waiting, patient.user, yookassa)
    asked = len(requests_to(yookassa, "GET", f"/v3/payments/{paid.provider_payment_id}"))
    # A settled payment stays settled, whatever the provider would say now.
    yookassa.settle(paid.provider_payment_id, "canceled")
    assert payment_refresh(payment=paid).status == PaymentStatus.SUCCEEDED
    assert not [r for r in yookassa.requests if r["method"] == "GET"][asked:]
    paid.refresh_from_db()
    assert paid.status == PaymentStatus.SUCCEEDED


def test_a_provider_that_does_not_answer_leaves_the_payment_waiting(
    waiting, patient, yookassa, caplog
):
    payment = start_payment(waiting, patient.user)
    yookassa.settle(payment.provider_payment_id)
    yookassa.down = True
    with caplog.at_level(logging.WARNING):
        assert payment_refresh(payment=payment).status == PaymentStatus.PENDING
        # Its webhook is kept, answered "try again later" (503), and changes nothing.
        response = notify_yookassa(Client(), "payment.succeeded", payment.provider_payment_id)
    assert response.status_code == 503
    assert f"payment {payment.public_id} not refreshed" in caplog.text
    assert patient.last_name not in caplog.text
    payment.refresh_from_db()
    waiting.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING and waiting.status == S.BOOKED
    kept = PaymentWebhookEvent.objects.get()
    assert (kept.outcome, kept.deliveries) == ("provider_unreachable", 1)
    # YooKassa sends it again once it is back: now it counts.
    yookassa.down = False
    response = notify_yookassa(Client(), "payment.succeeded", payment.provider_payment_id)
    assert response.status_code == 200
    kept.refresh_from_db()
    assert (kept.outcome, kept.deliveries) == ("accepted", 2)
    waiting.refresh_from_db()
    assert waiting.status == S.CONFIRMED


def test_an_answer_about_another_amount_is_refused_by_the_check_on_return(waiting, patient, caplog):
    payment = start_payment(waiting, patient.user)
    remote = settle_at_gateway(payment)
    remote.amount = payment.amount - 100
    remote.save(update_fields=["amount"])
    with caplog.at_level(logging.WARNING):
        refreshed = latest_payment_refresh(appointment=waiting)
    assert refreshed is not None and refreshed.status == PaymentStatus.PENDING
    assert f"payment {payment.public_id}: the provider reports another payment" in caplog.text
    payment.refresh_from_db()
    waiting.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING and payment.paid_at is None
    assert waiting.status == S.BOOKED
    assert not OutboxMessage.objects.filter(event="payment.received").exists()


def test_pending_payments_are_checked_after_a_while_and_for_a_day_only(
    clock, doctor, prepaid, patient, other_patient, clinic_a
):
    early = book_online(patient, doctor, prepaid, local(clinic_a, 2027, 3, 2, 9))
    early_payment = start_payment(early, patient.user)
    settle_at_gateway(early_payment)  # paid, its webhook lost
    clock.advance(minutes=10)
    late = book_online(other_patient, doctor, prepaid, local(clinic_a, 2027, 3, 2, 10))
    late_payment = start_payment(late, other_patient.user)
    settle_at_gateway(late_payment)
    clock.advance(minutes=5)
    # Only the one pending for 15 minutes is asked about; the 5-minute one may still get
    # its webhook.
    assert payments_refresh_pending(older_than=datetime.timedelta(minutes=15)) == 1
    early_payment.refresh_from_db()
    late_payment.refresh_from_db()
    early.refresh_from_db()
    assert early_payment.status == PaymentStatus.SUCCEEDED and early.status == S.CONFIRMED
    assert late_payment.status == PaymentStatus.PENDING
    # A day on, the provider has long given up on it; it is not asked about any more.
    clock.advance(days=1)
    assert payments_refresh_pending(older_than=datetime.timedelta(minutes=15)) == 0
    late_payment.refresh_from_db()
    assert late_payment.status == PaymentStatus.PENDING


# --- Refund webhooks -----------------------------------------------------------------------------


def test_a_webhook_about_a_refund_we_never_asked_for_is_refused(waiting, patient, caplog):
    paid_at_gateway(waiting, patient.user)
    body = webhook_body("0b7c4f5e-0000-4000-8000-000000000000", event="refund.succeeded")
    with caplog.at_level(logging.WARNING):
        assert post_webhook(Client(), body).status_code == 400
    assert "unknown_refund" in caplog.text
    assert PaymentWebhookEvent.objects.get(object_id__startswith="0b7c").outcome == (
        "unknown_refund"
    )
    assert not Refund.objects.exists()


def test_a_refund_webhook_about_another_amount_settles_nothing(
    waiting, patient, yookassa, django_capture_on_commit_callbacks, caplog
):
    refund = refund_pending_at_yookassa(
        waiting, patient, yookassa, django_capture_on_commit_callbacks
    )
    yookassa.settle_refund(refund.provider_refund_id)
    yookassa.refunds[refund.provider_refund_id]["amount"]["value"] = "1.00"
    with caplog.at_level(logging.WARNING):
        response = notify_yookassa(Client(), "refund.succeeded", refund.provider_refund_id)
    assert response.status_code == 400
    assert "refund_mismatch" in caplog.text
    assert PaymentWebhookEvent.objects.get(event="refund.succeeded").outcome == "refund_mismatch"
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING and refund.refunded_at is None


# --- Sending and settling refunds ----------------------------------------------------------------


def test_recording_a_refund_twice_gives_the_first_and_sends_it_once(
    clock, waiting, patient, django_capture_on_commit_callbacks
):
    payment = paid_at_gateway(waiting, patient.user)
    with django_capture_on_commit_callbacks() as sends:
        first = refund_record(appointment=waiting, actor=None, now=clock.now)
        clock.advance(minutes=1)
        second = refund_record(appointment=waiting, actor=None, now=clock.now)
    assert first is not None and second is not None
    assert second.pk == first.pk and second.created_at == first.created_at
    assert Refund.objects.get().payment == payment
    assert len(sends) == 1  # one request to the provider after the commit


def test_a_refund_pending_at_yookassa_is_asked_about_not_sent_again(
    waiting, patient, yookassa, django_capture_on_commit_callbacks
):
    refund = refund_pending_at_yookassa(
        waiting, patient, yookassa, django_capture_on_commit_callbacks
    )
    # Still pending there: asked about, and left pending here.
    assert refunds_retry_pending() == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING and refund.refunded_at is None
    yookassa.settle_refund(refund.provider_refund_id)
    assert refunds_retry_pending() == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.refunded_at is not None
    assert len(requests_to(yookassa, "POST", "/v3/refunds")) == 1  # the money goes back once
    assert len(requests_to(yookassa, "GET", f"/v3/refunds/{refund.provider_refund_id}")) == 2
    assert refunds_retry_pending() == 0  # nothing left to send


def test_a_refund_yookassa_refuses_is_recorded_as_refused_without_a_date(
    waiting, patient, yookassa, django_capture_on_commit_callbacks
):
    refund = refund_pending_at_yookassa(
        waiting, patient, yookassa, django_capture_on_commit_callbacks
    )
    yookassa.settle_refund(refund.provider_refund_id, "canceled")
    assert refunds_retry_pending() == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.CANCELED and refund.refunded_at is None
    assert refunds_retry_pending() == 0


def test_a_refund_that_fails_does_not_hold_up_the_others(
    clock, doctor, prepaid, patient, other_patient, registrar_a, clinic_a, caplog
):
    refused_visit = book_online(patient, doctor, prepaid, local(clinic_a, 2027, 3, 2, 9))
    fine_visit = book_online(other_patient, doctor, prepaid, local(clinic_a, 2027, 3, 2, 10))
    refused_payment = paid_at_gateway(refused_visit, patient.user)
    fine_payment = paid_at_gateway(fine_visit, other_patient.user)
    # Cancelled at the desk; this test's transaction stays open, so nothing is sent yet.
    appointment_cancel(appointment=refused_visit, actor=registrar_a)
    appointment_cancel(appointment=fine_visit, actor=registrar_a)
    # The provider refuses one refund (it holds another sum for that payment).
    remote = TestGatewayPayment.objects.get(public_id=refused_payment.provider_payment_id)
    remote.amount = refused_payment.amount + 1
    remote.save(update_fields=["amount"])
    with caplog.at_level(logging.WARNING):
        assert refunds_retry_pending() == 1
    refused = Refund.objects.get(payment=refused_payment)
    fine = Refund.objects.get(payment=fine_payment)
    assert f"refund {refused.pk} not sent" in caplog.text
    assert refused.status == RefundStatus.PENDING and refused.provider_refund_id == ""
    assert fine.status == RefundStatus.SUCCEEDED and fine.refunded_at is not None


def test_a_refund_whose_answer_does_not_match_stays_pending_for_the_next_try(
    waiting, patient, yookassa, django_capture_on_commit_callbacks, caplog
):
    refund = refund_pending_at_yookassa(
        waiting, patient, yookassa, django_capture_on_commit_callbacks
    )
    yookassa.settle_refund(refund.provider_refund_id)
    yookassa.refunds[refund.provider_refund_id]["amount"]["currency"] = "USD"
    with caplog.at_level(logging.WARNING):
        assert refunds_retry_pending() == 0
    assert f"refund {refund.pk} not sent" in caplog.text
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING and refund.refunded_at is None
