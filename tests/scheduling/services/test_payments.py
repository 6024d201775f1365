"""Prepayment of visits: a prepaid booking waits for its payment, paying confirms it, an
unpaid one is released, a cancelled paid one is refunded; webhooks are checked and
replays change nothing. The test provider is the provider (settings: PAYMENT_PROVIDER)."""

import datetime
import logging

import pytest
from django.test import Client

from notifications.models import OutboxMessage
from scheduling.choices import AppointmentChannel, AppointmentStatus, PaymentStatus, RefundStatus
from scheduling.errors import InvalidTransition, NotAllowed
from scheduling.models import (
    AppointmentEvent,
    Occupancy,
    Payment,
    PaymentWebhookEvent,
    Refund,
    TestGatewayPayment,
)
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book, appointment_cancel, appointment_confirm
from scheduling.services.payments import (
    payment_refresh,
    prepayments_release_expired,
)
from scheduling.services.refunds import refund_send
from tests.scheduling.conftest import local
from tests.scheduling.payments.helpers import (
    book_online,
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


def paid_visit(waiting, patient, client=None):
    payment = start_payment(waiting, patient.user)
    settle_at_gateway(payment)
    response = post_webhook(client or Client(), webhook_body(payment.provider_payment_id))
    assert response.status_code == 200
    waiting.refresh_from_db()
    payment.refresh_from_db()
    return payment


# --- Booking waits for the payment -------------------------------------------------------------


def test_a_prepaid_online_booking_holds_its_time_and_waits_quietly(clock, waiting, settings):
    assert waiting.status == S.BOOKED
    assert waiting.payment_due_at == clock.now + datetime.timedelta(
        minutes=settings.PAYMENT_HOLD_MINUTES
    )
    assert Occupancy.objects.filter(appointment=waiting).exists()
    # Announced once paid, not before: an unpaid booking may still be released.
    assert not OutboxMessage.objects.filter(event="appointment.booked").exists()


def test_the_hold_time_is_a_setting(clock, doctor, prepaid, patient, tue9, settings):
    settings.PAYMENT_HOLD_MINUTES = 40
    appointment = book_online(patient, doctor, prepaid, tue9)
    assert appointment.payment_due_at == clock.now + datetime.timedelta(minutes=40)


def test_bookings_at_the_desk_and_unlisted_services_do_not_wait(
    clock, doctor, prepaid, patient, registrar_a, tue9, service
):
    by_phone = appointment_book(
        patient=patient,
        doctor=doctor,
        service=prepaid,
        start=tue9,
        channel=AppointmentChannel.PHONE,
        actor=registrar_a,
    )
    assert by_phone.payment_due_at is None
    assert OutboxMessage.objects.filter(event="appointment.booked").exists()


def test_no_provider_configured_means_no_prepayment(
    clock, doctor, prepaid, patient, tue9, settings
):
    settings.PAYMENT_PROVIDER = "none"
    assert book_online(patient, doctor, prepaid, tue9).payment_due_at is None


def test_a_waiting_booking_is_confirmed_by_paying_not_by_a_click(waiting, patient):
    with pytest.raises(InvalidTransition) as refused:
        appointment_confirm(appointment=waiting, actor=patient.user)
    assert refused.value.code == "awaiting_payment"


# --- Paying --------------------------------------------------------------------------------------


def test_a_double_click_on_pay_makes_one_payment_here_and_at_the_provider(waiting, patient):
    first = start_payment(waiting, patient.user)
    second = start_payment(waiting, patient.user)
    assert first.pk == second.pk
    assert Payment.objects.count() == 1 and TestGatewayPayment.objects.count() == 1
    assert first.status == PaymentStatus.PENDING
    assert first.amount == waiting.price and first.currency == "RUB"
    assert first.confirmation_url == f"/payments/test-gateway/{first.provider_payment_id}/"
    remote = TestGatewayPayment.objects.get()
    assert remote.idempotence_key == str(first.idempotence_key)
    assert "Иванова" not in remote.description  # no patient's name goes to the provider


def test_only_the_patient_or_their_guardian_may_pay(waiting, other_patient):
    with pytest.raises(NotAllowed):
        start_payment(waiting, other_patient.user)
    assert not Payment.objects.exists()


def test_a_visit_that_does_not_wait_cannot_be_paid(clock, doctor, service, patient, tue9):
    plain = book_online(patient, doctor, service, tue9)
    with pytest.raises(InvalidTransition):
        start_payment(plain, patient.user)


def test_the_signed_webhook_confirms_the_visit_and_tells_the_patient(waiting, patient):
    payment = paid_visit(waiting, patient)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.paid_at is not None
    assert waiting.status == S.CONFIRMED and waiting.payment_due_at is None
    received = OutboxMessage.objects.filter(event="payment.received", patient=patient)
    assert sorted(received.values_list("channel", flat=True)) == ["email", "sms"]
    assert not OutboxMessage.objects.filter(event="appointment.confirmed").exists()


def test_a_payer_without_an_email_is_told_by_sms_only(waiting, patient):
    patient.email = ""
    patient.save()
    paid_visit(waiting, patient)
    received = OutboxMessage.objects.filter(event="payment.received", patient=patient)
    assert list(received.values_list("channel", flat=True)) == ["sms"]


def test_a_replayed_webhook_changes_nothing(waiting, patient):
    payment = paid_visit(waiting, patient)
    events = AppointmentEvent.objects.count()
    messages = OutboxMessage.objects.count()
    again = post_webhook(Client(), webhook_body(payment.provider_payment_id))
    assert again.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert AppointmentEvent.objects.count() == events
    assert OutboxMessage.objects.count() == messages
    # Kept once, counted twice; its body is not stored, only its digest.
    (kept,) = PaymentWebhookEvent.objects.all()
    assert (kept.event, kept.object_id) == ("payment.succeeded", payment.provider_payment_id)
    assert (kept.deliveries, kept.outcome) == (2, "accepted")


def test_the_webhook_body_is_not_trusted_the_provider_is_asked(waiting, patient):
    payment = start_payment(waiting, patient.user)
    # Signed, says "succeeded", but the provider still has it pending.
    response = post_webhook(Client(), webhook_body(payment.provider_payment_id))
    assert response.status_code == 200
    payment.refresh_from_db()
    waiting.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING and waiting.status == S.BOOKED


def test_a_forged_signature_is_refused_and_logged_without_personal_data(waiting, patient, caplog):
    payment = start_payment(waiting, patient.user)
    settle_at_gateway(payment)
    with caplog.at_level(logging.WARNING):
        response = post_webhook(
            Client(), webhook_body(payment.provider_payment_id), signature="0" * 64
        )
    assert response.status_code == 400
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert "bad_signature" in caplog.text
    for secret in (patient.last_name, patient.email, patient.phone):
        assert secret not in caplog.text
    assert not PaymentWebhookEvent.objects.exists()  # a forgery is not even kept


def test_a_signed_webhook_about_an_unknown_payment_is_refused(waiting, patient, caplog):
    start_payment(waiting, patient.user)
    with caplog.at_level(logging.WARNING):
        response = post_webhook(Client(), webhook_body("6f1c1d0e-0000-4000-8000-000000000000"))
    assert response.status_code == 400
    assert "unknown_payment" in caplog.text
    assert PaymentWebhookEvent.objects.get().outcome == "unknown_payment"
    assert not Payment.objects.filter(status=PaymentStatus.SUCCEEDED).exists()


def test_a_payment_of_another_amount_confirms_nothing(waiting, patient, caplog):
    payment = start_payment(waiting, patient.user)
    remote = settle_at_gateway(payment)
    remote.amount = payment.amount - 1
    remote.save(update_fields=["amount"])
    with caplog.at_level(logging.WARNING):
        response = post_webhook(Client(), webhook_body(payment.provider_payment_id))
    assert response.status_code == 400
    assert "payment_mismatch" in caplog.text
    payment.refresh_from_db()
    waiting.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING and waiting.status == S.BOOKED


def test_malformed_webhooks_are_refused(db):
    body = b"not json"
    assert post_webhook(Client(), body).status_code == 400
    assert post_webhook(Client(), b'{"event": "payment.succeeded"}').status_code == 400
    unknown = Client().post(
        "/payments/webhook/nobody/", data=b"{}", content_type="application/json"
    )
    assert unknown.status_code == 404


def test_a_failed_payment_can_be_tried_again(waiting, patient):
    failed = start_payment(waiting, patient.user)
    settle_at_gateway(failed, paid=False)
    payment_refresh(payment=failed)
    failed.refresh_from_db()
    assert failed.status == PaymentStatus.CANCELED
    retry = start_payment(waiting, patient.user)
    assert retry.pk != failed.pk and retry.status == PaymentStatus.PENDING


# --- Not paid in time ----------------------------------------------------------------------------


def test_an_unpaid_booking_is_released_when_due_and_not_before(
    clock, waiting, doctor, prepaid, tue9, settings
):
    clock.advance(minutes=settings.PAYMENT_HOLD_MINUTES - 1)
    assert prepayments_release_expired() == 0
    clock.advance(minutes=1)
    assert prepayments_release_expired() == 1
    waiting.refresh_from_db()
    assert waiting.status == S.CANCELLED and waiting.cancelled_at == clock.now
    assert not Occupancy.objects.filter(appointment=waiting).exists()
    last = waiting.events.order_by("-id").first()
    assert (last.kind, last.from_status, last.actor) == ("cancelled", S.BOOKED, None)
    day = tue9.date()
    starts = [
        s.start for s in free_slots(service=prepaid, doctor=doctor, start_date=day, end_date=day)
    ]
    assert tue9 in starts
    assert prepayments_release_expired() == 0  # once


def test_a_payment_made_at_the_last_second_is_found_before_releasing(
    clock, waiting, patient, settings
):
    payment = start_payment(waiting, patient.user)
    settle_at_gateway(payment)  # paid, but its webhook has not come
    clock.advance(minutes=settings.PAYMENT_HOLD_MINUTES + 1)
    assert prepayments_release_expired() == 0
    waiting.refresh_from_db()
    assert waiting.status == S.CONFIRMED


def test_a_payment_arriving_after_the_release_is_refunded(
    clock, waiting, patient, settings, django_capture_on_commit_callbacks
):
    payment = start_payment(waiting, patient.user)
    clock.advance(minutes=settings.PAYMENT_HOLD_MINUTES + 1)
    # The provider had no success yet when the booking was released.
    prepayments_release_expired()
    settle_at_gateway(payment)
    with django_capture_on_commit_callbacks(execute=True):
        payment_refresh(payment=payment)
    waiting.refresh_from_db()
    assert waiting.status == S.CANCELLED
    refund = Refund.objects.get(payment=payment)
    assert refund.status == RefundStatus.SUCCEEDED and refund.amount == payment.amount


# --- Refunds -------------------------------------------------------------------------------------


def test_cancelling_a_paid_visit_refunds_it_once(
    waiting, patient, django_capture_on_commit_callbacks
):
    payment = paid_visit(waiting, patient)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=waiting, actor=patient.user)
    refund = Refund.objects.get()
    assert refund.payment == payment and refund.amount == payment.amount
    assert refund.status == RefundStatus.SUCCEEDED and refund.refunded_at is not None
    remote = TestGatewayPayment.objects.get()
    assert str(remote.refund_id) == refund.provider_refund_id
    assert remote.refund_key == str(refund.idempotence_key)
    # A retry (the task run twice) neither refunds again nor changes the record.
    refund_send(refund_id=refund.pk)
    remote.refresh_from_db()
    assert str(remote.refund_id) == refund.provider_refund_id
    assert Refund.objects.count() == 1


