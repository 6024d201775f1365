import pytest
from django.core.exceptions import PermissionDenied

from portal.choices import AuditAction
from portal.selectors.audit import audit_describe, audit_events
from portal.selectors.patients import patient_card, patient_search

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(registrar_a, doctor_a, patient, other_patient):
    patient_card(user=registrar_a, public_id=patient.public_id)
    patient_card(user=doctor_a, public_id=other_patient.public_id)
    patient_search(user=registrar_a, phone=patient.phone)


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
    mine = audit_events(user=network_admin, patient_public_id=patient.public_id)
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
