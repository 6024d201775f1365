"""Moving a visit booked in a connector clinic's external system, end to end against a live
FHIR server (this Medfront's own `/fhir/R4/` serving clinic B): the patient from "my visits",
the desk, a conflict upstream and an unreachable system (issue #15)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from portal.choices import Role
from scheduling.choices import AppointmentChannel, AppointmentEventKind, AppointmentStatus
from scheduling.models import Appointment, ClinicConnector, ConnectorCall, ExternalBooking
from scheduling.selectors.connector_requests import parse_upstream_value
from scheduling.services.booking import appointment_book
from scheduling.services.connectors import connector_book
from tests.conftest import client_for
from tests.factories import make_staff

from .test_fhir_live import offered

pytestmark = pytest.mark.django_db(transaction=True)
HOUR = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def patient_upstream(request):
    """A busy test machine can take more than the connector's 3 s to serve the live server's
    first FHIR answer: these tests are about moves and answers, not timeouts."""
    if "fhir_connector" in request.fixturenames:
        connector = request.getfixturevalue("fhir_connector")
        connector.timeout_seconds = 30
        connector.save(update_fields=["timeout_seconds"])


@pytest.fixture
def english(settings):
    def client(user):
        signed_in = client_for(user)
        signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return signed_in

    return client


@pytest.fixture
def booked(fhir_connector, connector_clinic, local_doctor, upstream_service, patient):
    """The patient's visit at tomorrow's first upstream time, booked through the connector."""
    found = offered(connector_clinic, upstream_service, local_doctor)
    calls = list(ConnectorCall.objects.values_list("operation", "outcome", "error_class"))
    assert found.slots, f"no upstream times; the connector's calls: {calls}"
    slot = found.slots[0]
    return connector_book(
        patient=patient,
        clinic=connector_clinic,
        doctor=local_doctor,
        service=upstream_service,
        start=slot.start,
        external_id=slot.external_id,
        channel=AppointmentChannel.ONLINE,
        actor=patient.user,
    ).appointment


def shown_values(body: str) -> list[str]:
    return re.findall(r'name="upstream" value="([^"]+)"', body)


def upstream_visits(clinic_b):
    return Appointment.objects.filter(clinic=clinic_b).order_by("starts_at")


def test_the_patient_moves_an_upstream_visit_from_my_visits(
    english, booked, clinic_b, patient, local_doctor
):
    client = english(patient.user)
    page = reverse("scheduling:reschedule", args=[booked.public_id])
    values = shown_values(client.get(page).content.decode())
    assert values, "the week of upstream times is shown"
    chosen = next(v for v in values if parse_upstream_value(v)[1] != booked.starts_at)
    _, start, _ = parse_upstream_value(chosen)
    answer = client.post(page, {"upstream": chosen})
    assert answer.status_code == 302
    booked.refresh_from_db()
    assert booked.starts_at == start and booked.status == AppointmentStatus.BOOKED
    assert booked.reschedule_count == 1
    assert booked.events.filter(kind=AppointmentEventKind.RESCHEDULED).exists()
    old, new = (
        upstream_visits(clinic_b).filter(status=AppointmentStatus.CANCELLED).get(),
        upstream_visits(clinic_b).filter(status=AppointmentStatus.BOOKED).get(),
    )
    assert new.starts_at == start and old.starts_at != start
    assert ExternalBooking.objects.get(appointment=booked).external_id == str(new.public_id)


def test_a_time_taken_upstream_changes_nothing(
    english, booked, clinic_b, upstream_doctor, upstream_service, patient, other_patient
):
    client = english(patient.user)
    page = reverse("scheduling:reschedule", args=[booked.public_id])
    chosen = shown_values(client.get(page).content.decode())[2]
    _, start, _ = parse_upstream_value(chosen)
    appointment_book(
        patient=other_patient,
        doctor=upstream_doctor,
        service=upstream_service,
        start=start,
        channel=AppointmentChannel.ONLINE,
        actor=other_patient.user,
    )
    before = booked.starts_at
    answer = client.post(page, {"upstream": chosen}, follow=True)
    assert "just been taken in the clinic" in answer.content.decode()
    booked.refresh_from_db()
    assert booked.starts_at == before and booked.reschedule_count == 0
    mine = upstream_visits(clinic_b).filter(patient=patient)
    assert [(v.starts_at, v.status) for v in mine] == [(before, AppointmentStatus.BOOKED)]


def test_the_desk_moves_an_upstream_visit(english, booked, clinic_b, connector_clinic):
    desk = make_staff(Role.REGISTRAR, connector_clinic, email="desk-move@example.test")
    client = english(desk)
    day = booked.starts_at.astimezone(connector_clinic.tz).date()
    page = reverse("scheduling:desk_reschedule", args=[booked.public_id])
    body = client.get(f"{page}?date={day}").content.decode()
    assert "clinic&#x27;s own booking system" in body or "clinic's own booking system" in body
    chosen = shown_values(body)[-1]
    _, start, _ = parse_upstream_value(chosen)
    answer = client.post(page, {"upstream": chosen, "reason": "The patient asked"})
    assert answer.status_code == 302
    booked.refresh_from_db()
    assert booked.starts_at == start
    assert upstream_visits(clinic_b).filter(status=AppointmentStatus.BOOKED).get().starts_at == (
        start
    )


def test_an_unreachable_system_leaves_the_visit_where_it_was(
    english, booked, patient, closed_port, clinic_b
):
    client = english(patient.user)
    page = reverse("scheduling:reschedule", args=[booked.public_id])
    chosen = shown_values(client.get(page).content.decode())[1]
    ClinicConnector.objects.update(base_url=closed_port)
    before = booked.starts_at
    answer = client.post(page, {"upstream": chosen}, follow=True)
    assert "the visit was not moved" in answer.content.decode()
    booked.refresh_from_db()
    assert booked.starts_at == before
    assert upstream_visits(clinic_b).filter(status=AppointmentStatus.BOOKED).count() == 1


def test_bad_choices_and_strangers_are_refused(
    english, booked, patient, other_patient, registrar_a, upstream_doctor
):
    client = english(patient.user)
    page = reverse("scheduling:reschedule", args=[booked.public_id])
    before = booked.starts_at
    chosen = shown_values(client.get(page).content.decode())[1]
    _, start, external_id = parse_upstream_value(chosen)
    # Another doctor's id, garbage, and nothing at all: a message, no change.
    for value in (
        f"{upstream_doctor.public_id}|{start.isoformat()}|{external_id}",
        "garbage",
        "",
    ):
        answer = client.post(page, {"upstream": value}, follow=True)
        assert "Choose one of the times shown" in answer.content.decode()
    assert english(other_patient.user).get(page).status_code == 404
    assert english(other_patient.user).post(page, {"upstream": chosen}).status_code == 404
    desk_page = reverse("scheduling:desk_reschedule", args=[booked.public_id])
    assert english(registrar_a).get(desk_page).status_code == 404
    assert english(registrar_a).post(desk_page, {"upstream": chosen}).status_code == 404
    booked.refresh_from_db()
    assert booked.starts_at == before


def test_the_service_refuses_what_cannot_be_moved_upstream(
    booked, connector_clinic, clinic_b, upstream_doctor, upstream_service, other_patient
):
    from django.utils import timezone

    from scheduling.errors import InvalidInput, InvalidTransition
    from scheduling.services.connector_moves import connector_reschedule

    desk = make_staff(Role.REGISTRAR, connector_clinic, email="desk-refuse@example.test")
    native = appointment_book(
        patient=other_patient,
        doctor=upstream_doctor,
        service=upstream_service,
        start=booked.starts_at + 2 * HOUR,
        channel=AppointmentChannel.PHONE,
        actor=make_staff(Role.REGISTRAR, clinic_b, email="desk-b@example.test"),
    )
    move = {"start": booked.starts_at, "external_id": "x", "actor": desk}
    with pytest.raises(InvalidInput) as not_external:
        connector_reschedule(appointment=native, **move)
    with pytest.raises(InvalidInput) as same_time:
        connector_reschedule(appointment=booked, **move)
    Appointment.objects.filter(pk=booked.pk).update(starts_at=timezone.now() - HOUR)
    booked.refresh_from_db()
    with pytest.raises(InvalidTransition) as started:
        connector_reschedule(appointment=booked, **move)
    Appointment.objects.filter(pk=booked.pk).update(status=AppointmentStatus.CANCELLED)
    booked.refresh_from_db()
    with pytest.raises(InvalidTransition) as closed:
        connector_reschedule(appointment=booked, **move)
    assert [e.value.code for e in (not_external, same_time, started, closed)] == [
        "not_external",
        "same_time",
        "already_started",
        "not_movable",
    ]


def test_a_move_our_side_refuses_gives_the_new_upstream_time_back(
    english, booked, clinic_b, connector_clinic, patient, monkeypatch
):
    from scheduling.errors import SlotTaken
    from scheduling.services import connector_moves

    def refused(**kwargs):
        raise SlotTaken(code="slot_taken")

    monkeypatch.setattr(connector_moves, "appointment_mirror_external_move", refused)
    client = english(patient.user)
    page = reverse("scheduling:reschedule", args=[booked.public_id])
    chosen = shown_values(client.get(page).content.decode())[1]
    _, start, external_id = parse_upstream_value(chosen)
    with pytest.raises(SlotTaken):
        connector_moves.connector_reschedule(
            appointment=booked, start=start, external_id=external_id, actor=patient.user
        )
    # The time booked upstream for the move was cancelled again; the visit stays.
    assert (
        not upstream_visits(clinic_b)
        .filter(starts_at=start, status=AppointmentStatus.BOOKED)
        .exists()
    )
    assert upstream_visits(clinic_b).filter(status=AppointmentStatus.BOOKED).count() == 1
