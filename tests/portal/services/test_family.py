import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from portal import permissions
from portal.models import AuditEvent, FamilyLink, Patient
from portal.services.family import (
    AlreadyLinked,
    NotLinked,
    family_add_dependant,
    family_unlink,
    majority_date,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def years_ago(years: int, days: int = 0) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - datetime.timedelta(days=days)


def add_child(guardian, **overrides):
    params = {
        "actor": guardian.user,
        "guardian": guardian,
        "relation": "child",
        "legal_basis": "parent_of_minor",
        "last_name": "Иванова",
        "first_name": "Соня",
        "birth_date": years_ago(5),
        "sex": "female",
    }
    params.update(overrides)
    return family_add_dependant(**params)


def test_a_patient_adds_a_child_with_a_new_profile(patient):
    link = add_child(patient)

    child = link.dependant
    assert child.user is None
    assert child.first_name == "Соня"
    assert link.guardian == patient
    assert link.relation == "child" and link.legal_basis == "parent_of_minor"
    # Parental representation ends the day before the 18th birthday.
    assert link.valid_until == majority_date(child.birth_date) - datetime.timedelta(days=1)
    assert permissions.patients_managed_by(patient.user).filter(pk=child.pk).exists()
    event = AuditEvent.objects.get(object_type="portal.family_link")
    assert event.action == "create"
    assert set(event.patient_ids) == {str(patient.public_id), str(child.public_id)}
    assert "Соня" not in str(event.changed_fields)


def test_majority_date_handles_leap_day_births():
    assert majority_date(datetime.date(2008, 2, 29)) == datetime.date(2026, 3, 1)
    assert majority_date(datetime.date(2010, 5, 4)) == datetime.date(2028, 5, 4)


def test_an_adult_cannot_be_added_as_a_minor(patient):
    before = (Patient.objects.count(), FamilyLink.objects.count())
    with pytest.raises(ValidationError) as exc:
        add_child(patient, birth_date=years_ago(30))
    assert "legal_basis" in exc.value.message_dict
    assert (Patient.objects.count(), FamilyLink.objects.count()) == before


def test_an_adult_under_power_of_attorney_keeps_the_given_end_date(patient):
    until = timezone.localdate() + datetime.timedelta(days=365)
    link = add_child(
        patient,
        relation="parent",
        legal_basis="power_of_attorney",
        basis_document="Доверенность 38 АА 1234567",
        valid_until=until.isoformat(),
        first_name="Пётр",
        birth_date=years_ago(70),
    )
    assert link.valid_until == until
    assert link.basis_document == "Доверенность 38 АА 1234567"


def test_a_blank_end_date_counts_as_none(patient):
    # A string of spaces once reached the date comparison and raised TypeError.
    link = add_child(patient, valid_until="  ")
    assert link.valid_until == majority_date(link.dependant.birth_date) - datetime.timedelta(days=1)


def test_bad_input_names_every_field_and_saves_nothing(patient):
    before = (Patient.objects.count(), FamilyLink.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as exc:
        add_child(
            patient,
            relation="cousin",
            last_name="Я" * 101,
            birth_date=timezone.localdate() + datetime.timedelta(days=3),
            phone="12",
            valid_until="yesterday",
        )
    errors = exc.value.message_dict
    assert {"relation", "last_name", "birth_date", "phone", "valid_until"} <= set(errors)
    assert (
        Patient.objects.count(),
        FamilyLink.objects.count(),
        AuditEvent.objects.count(),
    ) == before


def test_a_future_birth_date_is_named_as_such(patient):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        add_child(patient, birth_date=timezone.localdate() + datetime.timedelta(days=1))
    with translation.override("en"):
        assert exc.value.message_dict["birth_date"] == [
            "The date of birth cannot be in the future."
        ]


def test_an_end_date_in_the_past_is_refused(patient):
    with pytest.raises(ValidationError) as exc:
        add_child(patient, valid_until=timezone.localdate() - datetime.timedelta(days=1))
    assert "valid_until" in exc.value.message_dict


def test_a_patient_cannot_link_an_existing_profile(patient, other_patient):
    with pytest.raises(PermissionDenied):
        family_add_dependant(
            actor=patient.user,
            guardian=patient,
            relation="spouse",
            legal_basis="consent_of_adult",
            dependant=other_patient,
        )
    assert not FamilyLink.objects.filter(dependant=other_patient).exists()


def test_a_registrar_links_an_existing_profile_once(patient, registrar_a):
    grandma = PatientFactory(birth_date=years_ago(80))
    link = family_add_dependant(
        actor=registrar_a,
        guardian=patient,
        relation="parent",
        legal_basis="court_guardianship",
        basis_document="Решение суда № 2-123/2025",
        dependant=grandma,
    )
    assert link.dependant == grandma
    event = AuditEvent.objects.get(object_type="portal.family_link")
    assert event.actor_id == registrar_a.pk and event.role == "registrar"
    with pytest.raises(AlreadyLinked):
        family_add_dependant(
            actor=registrar_a,
            guardian=patient,
            relation="parent",
            legal_basis="court_guardianship",
            dependant=grandma,
        )


def test_nobody_is_their_own_dependant(patient, registrar_a):
    with pytest.raises(ValidationError):
        family_add_dependant(
            actor=registrar_a,
            guardian=patient,
            relation="other",
            legal_basis="consent_of_adult",
            dependant=patient,
        )


def test_the_guardian_unlinks_a_dependant_and_both_profiles_stay(patient, dependant):
    family_unlink(actor=patient.user, guardian=patient, dependant=dependant)

    assert not FamilyLink.objects.filter(guardian=patient).exists()
    assert Patient.objects.filter(pk=dependant.pk).exists()
    assert not permissions.patients_managed_by(patient.user).filter(pk=dependant.pk).exists()
    event = AuditEvent.objects.get(object_type="portal.family_link", action="delete")
    assert set(event.patient_ids) == {str(patient.public_id), str(dependant.public_id)}
    with pytest.raises(NotLinked):
        family_unlink(actor=patient.user, guardian=patient, dependant=dependant)


def test_someone_else_cannot_unlink(patient, dependant, other_patient, doctor_a):
    for outsider in (other_patient.user, doctor_a):
        with pytest.raises(PermissionDenied):
            family_unlink(actor=outsider, guardian=patient, dependant=dependant)
    assert FamilyLink.objects.filter(guardian=patient, dependant=dependant).exists()


def test_a_repeated_add_does_not_create_a_second_profile_for_the_same_child(patient):
    first = add_child(patient)
    links_before, profiles_before = FamilyLink.objects.count(), Patient.objects.count()

    # The same form posted again (a double tap, a browser resend), name typed in another case.
    with pytest.raises(AlreadyLinked):
        add_child(patient, last_name="ИВАНОВА", first_name=" соня ")

    assert FamilyLink.objects.count() == links_before
    assert Patient.objects.count() == profiles_before
    assert first.dependant.first_name == "Соня"


def test_a_twin_with_another_name_is_added(patient):
    sister = add_child(patient)

    twin = add_child(patient, first_name="Аня")

    assert twin.dependant.first_name == "Аня"
    assert twin.dependant.birth_date == sister.dependant.birth_date
    assert twin.dependant != sister.dependant
