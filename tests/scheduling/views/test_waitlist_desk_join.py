"""The registrar puts a patient on the waiting list from the desk (the patient card)."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from scheduling.models import WaitlistEntry
from tests.factories import DoctorFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def page(patient):
    return reverse("scheduling:desk_waitlist_join", args=[patient.public_id])


def form(clinic, service, doctor=None, days=(1, 10)):
    today = timezone.localdate()
    return {
        "clinic": str(clinic.public_id),
        "service": str(service.public_id),
        "doctor": str(doctor.public_id) if doctor else "",
        "date_from": (today + datetime.timedelta(days=days[0])).isoformat(),
        "date_to": (today + datetime.timedelta(days=days[1])).isoformat(),
    }


@pytest.mark.parametrize("persona", ["registrar_a", "head_nurse_a", "clinic_admin_a"])
def test_the_clinics_staff_put_a_patient_on_the_list_audited(
    request, as_user, clock, persona, patient, clinic_a, doctor, service
):
    client = as_user(request.getfixturevalue(persona))
    shown = client.get(page(patient))
    assert shown.status_code == 200 and service.name in shown.content.decode()
    answer = client.post(page(patient), form(clinic_a, service, doctor))
    assert answer.status_code == 302 and str(clinic_a.public_id) in answer["Location"]
    entry = WaitlistEntry.objects.get(patient=patient)
    assert (entry.clinic, entry.service, entry.doctor) == (clinic_a, service, doctor)
    audit = AuditEvent.objects.get(object_type="scheduling.waitlist_entry")
    assert audit.object_id == str(entry.public_id) and audit.action == "create"


def test_the_card_links_to_the_form(as_user, registrar_a, patient):
    card = as_user(registrar_a).get(reverse("portal:patient_card", args=[patient.public_id]))
    assert page(patient) in card.content.decode()


@pytest.mark.parametrize("persona", ["doctor_a", "director", "marketer"])
def test_other_roles_are_refused(request, as_user, persona, patient, clinic_a, service):
    client = as_user(request.getfixturevalue(persona))
    assert client.get(page(patient)).status_code == 403
    assert client.post(page(patient), form(clinic_a, service)).status_code == 403
    assert not WaitlistEntry.objects.exists()


def test_patients_are_refused_and_anonymous_sent_to_sign_in(
    as_user, patient, dependant, clinic_a, service
):
    client = as_user(patient.user)
    assert client.post(page(dependant), form(clinic_a, service)).status_code == 403
    assert Client().get(page(patient)).status_code == 302
    assert not WaitlistEntry.objects.exists()


def test_another_clinic_is_not_offered_and_is_refused(
    as_user, clock, registrar_b, patient, clinic_a, service
):
    client = as_user(registrar_b)
    assert str(clinic_a.public_id) not in client.get(page(patient)).content.decode()
    assert client.post(page(patient), form(clinic_a, service)).status_code == 200
    assert not WaitlistEntry.objects.exists()


def test_an_unknown_patient_is_404(as_user, registrar_a, clinic_a, service):
    url = reverse("scheduling:desk_waitlist_join", args=["00000000-0000-0000-0000-000000000000"])
    assert as_user(registrar_a).post(url, form(clinic_a, service)).status_code == 404


def test_a_doctor_of_another_clinic_and_bad_dates_change_nothing(
    as_user, clock, registrar_a, patient, clinic_a, clinic_b, service
):
    elsewhere = DoctorFactory(services=[service], clinics=[clinic_b])
    client = as_user(registrar_a)
    refused = client.post(page(patient), form(clinic_a, service, elsewhere))
    assert refused.status_code == 200
    backwards = client.post(page(patient), form(clinic_a, service, days=(5, 2)), follow=True)
    assert backwards.status_code == 200
    too_long = client.post(page(patient), form(clinic_a, service, days=(1, 400)), follow=True)
    assert too_long.status_code == 200
    assert not WaitlistEntry.objects.exists()


def test_staff_put_a_patient_on_the_list_of_a_specialty_in_their_city(
    as_user, clock, registrar_a, patient, clinic_a, doctor, service
):
    client = as_user(registrar_a)
    data = form(clinic_a, service) | {
        "clinic": "city:" + clinic_a.city,
        "service": "",
        "specialty": str(service.specialty.public_id),
    }
    assert client.post(page(patient), data).status_code == 302
    entry = WaitlistEntry.objects.get()
    assert (entry.clinic, entry.city, entry.specialty) == (None, clinic_a.city, service.specialty)
    both = data | {"service": str(service.public_id)}
    assert client.post(page(patient), both).status_code == 200
    assert client.post(page(patient), data | {"clinic": "city:Москва"}).status_code == 200
    assert WaitlistEntry.objects.count() == 1


def test_the_form_lists_only_what_the_registrars_clinics_do(
    as_user, clock, registrar_a, patient, clinic_a, clinic_b, doctor, service
):
    elsewhere = ServiceFactory(name="Только в Москве")
    DoctorFactory(services=[elsewhere], clinics=[clinic_b])
    body = as_user(registrar_a).get(page(patient)).content.decode()
    assert service.name in body and str(service.specialty.public_id) in body
    assert elsewhere.name not in body and str(elsewhere.specialty.public_id) not in body
    refused = as_user(registrar_a).post(page(patient), form(clinic_a, elsewhere))
    assert refused.status_code == 200
    assert not WaitlistEntry.objects.exists()
