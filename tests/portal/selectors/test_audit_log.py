import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation

from portal.choices import AuditAction, Role
from portal.models import AuditEvent
from portal.selectors.audit import (
    audit_describe,
    audit_events,
    audit_log_rows,
    audit_readable_clinics,
    field_label,
    object_type_label,
)
from portal.selectors.patients import patient_card, patient_search
from portal.services.patients import patient_update
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(registrar_a, doctor_a, patient, other_patient):
    patient_card(user=registrar_a, public_id=patient.public_id)
    patient_card(user=doctor_a, public_id=other_patient.public_id)
    patient_search(user=registrar_a, phone=patient.phone)


@pytest.fixture
def petrov_card_edit(registrar_a, patient):
    patient_update(actor=registrar_a, patient=patient, address="Lenina 1")


def test_network_admins_and_directors_read_the_trail_newest_first(trail, network_admin, director):
    for user in (network_admin, director):
        actions = [e.action for e in audit_events(user=user)]
        assert actions == [AuditAction.SEARCH, AuditAction.VIEW, AuditAction.VIEW]


def test_other_roles_cannot_read_the_trail(trail, registrar_a, marketer, patient):
    for user in (registrar_a, marketer, patient.user):
        with pytest.raises(PermissionDenied):
            audit_events(user=user)


def test_it_filters_by_patient_actor_and_action(
    trail, network_admin, registrar_a, doctor_a, patient, other_patient
):
    mine = audit_events(user=network_admin, patient=patient.public_id)
    assert [e.action for e in mine] == [AuditAction.SEARCH, AuditAction.VIEW]
    by_doctor = audit_events(user=network_admin, actor=doctor_a.email.upper())
    assert [e.patient_ids for e in by_doctor] == [[str(other_patient.public_id)]]
    by_id = audit_events(user=network_admin, actor=str(registrar_a.public_id))
    assert by_id.count() == 2
    assert audit_events(user=network_admin, action=AuditAction.SEARCH).count() == 1
    assert audit_events(user=network_admin, actor="nobody@example.test").count() == 0


def test_describing_a_page_names_actors_and_clinics_in_two_queries(
    trail, network_admin, clinic_a, django_assert_num_queries
):
    events = list(audit_events(user=network_admin))
    with django_assert_num_queries(2):
        rows = audit_describe(events)
    assert {row.clinic_label for row in rows} == {clinic_a.name}
    assert {row.actor_label for row in rows} == {
        "registrar-a@example.test",
        "doctor-a@example.test",
    }


def test_a_clinic_director_reads_only_their_clinics_events(
    trail, clinic_a, clinic_b, registrar_b, other_patient
):
    patient_card(user=registrar_b, public_id=other_patient.public_id)
    director_b = make_staff(Role.DIRECTOR, clinic_b)
    assert [e.clinic_id for e in audit_events(user=director_b)] == [clinic_b.pk]
    assert audit_events(user=director_b, clinic=clinic_a).count() == 0
    assert list(audit_readable_clinics(director_b)) == [clinic_b]


def test_it_filters_by_clinic_and_period(trail, network_admin, clinic_a, clinic_b):
    today = timezone.localdate()
    assert audit_events(user=network_admin, clinic=clinic_a).count() == 3
    assert audit_events(user=network_admin, clinic=clinic_b).count() == 0
    assert audit_events(user=network_admin, date_from=today, date_to=today).count() == 3
    tomorrow = today + datetime.timedelta(days=1)
    assert audit_events(user=network_admin, date_from=tomorrow).count() == 0
    assert audit_events(user=network_admin, date_to=today - datetime.timedelta(days=1)).count() == 0


def test_rows_say_what_was_touched_in_words(trail, network_admin, patient, petrov_card_edit):
    rows = audit_describe(list(audit_events(user=network_admin)))
    search = next(r for r in rows if r.event.action == AuditAction.SEARCH)
    edit = next(r for r in rows if r.event.action == AuditAction.UPDATE)
    with translation.override("en"):
        assert (search.object_label, search.fields_label) == ("Patient", "phone")
        assert edit.fields_label == "address"
    with translation.override("ru"):
        assert (search.object_label, search.fields_label) == ("Пациент", "телефон")
        assert edit.fields_label == "адрес"


def test_patients_are_named_only_to_readers_who_may_open_cards(
    trail, network_admin, director, patient
):
    events = list(audit_events(user=network_admin))
    for_admin = audit_log_rows(events, reader=network_admin)
    names = {p.label for row in for_admin for p in row.patients}
    assert patient.full_name in names
    # The names shown are themselves a listing of those patients, audited.
    listing = AuditEvent.objects.order_by("-pk").first()
    assert (listing.action, listing.actor_id) == (AuditAction.LIST, network_admin.pk)
    assert str(patient.public_id) in listing.patient_ids
    before = AuditEvent.objects.count()
    for_director = audit_log_rows(events, reader=director)
    labels = {p.label for row in for_director for p in row.patients}
    assert patient.full_name not in labels
    assert labels == {str(p.public_id)[:8] for row in for_director for p in row.patients}
    assert AuditEvent.objects.count() == before  # nothing named, nothing listed


@translation.override("en")
def test_unknown_object_types_and_fields_are_shown_in_words():
    assert object_type_label("elsewhere.thing") == "thing"
    assert object_type_label("not a label") == "not a label"
    assert object_type_label("scheduling.document") == "document"
    assert field_label(None, "cancel_reason") == "cancel reason"


@pytest.mark.parametrize(
    ("object_type", "label"),
    [
        ("scheduling.freed_slot", "освобождённое время"),
        ("scheduling.waitlist_offer", "предложение из листа ожидания"),
        ("portal.messenger_link", "привязка мессенджера"),
        ("scheduling.appointment", "запись на приём"),
    ],
)
def test_object_types_read_in_russian(object_type, label):
    with translation.override("ru"):
        assert object_type_label(object_type) == label


def test_listed_fields_read_in_russian():
    from portal.models import Patient

    with translation.override("ru"):
        assert field_label(Patient, "callbacks") == "перезвоны"
        assert field_label(Patient, "calls") == "звонки"
