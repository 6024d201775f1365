"""The YooKassa adapter against a local server speaking its API v3: payment creation with an
idempotence key and 54-ФЗ receipt data, webhooks verified by sender and by fetching the
payment back, refunds, and a provider that is down or refuses our credentials."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from portal.choices import VatMode
from scheduling.choices import AppointmentStatus, PaymentStatus, RefundStatus
from scheduling.errors import PaymentUnavailable
from scheduling.models import Payment, Refund
from scheduling.payments import ProviderError, get_provider
from scheduling.payments.base import PaymentRequest, Receipt, ReceiptItem
from scheduling.services.booking import appointment_cancel
from scheduling.services.refunds import refunds_retry_pending
from tests.scheduling.conftest import local
from tests.scheduling.payments.helpers import RETURN_URL, book_online, start_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(clock, clinic_a, doctor, prepaid, patient, yookassa):
    return book_online(patient, doctor, prepaid, local(clinic_a, 2027, 3, 2, 9))


def notify(event: str, object_id: str, *, status: str = "succeeded"):
    body = {"type": "notification", "event": event, "object": {"id": object_id, "status": status}}
    return Client().post(
        reverse("scheduling:payment_webhook", args=["yookassa"]),
        data=body,
        content_type="application/json",
    )


def posts(fake, path):
    return [r for r in fake.requests if r["method"] == "POST" and r["path"] == path]


def test_it_creates_the_payment_with_a_key_a_redirect_and_the_receipt(
    waiting, patient, yookassa, clinic_a
):
    entity = clinic_a.legal_entity
    entity.vat_mode = VatMode.VAT22
    entity.save(update_fields=["vat_mode"])
    payment = start_payment(waiting, patient.user)
    (sent,) = posts(yookassa, "/v3/payments")
    assert sent["headers"]["Idempotence-Key"] == str(payment.idempotence_key)
    body = sent["body"]
    assert body["amount"] == {"value": f"{waiting.price:.2f}", "currency": "RUB"}
    assert body["capture"] is True
    assert body["confirmation"] == {"type": "redirect", "return_url": RETURN_URL}
    assert patient.last_name not in body["description"]
    (item,) = body["receipt"]["items"]
    assert item == {
        "description": waiting.service.name,
        "quantity": 1,
        "amount": {"value": f"{waiting.price:.2f}", "currency": "RUB"},
        "vat_code": 11,
        "payment_mode": "full_prepayment",
        "payment_subject": "service",
    }
    assert body["receipt"]["customer"] == {
        "email": patient.email,
        "phone": patient.phone.lstrip("+"),
    }
    assert payment.provider == "yookassa"
    assert payment.provider_payment_id in yookassa.payments
    assert payment.confirmation_url.startswith("https://yoomoney.ru/checkout/")


def test_the_same_key_gives_the_same_payment_at_yookassa(yookassa):
    provider = get_provider("yookassa")
    request = PaymentRequest(
        amount=Decimal("1500.00"),
        currency="RUB",
        description="ЭКГ",
        return_url=RETURN_URL,
        idempotence_key="key-1",
        receipt=Receipt(
            items=[ReceiptItem("ЭКГ", 1, Decimal("1500.00"), "none")], email="a@example.test"
        ),
    )
    first, second = provider.create_payment(request), provider.create_payment(request)
    assert first.id == second.id and len(yookassa.payments) == 1
    assert posts(yookassa, "/v3/payments")[0]["body"]["receipt"]["items"][0]["vat_code"] == 1


def test_a_webhook_is_believed_only_after_fetching_the_payment(waiting, patient, yookassa):
    payment = start_payment(waiting, patient.user)
    # The body says succeeded; YooKassa itself still says pending.
    assert notify("payment.succeeded", payment.provider_payment_id).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    yookassa.settle(payment.provider_payment_id)
    assert notify("payment.succeeded", payment.provider_payment_id).status_code == 200
    fetched = [r for r in yookassa.requests if r["method"] == "GET"]
    assert fetched[-1]["path"] == f"/v3/payments/{payment.provider_payment_id}"
    payment.refresh_from_db()
    waiting.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert waiting.status == AppointmentStatus.CONFIRMED


def test_a_webhook_from_outside_yookassas_addresses_is_refused_unread(
    waiting, patient, yookassa, settings
):
    payment = start_payment(waiting, patient.user)
    yookassa.settle(payment.provider_payment_id)
    settings.YOOKASSA_WEBHOOK_NETWORKS = ["185.71.76.0/27"]
    assert notify("payment.succeeded", payment.provider_payment_id).status_code == 400
    assert not [r for r in yookassa.requests if r["method"] == "GET"]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_a_webhook_naming_a_payment_we_never_made_is_refused(waiting, patient, yookassa):
    start_payment(waiting, patient.user)
    assert notify("payment.succeeded", "2dffffff-000f-5000-9000-1b68e7b15f3f").status_code == 400


def test_a_cancelled_paid_visit_is_refunded_at_yookassa_with_its_key(
    waiting, patient, yookassa, django_capture_on_commit_callbacks
):
    payment = start_payment(waiting, patient.user)
    yookassa.settle(payment.provider_payment_id)
    notify("payment.succeeded", payment.provider_payment_id)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=waiting, actor=patient.user)
    refund = Refund.objects.get()
    (sent,) = posts(yookassa, "/v3/refunds")
    assert sent["headers"]["Idempotence-Key"] == str(refund.idempotence_key)
    assert sent["body"]["payment_id"] == payment.provider_payment_id
    assert sent["body"]["amount"] == {"value": f"{payment.amount:.2f}", "currency": "RUB"}
    assert sent["body"]["receipt"]["items"][0]["payment_mode"] == "full_prepayment"
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.provider_refund_id in yookassa.refunds
    # YooKassa's refund.succeeded notification, replayed, changes nothing.
    assert notify("refund.succeeded", refund.provider_refund_id).status_code == 200
    assert Refund.objects.get().refunded_at == refund.refunded_at


def test_a_refund_waits_while_yookassa_is_down_and_goes_with_the_same_key(
    waiting, patient, yookassa, django_capture_on_commit_callbacks
):
    payment = start_payment(waiting, patient.user)
    yookassa.settle(payment.provider_payment_id)
    notify("payment.succeeded", payment.provider_payment_id)
    yookassa.down = True
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=waiting, actor=patient.user)
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.PENDING
    yookassa.down = False
    assert refunds_retry_pending() == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    keys = {r["headers"]["Idempotence-Key"] for r in posts(yookassa, "/v3/refunds")}
    assert keys == {str(refund.idempotence_key)}


def test_wrong_credentials_or_no_answer_make_no_payment_link(waiting, patient, yookassa, settings):
    settings.YOOKASSA_SECRET_KEY = "wrong"
    with pytest.raises(PaymentUnavailable):
        start_payment(waiting, patient.user)
    payment = Payment.objects.get()
    assert payment.confirmation_url == "" and payment.provider_payment_id == ""
    settings.YOOKASSA_API_URL = "http://127.0.0.1:9/v3"  # nothing listens there
    with pytest.raises(PaymentUnavailable):
        start_payment(waiting, patient.user)
    settings.YOOKASSA_API_URL = yookassa.url
    settings.YOOKASSA_SECRET_KEY = "test_secret-key"
    again = start_payment(waiting, patient.user)
    assert again.pk == payment.pk and again.confirmation_url
    # Every attempt carried the one key of the one payment.
    keys = {r["headers"]["Idempotence-Key"] for r in posts(yookassa, "/v3/payments")}
    assert keys == {str(payment.idempotence_key)}


def test_malformed_answers_and_ids_are_provider_errors(yookassa):
    provider = get_provider("yookassa")
    with pytest.raises(ProviderError):
        provider.fetch_payment("../refunds")
    with pytest.raises(ProviderError):
        provider.fetch_payment("2d000000-000f-5000-9000-1b68e7b15f3f")  # 404 there
