"""Documents: a visit's summary and certificate once the patient came, invoices to an
organisation; PDFs for the owner only, each download audited."""

import datetime

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from scheduling.errors import InvalidInput, InvalidTransition, NotAllowed
from scheduling.models import OrganisationInvoice
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
)
from scheduling.services.documents import invoice_create, visit_summary_write

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)
GOOD_INN = "7707083893"  # a valid 10-digit INN (check digit 3)
GOOD_INN_12 = "500100732259"


@pytest.fixture
def visit(clock, doctor, service, patient):
    slot = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)[0]
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="online",
        actor=patient.user,
    )


@pytest.fixture
def attended(visit, clock, registrar_a, doctor_a):
    clock.advance(days=1, hours=1)  # the visit's day and hour
    appointment_check_in(appointment=visit, actor=registrar_a)
    appointment_complete(appointment=visit, actor=registrar_a)
    visit.refresh_from_db()
    return visit


def doc_url(appointment, kind):
    return reverse("scheduling:visit_document", args=[appointment.public_id, kind])


def test_the_owner_downloads_the_summary_and_certificate_and_each_is_audited(
    as_user, attended, patient, registrar_a
):
    visit_summary_write(
        appointment=attended, text="Рекомендован отдых.", actor=registrar_a, visible_to_patient=True
    )
    client = as_user(patient.user)
    page = client.get(reverse("scheduling:documents"))
    assert page.status_code == 200 and doc_url(attended, "summary") in page.content.decode()
    for kind in ("summary", "certificate"):
        answer = client.get(doc_url(attended, kind))
        assert answer.status_code == 200
        assert answer["Content-Type"] == "application/pdf"
        assert answer.content.startswith(b"%PDF")
    exports = AuditEvent.objects.filter(object_type="scheduling.document", action="export")
    assert exports.count() == 2
    assert all(str(patient.public_id) in event.patient_ids for event in exports)


def test_no_documents_before_the_visit_and_none_of_unknown_kinds(as_user, visit, patient):
    client = as_user(patient.user)
    assert client.get(doc_url(visit, "certificate")).status_code == 404
    assert client.get(doc_url(visit, "diagnosis")).status_code == 404


def test_another_patient_staff_and_anonymous_get_nothing(
    client, as_user, attended, other_patient, registrar_a
):
    for person in (as_user(other_patient.user), as_user(registrar_a)):
        assert person.get(doc_url(attended, "certificate")).status_code == 404
    assert client.get(doc_url(attended, "certificate"))["Location"].startswith("/accounts/login/")
    assert not AuditEvent.objects.filter(object_type="scheduling.document").exists()


def test_an_invoice_for_an_employer_is_numbered_and_downloadable(as_user, visit, patient):
    client = as_user(patient.user)
    url = reverse("scheduling:invoice_new", args=[visit.public_id])
    assert client.get(url).status_code == 200
    bad = client.post(
        url,
        {
            "organisation_name": "ООО Ромашка",
            "organisation_inn": "1234567890",
            "organisation_address": "Иркутск",
        },
    )
    assert bad.status_code == 200 and not OrganisationInvoice.objects.exists()
    answer = client.post(
        url,
        {
            "organisation_name": "ООО Ромашка",
            "organisation_inn": GOOD_INN,
            "organisation_address": "Иркутск, ул. Ленина, 1",
        },
    )
    assert answer["Location"] == reverse("scheduling:documents")
    invoice = OrganisationInvoice.objects.get()
    assert (invoice.number, invoice.amount) == (1, visit.price)
    pdf = client.get(reverse("scheduling:invoice_pdf", args=[invoice.public_id]))
    assert pdf.content.startswith(b"%PDF")


def test_invoices_are_refused_for_strangers_cancelled_visits_and_bad_details(
    as_user, visit, patient, other_patient
):
    assert (
        as_user(other_patient.user)
        .get(reverse("scheduling:invoice_new", args=[visit.public_id]))
        .status_code
        == 404
    )
    first = invoice_create(
        appointment=visit,
        organisation_name="ИП Петров",
        organisation_inn=GOOD_INN_12,
        organisation_address="Москва",
        actor=patient.user,
    )
    second = invoice_create(
        appointment=visit,
        organisation_name="ООО Ромашка",
        organisation_inn=GOOD_INN,
        organisation_kpp="770701001",
        organisation_address="Москва",
        actor=patient.user,
    )
    assert (first.number, second.number) == (1, 2)
    for details in (
        {"organisation_inn": "123"},
        {"organisation_kpp": "12"},
        {"organisation_name": " "},
    ):
        kwargs = {
            "organisation_name": "ООО",
            "organisation_inn": GOOD_INN,
            "organisation_address": "Москва",
            **details,
        }
        with pytest.raises(InvalidInput):
            invoice_create(appointment=visit, actor=patient.user, **kwargs)
    with pytest.raises(NotAllowed):
        invoice_create(
            appointment=visit,
            organisation_name="ООО",
            organisation_inn=GOOD_INN,
            organisation_address="Москва",
            actor=other_patient.user,
        )
    appointment_cancel(appointment=visit, actor=patient.user)
    visit.refresh_from_db()
    with pytest.raises(InvalidTransition):
        invoice_create(
            appointment=visit,
            organisation_name="ООО",
            organisation_inn=GOOD_INN,
            organisation_address="Москва",
            actor=patient.user,
        )


def test_only_staff_write_a_summary_and_only_for_an_attended_visit(
    visit, patient, registrar_a, registrar_b
):
    with pytest.raises(NotAllowed):
        visit_summary_write(appointment=visit, text="x", actor=patient.user)
    with pytest.raises(NotAllowed):
        visit_summary_write(appointment=visit, text="x", actor=registrar_b)
    with pytest.raises(InvalidTransition):
        visit_summary_write(appointment=visit, text="x", actor=registrar_a)


def test_a_summary_is_rewritten_not_duplicated_and_must_have_text(attended, registrar_a):
    visit_summary_write(appointment=attended, text="Первый", actor=registrar_a)
    again = visit_summary_write(appointment=attended, text="Второй", actor=registrar_a)
    assert again.text == "Второй"
    with pytest.raises(InvalidInput):
        visit_summary_write(appointment=attended, text="   ", actor=registrar_a)