def test_staff_cancelling_a_paid_visit_records_a_pending_refund_first(
    waiting, patient, registrar_a
):
    paid_visit(waiting, patient)
    # Without the commit (this test's transaction stays open) the provider is not asked yet.
    appointment_cancel(appointment=waiting, actor=registrar_a)
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.PENDING and refund.provider_refund_id == ""
    assert refund.created_by == registrar_a
    refund_send(refund_id=refund.pk)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED


def test_cancelling_an_unpaid_visit_refunds_nothing(waiting, patient):
    start_payment(waiting, patient.user)
    appointment_cancel(appointment=waiting, actor=patient.user)
    assert not Refund.objects.exists()


def test_a_guardian_pays_for_a_dependants_visit_with_their_own_contacts(
    clock, doctor, prepaid, patient, dependant, tue9
):
    from scheduling.selectors.payments import receipt_for

    dependant.email, dependant.phone = "", ""
    dependant.save(update_fields=["email", "phone"])
    visit = book_online(dependant, doctor, prepaid, tue9, actor=patient.user)
    assert visit.payment_due_at is not None
    payment = start_payment(visit, patient.user)
    receipt = receipt_for(visit)
    assert (receipt.email, receipt.phone) == (patient.email, patient.phone.lstrip("+"))
    settle_at_gateway(payment)
    assert post_webhook(Client(), webhook_body(payment.provider_payment_id)).status_code == 200
    visit.refresh_from_db()
    assert visit.status == S.CONFIRMED


@pytest.mark.parametrize(
    ("mode", "vat"),
    [("none", None), ("vat0", "0.00"), ("vat10", "227.27"), ("vat22", "450.82")],
)
def test_the_receipt_shows_the_vat_included_in_the_price(mode, vat):
    from decimal import Decimal

    from scheduling.selectors.payments import included_vat

    assert included_vat(Decimal("2500.00"), mode) == (Decimal(vat) if vat else None)
