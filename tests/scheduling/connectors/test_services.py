"""`scheduling.services.connectors` and the mirror of an external booking: configuration,
refusals before any call, the upstream time given back when our records refuse it, the sync."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from scheduling.choices import (
    AppointmentChannel,
    BookingMode,
    ConnectorKind,
    ConnectorOperation,
    ConnectorOutcome,
    DiscountKind,
)
from scheduling.connectors import runtime
from scheduling.errors import InvalidInput, PolicyViolation, SlotTaken
from scheduling.models import (
    Appointment,
    BookingPolicy,
    ClinicConnector,
    ConnectorCall,
    ExternalBooking,
    Promotion,
)
from scheduling.selectors.connectors import connector_clinics, connector_health, connectors_status
from scheduling.services.booking import appointment_mirror_external
from scheduling.services.connectors import connector_book, connector_save, connectors_sync
from tests.factories import DoctorFactory

from .test_fallback import SCHEDULE, slot_json, soon


@pytest.fixture
def connector(connector_clinic, local_doctor, upstream):
    return connector_save(
        clinic=connector_clinic,
        kind=ConnectorKind.FHIR_R4,
        base_url=f"{upstream.url}/fhir",
        options={"schedules": {str(local_doctor.public_id): SCHEDULE}},
        secret="s3cret-token",
        timeout_seconds=1,
        is_enabled=True,
    )


def test_saving_keeps_the_secret_unless_a_new_one_is_given(connector, connector_clinic):
    stored = ClinicConnector.objects.get()
    assert stored.secret == "s3cret-token"
    again = {
        "clinic": connector_clinic,
        "kind": ConnectorKind.FHIR_R4,
        "base_url": "https://mis.example.test/fhir/R4",
        "options": {},
        "timeout_seconds": 5,
        "is_enabled": False,
    }
    connector_save(**again, secret=None)
    assert ClinicConnector.objects.get().secret == "s3cret-token"
    connector_save(**again, secret="new-token")
    stored = ClinicConnector.objects.get()
    assert (stored.secret, stored.timeout_seconds, stored.is_enabled) == ("new-token", 5, False)


def test_the_secret_is_encrypted_at_rest(connector):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM scheduling_clinicconnector")
        (raw,) = cursor.fetchone()
    assert "s3cret-token" not in raw


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"kind": "carrier-pigeon"}, "invalid_kind"),
        ({"options": ["not", "a", "dict"]}, "invalid_settings"),
    ],
)
def test_bad_configuration_is_refused_and_changes_nothing(connector_clinic, changes, code):
    fields = {
        "clinic": connector_clinic,
        "kind": ConnectorKind.ICS,
        "base_url": "https://calendar.example.test/busy.ics",
        "options": {},
        "secret": None,
        "timeout_seconds": 3,
        "is_enabled": True,
    } | changes
    with pytest.raises(InvalidInput) as caught:
        connector_save(**fields)
    assert caught.value.code == code
    assert not ClinicConnector.objects.exists()


def test_a_bad_address_is_refused(connector_clinic):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        connector_save(
            clinic=connector_clinic,
            kind=ConnectorKind.ICS,
            base_url="not an address",
            options={},
            secret=None,
            timeout_seconds=3,
            is_enabled=True,
        )


def book(patient, clinic, doctor, service, start=None):
    return connector_book(
        patient=patient,
        clinic=clinic,
        doctor=doctor,
        service=service,
        start=start or soon(clinic),
        external_id="slot-1",
        channel=AppointmentChannel.ONLINE,
        actor=patient.user,
    )


def test_a_native_clinic_takes_no_connector_bookings(
    connector, connector_clinic, local_doctor, upstream_service, patient
):
    BookingPolicy.objects.filter(clinic=connector_clinic).update(mode=BookingMode.NATIVE)
    with pytest.raises(PolicyViolation):
        book(patient, connector_clinic, local_doctor, upstream_service)


def test_a_doctor_of_another_clinic_is_refused_before_any_call(
    connector, connector_clinic, upstream_service, patient, clinic_a, upstream
):
    stranger = DoctorFactory(services=[upstream_service], clinics=[clinic_a])
    with pytest.raises(InvalidInput):
        book(patient, connector_clinic, stranger, upstream_service)
    assert upstream.hits == []


def test_a_time_in_the_past_is_gone(
    connector, connector_clinic, local_doctor, upstream_service, patient
):
    with pytest.raises(SlotTaken):
        book(
            patient,
            connector_clinic,
            local_doctor,
            upstream_service,
            start=timezone.now() - datetime.timedelta(hours=1),
        )


def appointment_json(start: datetime.datetime) -> bytes:
    return json.dumps(
        {
            "resourceType": "Appointment",
            "id": "ext-1",
            "status": "booked",
            "start": start.isoformat(),
            "end": (start + datetime.timedelta(minutes=30)).isoformat(),
        }
    ).encode()


def test_when_our_records_refuse_the_time_it_is_given_back_upstream(
    connector, upstream, connector_clinic, local_doctor, upstream_service, patient, other_patient
):
    start = soon(connector_clinic)
    appointment_mirror_external(
        patient=other_patient,
        doctor=local_doctor,
        service=upstream_service,
        clinic=connector_clinic,
        connector=connector,
        external_id="ext-0",
        start=start,
        end=start + datetime.timedelta(minutes=30),
        channel=AppointmentChannel.ONLINE,
        actor=other_patient.user,
    )
    upstream.routes["GET"] = (200, json.dumps(slot_json(start)).encode())
    upstream.routes["POST"] = (201, appointment_json(start))
    with pytest.raises(SlotTaken):
        book(patient, connector_clinic, local_doctor, upstream_service, start=start)
    assert Appointment.objects.filter(patient=patient).count() == 0
    assert ConnectorCall.objects.filter(operation=ConnectorOperation.CANCEL).exists()


def test_a_mirrored_visit_takes_the_clinics_automatic_promotion(
    connector, connector_clinic, local_doctor, upstream_service, patient
):
    today = timezone.now().astimezone(connector_clinic.tz).date()
    promotion = Promotion.objects.create(
        clinic=connector_clinic,
        name="Весна",
        kind=DiscountKind.PERCENT,
        value=Decimal(10),
        starts_on=today,
        ends_on=today + datetime.timedelta(days=30),
        usage_limit=5,
    )
    start = soon(connector_clinic)
    visit = appointment_mirror_external(
        patient=patient,
        doctor=local_doctor,
        service=upstream_service,
        clinic=connector_clinic,
        connector=connector,
        external_id="ext-9",
        start=start,
        end=start + datetime.timedelta(minutes=30),
        channel=AppointmentChannel.ONLINE,
        actor=patient.user,
    )
    promotion.refresh_from_db()
    assert (visit.promotion_id, promotion.times_used) == (promotion.pk, 1)
    assert ExternalBooking.objects.get().appointment == visit
    assert visit.events.get().kind == "booked"


def test_the_sync_checks_health_warms_the_cache_and_purges_old_calls(
    connector, upstream, connector_clinic, local_doctor, upstream_service
):
    old = ConnectorCall.objects.create(
        connector=connector,
        operation=ConnectorOperation.HEALTH,
        outcome=ConnectorOutcome.OK,
        latency_ms=5,
        at=timezone.now() - datetime.timedelta(days=30),
    )
    upstream.body = json.dumps(
        {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "entry": []}
    ).encode()
    upstream.routes["GET"] = (200, upstream.body)
    # The metadata answers; the slot search gets the same body, which is not a Bundle: the
    # week is simply not cached, and the sync carries on.
    assert connectors_sync() == 1
    assert not ConnectorCall.objects.filter(pk=old.pk).exists()
    connector.refresh_from_db()
    assert connector.last_sync_at is not None
    operations = set(ConnectorCall.objects.values_list("operation", flat=True))
    assert operations == {ConnectorOperation.HEALTH, ConnectorOperation.FREE_SLOTS}


def test_the_sync_skips_a_system_that_does_not_answer(connector, upstream):
    upstream.status = 503
    assert connectors_sync() == 0
    connector.refresh_from_db()
    assert connector.last_sync_at is None


def test_health_words(settings, connector, upstream, connector_clinic):
    assert connectors_status() == "ok"
    assert connector_health(connector).state == "unknown"
    upstream.status = 500
    with pytest.raises(runtime.ConnectorUnavailable):
        runtime.run(connector, ConnectorOperation.HEALTH, lambda c: c.health())
    assert connector_health(connector).state == "degraded"
    assert connectors_status() == "degraded"
    settings.CONNECTOR_BREAKER_FAIL_MAX = 1
    with pytest.raises(runtime.ConnectorUnavailable):
        runtime.run(connector, ConnectorOperation.HEALTH, lambda c: c.health())
    assert connector_health(connector).state == "down"
    connector.is_enabled = False
    connector.save()
    assert connector_health(connector).state == "off"
    assert connectors_status() == "none"
    [(clinic, row, health)] = connector_clinics()
    assert (clinic, row, health.state) == (connector_clinic, connector, "off")


def test_the_sync_skips_inactive_services(connector, upstream, local_doctor, upstream_service):
    upstream.status = 200
    upstream.body = json.dumps({"resourceType": "CapabilityStatement"}).encode()
    upstream_service.is_active = False
    upstream_service.save()
    assert connectors_sync() == 1
    assert not ConnectorCall.objects.filter(operation=ConnectorOperation.FREE_SLOTS).exists()


@pytest.mark.parametrize(("hour", "part"), [(9, "morning"), (13, "afternoon"), (18, "evening")])
def test_a_request_left_instead_keeps_the_part_of_the_day(
    connector, upstream, connector_clinic, local_doctor, upstream_service, patient, hour, part
):
    upstream.status = 503
    day = soon(connector_clinic).astimezone(connector_clinic.tz).date()
    start = datetime.datetime.combine(day, datetime.time(hour), tzinfo=connector_clinic.tz)
    request = book(patient, connector_clinic, local_doctor, upstream_service, start=start).request
    assert request.windows[0]["part"] == part


def mirrored(connector, patient, doctor, service, clinic, external_id="ext-5"):
    start = soon(clinic)
    return appointment_mirror_external(
        patient=patient,
        doctor=doctor,
        service=service,
        clinic=clinic,
        connector=connector,
        external_id=external_id,
        start=start,
        end=start + datetime.timedelta(minutes=30),
        channel=AppointmentChannel.ONLINE,
        actor=patient.user,
    )


def test_a_visit_booked_upstream_is_cancelled_there_first(
    connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    from scheduling.services.connectors import connector_cancel

    visit = mirrored(connector, patient, local_doctor, upstream_service, connector_clinic)
    upstream.routes["GET"] = (
        200,
        json.dumps({"resourceType": "Appointment", "id": "ext-5", "status": "booked"}).encode(),
    )
    upstream.routes["PUT"] = (
        200,
        json.dumps({"resourceType": "Appointment", "id": "ext-5", "status": "cancelled"}).encode(),
    )
    connector_cancel(appointment=visit, actor=patient.user)
    visit.refresh_from_db()
    assert visit.status == "cancelled"
    assert any(hit.startswith("PUT /fhir/Appointment/ext-5") for hit in upstream.hits)


def test_a_visit_stays_when_its_system_cannot_cancel_it(
    connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    from scheduling.errors import UpstreamDown
    from scheduling.services.connectors import connector_cancel

    visit = mirrored(connector, patient, local_doctor, upstream_service, connector_clinic)
    upstream.status = 503
    with pytest.raises(UpstreamDown):
        connector_cancel(appointment=visit, actor=patient.user)
    visit.refresh_from_db()
    assert visit.status == "booked"


def test_another_patient_may_not_cancel_a_visit_booked_upstream(
    connector, connector_clinic, local_doctor, upstream_service, patient, other_patient
):
    from scheduling.errors import NotAllowed
    from scheduling.services.connectors import connector_cancel

    visit = mirrored(connector, patient, local_doctor, upstream_service, connector_clinic)
    with pytest.raises(NotAllowed):
        connector_cancel(appointment=visit, actor=other_patient.user)
