"""The FHIR R4 connector end to end against a live server: this Medfront's own `/fhir/R4/`
serving clinic B's schedule, not a mock (issue #15)."""

from __future__ import annotations

import datetime

import pytest

from scheduling.choices import (
    AppointmentChannel,
    BookingRequestSource,
    ConnectorOperation,
    ConnectorOutcome,
)
from scheduling.connectors import runtime
from scheduling.connectors.base import BookingOrder, SlotGone, SlotQuery
from scheduling.errors import SlotTaken
from scheduling.models import Appointment, BookingRequest, ConnectorCall, ExternalBooking
from scheduling.selectors.connector_slots import connector_free_slots
from scheduling.services.booking import appointment_book
from scheduling.services.connectors import connector_book

from .conftest import tomorrow_range

pytestmark = pytest.mark.django_db(transaction=True)


def offered(clinic, service, doctor):
    start, end = tomorrow_range(clinic)
    return connector_free_slots(clinic=clinic, service=service, doctor=doctor, start=start, end=end)


def test_free_slots_come_from_the_external_schedule(
    fhir_connector, connector_clinic, local_doctor, upstream_service
):
    result = offered(connector_clinic, upstream_service, local_doctor)
    assert not result.unavailable
    starts = [s.start.astimezone(connector_clinic.tz).time() for s in result.slots]
    assert starts == [datetime.time(h, m) for h in range(9, 13) for m in (0, 30)]
    assert {s.doctor_public_id for s in result.slots} == {local_doctor.public_id}
    assert all(s.external_id for s in result.slots)
    call = ConnectorCall.objects.get()
    assert (call.operation, call.outcome) == (ConnectorOperation.FREE_SLOTS, ConnectorOutcome.OK)


def test_a_second_look_is_served_from_the_cache(
    fhir_connector, connector_clinic, local_doctor, upstream_service
):
    first = offered(connector_clinic, upstream_service, local_doctor)
    again = offered(connector_clinic, upstream_service, local_doctor)
    assert again.slots == first.slots
    assert ConnectorCall.objects.count() == 1


def test_a_patient_books_upstream_and_sees_the_visit_here(
    fhir_connector,
    connector_clinic,
    clinic_b,
    local_doctor,
    upstream_doctor,
    upstream_service,
    patient,
):
    slot = offered(connector_clinic, upstream_service, local_doctor).slots[2]
    result = connector_book(
        patient=patient,
        clinic=connector_clinic,
        doctor=local_doctor,
        service=upstream_service,
        start=slot.start,
        external_id=slot.external_id,
        channel=AppointmentChannel.ONLINE,
        actor=patient.user,
    )
    assert result.request is None
    mirrored = result.appointment
    assert (mirrored.clinic, mirrored.doctor, mirrored.patient) == (
        connector_clinic,
        local_doctor,
        patient,
    )
    assert mirrored.starts_at == slot.start
    upstream = Appointment.objects.get(clinic=clinic_b)
    assert (upstream.doctor, upstream.patient, upstream.starts_at) == (
        upstream_doctor,
        patient,
        slot.start,
    )
    assert ExternalBooking.objects.get().external_id == str(upstream.public_id)
    assert list(ConnectorCall.objects.order_by("pk").values_list("operation", "outcome")) == [
        (ConnectorOperation.FREE_SLOTS, ConnectorOutcome.OK),
        (ConnectorOperation.VERIFY, ConnectorOutcome.OK),
        (ConnectorOperation.BOOK, ConnectorOutcome.OK),
    ]
    # The booking dropped the cached answer: the time is gone for the next patient at once.
    assert slot not in offered(connector_clinic, upstream_service, local_doctor).slots


