"""The patient pays for a prepaid visit in the portal: "Pay now" on the visit, the test
provider's page, back on the return page, the visit paid with its receipt PDF. Other
patients, staff and anonymous visitors get nothing."""

import subprocess

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from scheduling.choices import AppointmentStatus, PaymentStatus
from scheduling.models import Payment, TestGatewayPayment
from scheduling.payments.test_gateway import deliver_webhook, post_signed
from tests.scheduling.conftest import local
from tests.scheduling.payments.helpers import book_online

pytestmark = pytest.mark.django_db
S = AppointmentStatus


@pytest.fixture
def as_user(as_user, settings):
    """Clients reading the pages in English (the default language is Russian)."""

    def make(user):
        client = as_user(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return make


@pytest.fixture
def waiting(clock, clinic_a, doctor, prepaid, patient):
    return book_online(patient, doctor, prepaid, local(clinic_a, 2027, 3, 2, 9))


def visit_url(appointment, name="visit"):
    return reverse(f"scheduling:{name}", args=[appointment.public_id])


def pay_through_the_test_provider(client, appointment, action="pay"):
    """Pay now → the provider's page → its button → back on our return page."""
    to_provider = client.post(visit_url(appointment, "pay"))
    assert to_provider.status_code == 302
    gateway = to_provider["Location"]
    assert gateway.startswith("/payments/test-gateway/")
    page = client.get(gateway)
    assert page.status_code == 200
    back = client.post(gateway, {"action": action})
    assert back.status_code == 302
    assert back["Location"] == f"http://testserver{visit_url(appointment, 'payment_return')}"
    return client.get(back["Location"], follow=True)


def test_the_visit_and_my_visits_offer_to_pay_with_the_time_left(as_user, waiting, patient):
    client = as_user(patient.user)
    page = client.get(visit_url(waiting)).content.decode()
    assert "Pay now" in page and "Awaiting payment" in page
    assert 'data-countdown="900"' in page  # 15 minutes, counted down in the browser
    listing = client.get(reverse("scheduling:visits")).content.decode()
    assert visit_url(waiting, "pay") in listing
    assert "held for 15 more minutes" in listing


def test_paying_with_the_test_provider_confirms_the_visit(as_user, waiting, patient):
    client = as_user(patient.user)
    shown = pay_through_the_test_provider(client, waiting)
    body = shown.content.decode()
    assert "the visit is paid and confirmed" in body
    assert "Pay now" not in body
    assert visit_url(waiting).rstrip("/") in shown.redirect_chain[-1][0]
    waiting.refresh_from_db()
    assert waiting.status == S.CONFIRMED
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.provider_payment_id in body  # the payment number on the visit
    assert reverse("scheduling:visit_document", args=[waiting.public_id, "receipt"]) in body


def test_a_failed_payment_leaves_the_visit_waiting(as_user, waiting, patient):
    client = as_user(patient.user)
    shown = pay_through_the_test_provider(client, waiting, action="fail")
    assert "has not gone through yet" in shown.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == S.BOOKED
    assert Payment.objects.get().status == PaymentStatus.CANCELED


def test_a_double_click_on_pay_goes_to_one_payment_page(as_user, waiting, patient):
    client = as_user(patient.user)
    first = client.post(visit_url(waiting, "pay"))
    second = client.post(visit_url(waiting, "pay"))
    assert first["Location"] == second["Location"]
    assert TestGatewayPayment.objects.count() == 1


def test_the_receipt_pdf_is_the_owners_audited_and_says_the_amount(as_user, waiting, patient):
    patient.preferred_language = "en"
    patient.save(update_fields=["preferred_language"])
    client = as_user(patient.user)
    receipt = reverse("scheduling:visit_document", args=[waiting.public_id, "receipt"])
    assert client.get(receipt).status_code == 404  # not paid yet
    pay_through_the_test_provider(client, waiting)
    answer = client.get(receipt)
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    text = subprocess.run(  # noqa: S603
        ["/usr/bin/pdftotext", "-", "-"], input=answer.content, capture_output=True, check=True
    ).stdout.decode()
    payment = Payment.objects.get()
    assert "Payment receipt" in text
    assert "2,500" in text and payment.provider_payment_id in text
    assert waiting.clinic.legal_entity.inn in text
    audit = AuditEvent.objects.get(object_type="scheduling.document", action="export")
    assert audit.object_id == f"{waiting.public_id}:receipt"
    documents = client.get(reverse("scheduling:documents")).content.decode()
    assert receipt in documents


def test_the_receipt_is_in_the_patients_language(as_user, waiting, patient):
    patient.preferred_language = "ru"
    patient.save(update_fields=["preferred_language"])
    client = as_user(patient.user)
    pay_through_the_test_provider(client, waiting)
    answer = client.get(reverse("scheduling:visit_document", args=[waiting.public_id, "receipt"]))
    text = subprocess.run(  # noqa: S603
        ["/usr/bin/pdftotext", "-", "-"], input=answer.content, capture_output=True, check=True
    ).stdout.decode()
    assert "Квитанция об оплате" in text and "Полная предоплата онлайн" in text
    assert "2 500 ₽" in text.replace("\xa0", " ").replace("\u202f", " ")


def test_another_patient_staff_and_anonymous_cannot_pay_or_see_it(
    client, as_user, waiting, other_patient, registrar_a
):
    for person in (as_user(other_patient.user), as_user(registrar_a)):
        assert person.get(visit_url(waiting)).status_code == 404
        assert person.post(visit_url(waiting, "pay")).status_code == 404
        assert person.get(visit_url(waiting, "payment_return")).status_code == 404
    assert client.post(visit_url(waiting, "pay"))["Location"].startswith("/accounts/login/")
    assert not Payment.objects.exists()


def test_paying_a_visit_that_does_not_wait_says_so(
    as_user, clock, clinic_a, doctor, service, patient
):
    plain = book_online(patient, doctor, service, local(clinic_a, 2027, 3, 2, 9))
    client = as_user(patient.user)
    shown = client.post(visit_url(plain, "pay"), follow=True)
    assert "does not wait for a payment" in shown.content.decode()


def test_an_unpaid_visit_is_released_when_the_patient_looks_after_its_time(
    as_user, clock, waiting, patient, settings
):
    client = as_user(patient.user)
    clock.advance(minutes=settings.PAYMENT_HOLD_MINUTES + 1)
    page = client.get(visit_url(waiting)).content.decode()
    waiting.refresh_from_db()
    assert waiting.status == S.CANCELLED
    assert "Not paid in time" in page and "Pay now" not in page


def test_the_test_providers_page_exists_only_with_the_test_provider(
    as_user, waiting, patient, settings
):
    client = as_user(patient.user)
    gateway = client.post(visit_url(waiting, "pay"))["Location"]
    assert (
        client.get("/payments/test-gateway/00000000-0000-4000-8000-000000000000/").status_code
        == 404
    )
    settings.PAYMENT_PROVIDER = "yookassa"
    assert client.get(gateway).status_code == 404


def test_the_confirmation_page_says_the_service_is_prepaid(
    as_user, clock, clinic_a, doctor, prepaid, patient
):
    from scheduling.selectors.availability import free_slots

    client = as_user(patient.user)
    day = local(clinic_a, 2027, 3, 2, 9).date()
    slot = free_slots(service=prepaid, doctor=doctor, start_date=day, end_date=day)[0]
    confirm = client.post(reverse("scheduling:hold"), {"slot": slot.slot_id})
    page = client.get(confirm["Location"]).content.decode()
    assert "prepaid online" in page and "15 minutes to pay" in page
    booked = client.post(confirm["Location"], {"patient": str(patient.public_id)}, follow=True)
    assert "waiting for payment: pay for the visit below" in booked.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_test_provider_posts_its_signed_webhook_over_http(
    live_server, clock, clinic_a, doctor, prepaid, patient
):
    from tests.scheduling.payments.helpers import start_payment

    appointment = book_online(patient, doctor, prepaid, local(clinic_a, 2027, 3, 2, 9))
    payment = start_payment(appointment, patient.user)
    url = live_server.url + reverse("scheduling:payment_webhook", args=["test"])
    remote = TestGatewayPayment.objects.get(public_id=payment.provider_payment_id)
    remote.status, remote.notify_url = "succeeded", url
    remote.save(update_fields=["status", "notify_url"])
    assert deliver_webhook(gateway_payment_id=remote.pk)
    appointment.refresh_from_db()
    assert appointment.status == S.CONFIRMED
    assert not post_signed(url, b"not json")  # signed but malformed: refused (400)


def test_a_payment_too_late_is_refunded_and_the_patient_told(
    as_user, clock, waiting, patient, settings, django_capture_on_commit_callbacks
):
    client = as_user(patient.user)
    gateway = client.post(visit_url(waiting, "pay"))["Location"]
    clock.advance(minutes=settings.PAYMENT_HOLD_MINUTES + 1)
    client.get(reverse("scheduling:visits"))  # released on sight
    with django_capture_on_commit_callbacks(execute=True):
        back = client.post(gateway, {"action": "pay"})
        shown = client.get(back["Location"], follow=True).content.decode()
    assert "it is being refunded" in shown and "Refund pending" in shown
    waiting.refresh_from_db()
    assert waiting.status == S.CANCELLED
    # The provider took the refund once the request's transaction committed.
    assert Payment.objects.get().refund.status == "succeeded"
    assert "Refunded" in client.get(visit_url(waiting)).content.decode()


def test_without_a_provider_a_waiting_visit_says_payments_are_unavailable(
    as_user, waiting, patient, settings
):
    settings.PAYMENT_PROVIDER = "none"
    client = as_user(patient.user)
    shown = client.post(visit_url(waiting, "pay"), follow=True).content.decode()
    assert "payment service is not answering" in shown
    assert not Payment.objects.exists()
    webhook = client.post("/payments/webhook/test/", data=b"{}", content_type="application/json")
    assert webhook.status_code == 404


def test_a_visit_the_patient_cancels_before_paying_is_cancelled_not_unpaid_in_time(
    as_user, clock, clinic_a, doctor, prepaid, patient
):
    clock.advance(hours=2)  # 23 hours before the visit: booked inside the free-cancel window
    visit = book_online(patient, doctor, prepaid, local(clinic_a, 2027, 3, 2, 9))
    client = as_user(patient.user)
    before = client.get(visit_url(visit)).content.decode()
    assert "Add to calendar" in before
    assert "cancelling it is free and not counted as late" in before
    clock.advance(minutes=1)
    client.post(visit_url(visit, "cancel"), {"reason": "Тест"})
    visit.refresh_from_db()
    assert visit.status == S.CANCELLED and visit.late_cancel is False
    page = client.get(visit_url(visit)).content.decode()
    assert "Not paid in time" not in page and "was not paid in time" not in page
    assert "late cancellation" not in page
    assert "Add to calendar" not in page
