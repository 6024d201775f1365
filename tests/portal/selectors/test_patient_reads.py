import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from portal.choices import AuditAction, Role
from portal.models import AuditEvent
from portal.selectors.patients import (
    parse_quick_query,
    patient_card,
    patient_duplicates_for_staff,
    patient_search,
    staff_patient_card,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def petrov(db):
    return PatientFactory(
        last_name="Петров",
        first_name="Пётр",
        birth_date=datetime.date(1980, 1, 2),
        phone="+79145551234",
        email="petrov@example.test",
    )


@pytest.mark.parametrize(
    "criteria",
    [
        {"phone": "8 914 555-12-34"},
        {"email": "PETROV@example.test"},
        {"q": "1234 петров"},
        {"q": "Петров 1234"},
        {"name": "петров петр", "birth_date": datetime.date(1980, 1, 2)},
    ],
)
def test_every_search_writes_one_event_naming_the_patients_returned(
    registrar_a, clinic_a, petrov, criteria
):
    found = patient_search(user=registrar_a, **criteria)
    assert found == [petrov]
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.SEARCH
    assert event.patient_ids == [str(petrov.public_id)]
    assert (event.actor_id, event.role, event.clinic_id) == (
        registrar_a.pk,
        Role.REGISTRAR,
        clinic_a.pk,
    )
    # The kind of index used is recorded, never the searched value.
    assert event.changed_fields[0].endswith("_bidx")
    assert "1234" not in event.canonical().decode()


def test_a_search_with_no_result_is_audited_too(registrar_a, petrov):
    assert patient_search(user=registrar_a, phone="+79145550000") == []
    assert AuditEvent.objects.get().patient_ids == []


def test_a_malformed_search_is_refused_and_not_audited(registrar_a):
    with pytest.raises(ValidationError) as excinfo:
        patient_search(user=registrar_a, phone="12")
    assert "phone" in excinfo.value.message_dict
    assert not AuditEvent.objects.exists()


def test_roles_without_search_cannot_search(marketer, director, patient):
    for user in (marketer, director, patient.user):
        with pytest.raises(PermissionDenied):
            patient_search(user=user, phone="+79145551234")
    assert not AuditEvent.objects.exists()


def test_the_quick_query_takes_the_surname_first():
    assert parse_quick_query("1234 Иванов Иван") == ("1234", "Иванов")
    assert parse_quick_query("Иванов Иван 1234") == ("1234", "Иванов")


def test_a_staff_card_view_is_audited(doctor_a, clinic_a, petrov):
    assert patient_card(user=doctor_a, public_id=petrov.public_id) == petrov
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.VIEW
    assert event.object_id == str(petrov.public_id)
    assert (event.role, event.clinic_id) == (Role.DOCTOR, clinic_a.pk)


def test_a_patient_viewing_themselves_or_their_child_is_not_audited(patient, dependant):
    patient_card(user=patient.user, public_id=patient.public_id)
    patient_card(user=patient.user, public_id=dependant.public_id)
    assert not AuditEvent.objects.exists()


def test_a_patient_cannot_open_someone_elses_card(patient, other_patient):
    with pytest.raises(Http404):
        patient_card(user=patient.user, public_id=other_patient.public_id)
    assert not AuditEvent.objects.exists()


def test_the_staff_card_loads_family_consents_and_audit_for_network_admins(
    network_admin, registrar_a, patient, dependant
):
    card = staff_patient_card(user=registrar_a, public_id=patient.public_id)
    assert [link.dependant for link in card.dependant_links] == [dependant]
    assert card.recent_audit == []  # registrars do not read the audit trail
    assert card.can_edit
    card = staff_patient_card(user=network_admin, public_id=patient.public_id)
    assert [row.event.action for row in card.recent_audit] == [AuditAction.VIEW] * 2
    assert {line.purpose for line in card.consents} >= {"personal_data", "advertising"}


def test_the_staff_card_refuses_patients_and_roles_without_access(patient, other_patient, marketer):
    with pytest.raises(PermissionDenied):
        staff_patient_card(user=patient.user, public_id=patient.public_id)
    with pytest.raises(Http404):
        staff_patient_card(user=patient.user, public_id=other_patient.public_id)
    with pytest.raises(PermissionDenied):
        staff_patient_card(user=marketer, public_id=patient.public_id)
    assert not AuditEvent.objects.exists()


def test_showing_possible_duplicates_is_audited_when_there_are_any(registrar_a, petrov):
    assert patient_duplicates_for_staff(user=registrar_a, phone="+79145550000") == []
    assert not AuditEvent.objects.exists()
    found = patient_duplicates_for_staff(user=registrar_a, phone="+79145551234")
    assert found == [petrov]
    event = AuditEvent.objects.get()
    assert (event.action, event.patient_ids) == (AuditAction.SEARCH, [str(petrov.public_id)])