def test_a_slot_taken_upstream_after_the_pick_is_a_clear_conflict(
    fhir_connector,
    connector_clinic,
    clinic_b,
    local_doctor,
    upstream_doctor,
    upstream_service,
    patient,
    other_patient,
):
    slot = offered(connector_clinic, upstream_service, local_doctor).slots[0]
    appointment_book(
        patient=other_patient,
        doctor=upstream_doctor,
        service=upstream_service,
        start=slot.start,
        channel=AppointmentChannel.ONLINE,
        actor=other_patient.user,
    )
    with pytest.raises(SlotTaken, match="clinic's system|системе клиники"):
        connector_book(
            patient=patient,
            clinic=connector_clinic,
            doctor=local_doctor,
            service=upstream_service,
            start=slot.start,
            external_id=slot.external_id,
            channel=AppointmentChannel.ONLINE,
            actor=patient.user,
        )
    assert not Appointment.objects.filter(clinic=connector_clinic).exists()
    assert not BookingRequest.objects.exists()


def test_a_409_from_the_server_is_a_taken_slot(
    fhir_connector,
    connector_clinic,
    local_doctor,
    upstream_doctor,
    upstream_service,
    patient,
    other_patient,
):
    slot = offered(connector_clinic, upstream_service, local_doctor).slots[0]
    order = BookingOrder(slot=slot, patient_public_id=patient.public_id)
    runtime.run(fhir_connector, ConnectorOperation.BOOK, lambda c: c.book(order))
    again = BookingOrder(slot=slot, patient_public_id=other_patient.public_id)
    with pytest.raises(SlotGone):
        runtime.run(fhir_connector, ConnectorOperation.BOOK, lambda c: c.book(again))
    assert ConnectorCall.objects.filter(outcome=ConnectorOutcome.REFUSED).count() == 1
    # A refusal is the system working: the circuit stays closed.
    assert runtime.circuit_state(fhir_connector) == "closed"


def test_a_booking_cancelled_upstream_through_the_connector(
    fhir_connector, connector_clinic, clinic_b, local_doctor, upstream_service, patient
):
    slot = offered(connector_clinic, upstream_service, local_doctor).slots[0]
    order = BookingOrder(slot=slot, patient_public_id=patient.public_id)
    booked = runtime.run(fhir_connector, ConnectorOperation.BOOK, lambda c: c.book(order))
    runtime.run(fhir_connector, ConnectorOperation.CANCEL, lambda c: c.cancel(booked.external_id))
    assert Appointment.objects.get(clinic=clinic_b).status == "cancelled"
    # Cancelling again is harmless.
    runtime.run(fhir_connector, ConnectorOperation.CANCEL, lambda c: c.cancel(booked.external_id))


def test_health_reads_the_capability_statement(fhir_connector):
    health = runtime.run(fhir_connector, ConnectorOperation.HEALTH, lambda c: c.health())
    assert health.ok
    assert health.detail == "4.0.1"


def test_without_a_token_the_server_refuses_and_the_booking_becomes_a_request(
    fhir_connector, connector_clinic, local_doctor, upstream_service, patient
):
    slot = offered(connector_clinic, upstream_service, local_doctor).slots[0]
    fhir_connector.secret = "wrong-token"
    fhir_connector.save()
    result = connector_book(
        patient=patient,
        clinic=connector_clinic,
        doctor=local_doctor,
        service=upstream_service,
        start=slot.start,
        external_id=slot.external_id,
        channel=AppointmentChannel.ONLINE,
        actor=patient.user,
    )
    assert result.appointment is None
    assert result.request.source == BookingRequestSource.CONNECTOR
    assert result.request.doctor == local_doctor
    assert not Appointment.objects.exists()


def test_a_search_for_an_unmapped_doctor_is_not_configured(fhir_connector, upstream_service):
    import uuid

    from scheduling.connectors.base import NotConfigured

    query = SlotQuery(
        service_code=upstream_service.code,
        start=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        end=datetime.datetime(2030, 1, 2, tzinfo=datetime.UTC),
        doctor_public_id=uuid.uuid4(),
    )
    with pytest.raises(NotConfigured):
        runtime.run(fhir_connector, ConnectorOperation.FREE_SLOTS, lambda c: c.free_slots(query))
