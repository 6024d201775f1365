import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from portal.choices import AuditAction, Role
from portal.models import AuditEvent, Patient
from portal.request_context import RequestContext, reset_current, set_current
from portal.services.patients import patient_create, patient_update

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    # Messages are compared in English (msgids); Russian is the default language.
    with translation.override("en"):
        yield


VALID = {
    "last_name": "Петрова",
    "first_name": "Ольга",
    "birth_date": "1990-05-17",
    "phone": "8 (914) 555-12-34",
    "email": "Olga@Example.TEST",
}


def test_creating_a_profile_audits_field_names_without_values(registrar_a, clinic_a):
    token = set_current(RequestContext(ip_address="10.0.0.7", user_agent="DeskPC", request_id="r1"))
    try:
        patient = patient_create(actor=registrar_a, **VALID)
    finally:
        reset_current(token)
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.CREATE
    assert event.object_id == str(patient.public_id)
    assert event.patient_ids == [str(patient.public_id)]
    assert event.changed_fields == sorted(VALID)
    assert (event.actor_id, event.role, event.clinic_id) == (
        registrar_a.pk,
        Role.REGISTRAR,
        clinic_a.pk,
    )
    assert (event.ip_address, event.user_agent, event.request_id) == ("10.0.0.7", "DeskPC", "r1")
    assert event.occurred_at <= timezone.now()
    canonical = event.canonical().decode()
    for value in ("Петрова", "Ольга", "1990-05-17", "+79145551234", "olga@example.test"):
        assert value not in canonical


def test_updating_audits_only_the_fields_that_really_changed(registrar_a):
    patient = patient_create(actor=registrar_a, **VALID)
    patient_update(
        actor=registrar_a,
        patient=patient,
        last_name="Петрова",  # unchanged
        phone="+7 914 555 99 00",
        notes="Прививка от гриппа",
    )
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE).get()
    assert event.changed_fields == ["notes", "phone"]
    assert "Прививка" not in event.canonical().decode()


def test_an_update_that_changes_nothing_writes_no_event(registrar_a):
    patient = patient_create(actor=registrar_a, **VALID)
    patient_update(actor=registrar_a, patient=patient, email="olga@example.test")
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()


BAD_VALUES = [
    ("phone", "12345", "valid phone"),
    ("phone", "+7 914 555 12 34 56 78 90 12 34 56 78 90 12", "too long"),
    ("phone", 79145551234, "Enter text"),
    ("email", "olga@", "valid email"),
    ("email", "a" * 250 + "@example.test", "too long"),
    ("birth_date", "17.05.1990", "YYYY-MM-DD"),
    ("birth_date", "1990-02-30", "YYYY-MM-DD"),
    ("birth_date", "2999-01-01", "future"),
    ("birth_date", "1850-01-01", "year of birth"),
    ("birth_date", 19900517, "YYYY-MM-DD"),
    ("last_name", "Я" * 101, "at most 100"),
    ("first_name", "", "required"),
    ("middle_name", "Ж" * 101, "at most 100"),
    ("address", "д" * 501, "at most 500"),
    ("notes", "n" * 2001, "at most 2000"),
    ("id_document_number", "1" * 41, "at most 40"),
    ("dms_policy", "1" * 41, "at most 40"),
    ("dms_insurer", "И" * 121, "at most 120"),
    ("snils", "112-233-445 96", "check number"),
    ("snils", "12345", "11 digits"),
    ("oms_policy", "123", "16 digits"),
    ("sex", "robot", "listed values"),
    ("id_document_type", "library_card", "listed values"),
    ("preferred_language", "klingon", "listed values"),
    ("home_clinic", "moscow", "listed values"),
    ("last_name", "Пет\x00рова", "control characters"),
    ("dms_insurer", "Ингос\nстрах", "control characters"),
    ("favourite_colour", "blue", "Unknown field"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_VALUES)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_saved(
    registrar_a, field, value, message
):
    with pytest.raises(ValidationError) as excinfo:
        patient_create(actor=registrar_a, **{**VALID, field: value})
    errors = excinfo.value.message_dict
    assert field in errors
    assert message.lower() in " ".join(errors[field]).lower()
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), BAD_VALUES)
def test_bad_input_changes_nothing_on_update(registrar_a, field, value, message):
    patient = patient_create(actor=registrar_a, **VALID)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        patient_update(actor=registrar_a, patient=patient, **{field: value})
    fresh = Patient.objects.get(pk=patient.pk)
    assert (fresh.last_name, fresh.phone, fresh.email) == (
        "Петрова",
        "+79145551234",
        "olga@example.test",
    )
    assert fresh.birth_date == datetime.date(1990, 5, 17)
    assert AuditEvent.objects.count() == before


def test_every_bad_field_is_named_at_once(registrar_a):
    with pytest.raises(ValidationError) as excinfo:
        patient_create(
            actor=registrar_a, last_name="", first_name="Ольга", phone="1", email="x", snils="1"
        )
    assert set(excinfo.value.message_dict) == {"last_name", "phone", "email", "snils"}


def test_a_datetime_birth_date_is_taken_as_its_date(registrar_a):
    patient = patient_create(
        actor=registrar_a,
        last_name="Петрова",
        first_name="Ольга",
        birth_date=datetime.datetime(1990, 5, 17, 12, 0, tzinfo=datetime.UTC),
    )
    assert Patient.objects.get(pk=patient.pk).birth_date == datetime.date(1990, 5, 17)


def test_home_clinic_may_be_given_by_primary_key(registrar_a, clinic_a):
    patient = patient_create(actor=registrar_a, home_clinic=clinic_a.pk, **VALID)
    assert patient.home_clinic == clinic_a
