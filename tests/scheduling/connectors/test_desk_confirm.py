"""The desk confirms a connector clinic's booking request with a live time of its external
system: verified and booked there, mirrored here, the request closed and the patient told as
a native confirmation does; a failure upstream leaves the request open (issue #15)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage
from portal.choices import Role
from portal.models import AuditEvent
from scheduling.choices import AppointmentChannel, BookingMode, BookingRequestSource
from scheduling.choices import BookingRequestStatus as R
from scheduling.models import Appointment, BookingPolicy, BookingRequest, ExternalBooking
from scheduling.selectors.connector_requests import parse_upstream_value
from scheduling.services.booking import appointment_book
from scheduling.services.booking_requests import booking_request_create
from tests.conftest import client_for
from tests.factories import make_staff

from .conftest import make_fhir_connector

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def patient_upstream(request):
    """A busy test machine can take more than the connector's 3 s to serve the live server's
    first FHIR answer: these tests are about moves and answers, not timeouts."""
    if "fhir_connector" in request.fixturenames:
        connector = request.getfixturevalue("fhir_connector")
        connector.timeout_seconds = 30
        connector.save(update_fields=["timeout_seconds"])


@pytest.fixture
def desk(connector_clinic):
    return make_staff(Role.REGISTRAR, connector_clinic, email="desk-zarechny@example.test")


@pytest.fixture
def english(settings):
    def client(user):
        signed_in = client_for(user)
        signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return signed_in

    return client


def tomorrow(clinic) -> datetime.date:
    return timezone.now().astimezone(clinic.tz).date() + datetime.timedelta(days=1)


@pytest.fixture
def waiting(connector_clinic, local_doctor, upstream_service, patient):
    """A request the connector clinic received while its system was down."""
    day = tomorrow(connector_clinic)
    return booking_request_create(
        patient=patient,
        clinic=connector_clinic,
        windows=[{"from": day, "to": day, "part": "morning"}],
        actor=patient.user,
        source=BookingRequestSource.CONNECTOR,
        service=upstream_service,
        doctor=local_doctor,
        contact_channel="sms",
    )


def page(request_row, day):
    return reverse("scheduling:desk_request", args=[request_row.public_id]) + f"?date={day}"


def action(request_row, name="confirm_upstream"):
    return reverse("scheduling:desk_request_action", args=[request_row.public_id, name])


def offered_values(body: str) -> list[str]:
    import re

    return re.findall(r'name="upstream" value="([^"]+)"', body)


def test_the_desk_books_a_live_upstream_time_and_confirms(
    fhir_connector,
    english,
    desk,
    waiting,
    connector_clinic,
    clinic_b,
    local_doctor,
    upstream_doctor,
    upstream_service,
    patient,
):
    client = english(desk)
    body = client.get(page(waiting, tomorrow(connector_clinic))).content.decode()
    assert "Book in the clinic's system and confirm" in body
    values = offered_values(body)
    assert len(values) == 8  # 09:00–13:00 every half hour, upstream
    assert "★" in body  # the morning the patient asked for
    chosen = values[1]
    answer = client.post(
        action(waiting), {"upstream": chosen, "service": str(upstream_service.public_id)}
    )
    assert answer.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == R.CONFIRMED
    assert waiting.time_to_confirm is not None and waiting.handled_by == desk
    mirrored = waiting.appointment
    assert (mirrored.clinic, mirrored.doctor, mirrored.channel) == (
        connector_clinic,
        local_doctor,
        AppointmentChannel.REQUEST,
    )
    _, start, _ = parse_upstream_value(chosen)
    upstream = Appointment.objects.get(clinic=clinic_b)
    assert (upstream.doctor, upstream.patient, upstream.starts_at) == (
        upstream_doctor,
        patient,
        start,
    )
    assert ExternalBooking.objects.get(appointment=mirrored).external_id == str(upstream.public_id)
    # Told once, as a confirmed request (not a second "booked" message of the mirror).
    told = OutboxMessage.objects.filter(patient=patient, event__startswith="booking_request.")
    assert list(told.values_list("event", flat=True)).count("booking_request.confirmed") == 1
    assert not OutboxMessage.objects.filter(
        patient=patient, event="appointment.booked", clinic=connector_clinic.pk
    ).exists()
    assert AuditEvent.objects.filter(
        object_type="scheduling.bookingrequest", object_id=str(waiting.public_id)
    ).exists()
    # A second answer (a double click) is refused and books nothing more upstream.
    again = client.post(
        action(waiting),
        {"upstream": values[2], "service": str(upstream_service.public_id)},
        follow=True,
    )
    assert "answered or closed already" in again.content.decode()
    assert Appointment.objects.filter(clinic=clinic_b).count() == 1


def test_a_time_taken_upstream_leaves_the_request_open(
    fhir_connector,
    english,
    desk,
    waiting,
    connector_clinic,
    upstream_doctor,
    upstream_service,
    other_patient,
):
    client = english(desk)
    chosen = offered_values(client.get(page(waiting, tomorrow(connector_clinic))).content.decode())[
        0
    ]
    _, start, _ = parse_upstream_value(chosen)
    appointment_book(
        patient=other_patient,
        doctor=upstream_doctor,
        service=upstream_service,
        start=start,
        channel=AppointmentChannel.ONLINE,
        actor=other_patient.user,
    )
    answer = client.post(
        action(waiting),
        {"upstream": chosen, "service": str(upstream_service.public_id)},
        follow=True,
    )
    assert "The request is still open" in answer.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == R.OPEN
    assert not ExternalBooking.objects.exists()


def test_an_unreachable_system_leaves_the_request_open(
    english,
    desk,
    waiting,
    connector_clinic,
    local_doctor,
    upstream_doctor,
    clinic_b,
    upstream_service,
    closed_port,
):
    make_fhir_connector(
        connector_clinic,
        base_url=closed_port,
        local_doctor=local_doctor,
        upstream_doctor=upstream_doctor,
        upstream_clinic=clinic_b,
        secret="token",
    )
    client = english(desk)
    body = client.get(page(waiting, tomorrow(connector_clinic))).content.decode()
    assert "not answering right now" in body
    start = datetime.datetime.combine(
        tomorrow(connector_clinic), datetime.time(9), tzinfo=connector_clinic.tz
    )
    made_up = f"{local_doctor.public_id}|{start.isoformat()}|abc"
    answer = client.post(
        action(waiting),
        {"upstream": made_up, "service": str(upstream_service.public_id)},
        follow=True,
    )
    assert "nothing was booked and the request is still open" in answer.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == R.OPEN


@pytest.mark.parametrize(
    "value",
    ["", "garbage", "not-a-uuid|2027-01-01T09:00:00+03:00|x", "{doctor}|2027-01-01T09:00|x"],
)
def test_bad_choices_are_refused_with_a_message(
    fhir_connector, english, desk, waiting, local_doctor, upstream_service, value
):
    posted = {
        "upstream": value.format(doctor=local_doctor.public_id),
        "service": str(upstream_service.public_id),
    }
    answer = english(desk).post(action(waiting), posted, follow=True)
    assert answer.status_code == 200
    assert "Choose one time of the clinic" in answer.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == R.OPEN


def test_other_clinics_staff_patients_and_native_requests_are_refused(
    fhir_connector,
    english,
    waiting,
    registrar_a,
    patient,
    clinic_a,
    doctor,
    service,
    local_doctor,
    upstream_service,
    connector_clinic,
):
    start = datetime.datetime.combine(
        tomorrow(connector_clinic), datetime.time(9), tzinfo=connector_clinic.tz
    )
    posted = {
        "upstream": f"{local_doctor.public_id}|{start.isoformat()}|abc",
        "service": str(upstream_service.public_id),
    }
    assert english(registrar_a).post(action(waiting), posted).status_code == 404
    assert english(patient.user).post(action(waiting), posted).status_code in (403, 404)
    # A request-mode clinic's request is answered from its own schedule, never upstream.
    BookingPolicy.objects.create(clinic=clinic_a, mode=BookingMode.REQUEST)
    day = tomorrow(clinic_a)
    native = booking_request_create(
        patient=patient,
        clinic=clinic_a,
        windows=[{"from": day, "to": day, "part": "any"}],
        actor=patient.user,
        service=service,
    )
    answer = english(registrar_a).post(action(native), posted, follow=True)
    assert "answered with times of its own schedule" in answer.content.decode()
    assert BookingRequest.objects.get(pk=native.pk).status == R.OPEN
    assert BookingRequest.objects.get(pk=waiting.pk).status == R.OPEN


def test_a_confirmation_our_side_refuses_gives_the_upstream_time_back(
    fhir_connector,
    english,
    desk,
    waiting,
    connector_clinic,
    clinic_b,
    local_doctor,
    upstream_service,
    monkeypatch,
):
    from scheduling.choices import AppointmentStatus
    from scheduling.errors import SlotTaken
    from scheduling.services import connector_requests

    def refused(**kwargs):
        raise SlotTaken(code="slot_taken")

    monkeypatch.setattr(connector_requests, "appointment_mirror_external", refused)
    client = english(desk)
    day = tomorrow(connector_clinic)
    chosen = offered_values(client.get(page(waiting, day)).content.decode())[0]
    _, start, external_id = parse_upstream_value(chosen)
    with pytest.raises(SlotTaken):
        connector_requests.booking_request_confirm_upstream(
            request=waiting,
            doctor=local_doctor,
            service=upstream_service,
            start=start,
            external_id=external_id,
            actor=desk,
        )
    waiting.refresh_from_db()
    assert waiting.status == R.OPEN
    # What was booked upstream for it is cancelled again.
    upstream = Appointment.objects.filter(clinic=clinic_b, starts_at=start)
    assert not upstream.filter(status=AppointmentStatus.BOOKED).exists()
