"""When the external system fails: timeouts, server errors and bad payloads become booking
requests or an "unavailable" answer, never a 500 or a lost booking; the circuit breaker opens
after repeated failures and closes once the system answers again."""

from __future__ import annotations

import datetime
import json
import time

import pytest
from django.utils import timezone

from scheduling.choices import (
    AppointmentChannel,
    BookingRequestSource,
    ConnectorKind,
    ConnectorOperation,
    ConnectorOutcome,
)
from scheduling.connectors import runtime
from scheduling.connectors.base import ConnectorTimeout
from scheduling.errors import PolicyViolation, SlotTaken
from scheduling.models import Appointment, BookingRequest, ClinicConnector, ConnectorCall
from scheduling.selectors.connector_slots import connector_free_slots
from scheduling.services.connectors import connector_book

SCHEDULE = "sched-1"


@pytest.fixture
def connector(connector_clinic, local_doctor, upstream):
    return ClinicConnector.objects.create(
        clinic=connector_clinic,
        kind=ConnectorKind.FHIR_R4,
        base_url=f"{upstream.url}/fhir",
        timeout_seconds=1,
        settings={"schedules": {str(local_doctor.public_id): SCHEDULE}},
    )


def soon(clinic) -> datetime.datetime:
    day = timezone.now().astimezone(clinic.tz).date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, datetime.time(10), tzinfo=clinic.tz).astimezone(
        datetime.UTC
    )


def slot_json(at: datetime.datetime | None, **extra) -> dict:
    resource = {
        "resourceType": "Slot",
        "id": "slot-1",
        "schedule": {"reference": f"Schedule/{SCHEDULE}"},
        "status": "free",
    }
    if at is not None:
        resource["start"] = at.isoformat()
        resource["end"] = (at + datetime.timedelta(minutes=30)).isoformat()
    return {**resource, **extra}


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


def test_a_slow_system_times_out_and_the_booking_becomes_a_request(
    connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    upstream.delay = 1.5
    began = time.monotonic()
    result = book(patient, connector_clinic, local_doctor, upstream_service)
    assert time.monotonic() - began < 1.4
    assert result.appointment is None
    request = result.request
    assert (request.source, request.clinic, request.doctor, request.service) == (
        BookingRequestSource.CONNECTOR,
        connector_clinic,
        local_doctor,
        upstream_service,
    )
    local = soon(connector_clinic).astimezone(connector_clinic.tz)
    assert request.windows == [
        {"from": local.date().isoformat(), "to": local.date().isoformat(), "part": "morning"}
    ]
    call = ConnectorCall.objects.get()
    assert (call.operation, call.outcome, call.error_class) == (
        ConnectorOperation.VERIFY,
        ConnectorOutcome.TIMEOUT,
        "ConnectorTimeout",
    )
    assert not Appointment.objects.exists()


def test_a_second_click_during_an_outage_keeps_one_request(
    connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    upstream.status = 503
    first = book(patient, connector_clinic, local_doctor, upstream_service).request
    again = book(patient, connector_clinic, local_doctor, upstream_service).request
    assert first == again
    assert BookingRequest.objects.count() == 1


def test_an_unreachable_system_leaves_a_request(
    connector, closed_port, connector_clinic, local_doctor, upstream_service, patient
):
    connector.base_url = closed_port
    connector.save()
    result = book(patient, connector_clinic, local_doctor, upstream_service)
    assert result.request is not None
    assert ConnectorCall.objects.get().outcome == ConnectorOutcome.ERROR


def test_a_time_that_failed_upstream_at_booking_becomes_a_request(
    connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    """Verification passes, then the booking call itself fails with a server error."""
    upstream.routes["GET"] = (200, json.dumps(slot_json(soon(connector_clinic))).encode())
    upstream.routes["POST"] = (502, b"Bad gateway")
    result = book(patient, connector_clinic, local_doctor, upstream_service)
    assert result.request is not None
    outcomes = list(ConnectorCall.objects.order_by("pk").values_list("operation", "outcome"))
    assert outcomes == [
        (ConnectorOperation.VERIFY, ConnectorOutcome.OK),
        (ConnectorOperation.BOOK, ConnectorOutcome.ERROR),
    ]


def test_a_slot_withdrawn_upstream_is_a_clear_conflict(
    connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    upstream.status = 404
    upstream.body = b'{"resourceType": "OperationOutcome", "issue": []}'
    with pytest.raises(SlotTaken):
        book(patient, connector_clinic, local_doctor, upstream_service)
    assert not BookingRequest.objects.exists()


def test_a_slot_moved_upstream_is_a_clear_conflict(
    connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    later = soon(connector_clinic) + datetime.timedelta(hours=1)
    upstream.routes["GET"] = (200, json.dumps(slot_json(later)).encode())
    with pytest.raises(SlotTaken):
        book(patient, connector_clinic, local_doctor, upstream_service)


def test_a_rule_of_the_system_is_told_to_the_patient(
    connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    upstream.routes["GET"] = (200, json.dumps(slot_json(soon(connector_clinic))).encode())
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "business-rule", "diagnostics": "Quota full"}],
    }
    upstream.routes["POST"] = (422, json.dumps(outcome).encode())
    with pytest.raises(PolicyViolation, match="Quota full"):
        book(patient, connector_clinic, local_doctor, upstream_service)
    assert not BookingRequest.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"<html>not json</html>",
        b'{"resourceType": "OperationOutcome"}',
        b'{"resourceType": "Bundle", "entry": {"oops": 1}}',
        b'{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}]}',
        json.dumps(
            {
                "resourceType": "Bundle",
                "entry": [{"resource": slot_json(None, end="2027-03-02T10:00:00Z")}],
            },
            default=str,
        ).encode(),
        json.dumps(
            {
                "resourceType": "Bundle",
                "entry": [{"resource": {**slot_json(None, start="2027-03-02T10:00:00")}}],
            },
            default=str,
        ).encode(),
        json.dumps(
            {
                "resourceType": "Bundle",
                "entry": [
                    {
                        "resource": slot_json(
                            None, start="2027-03-02T10:00:00Z", end="2027-03-02T09:00:00Z"
                        )
                    }
                ],
            },
            default=str,
        ).encode(),
    ],
    ids=[
        "html",
        "not-a-bundle",
        "entries-not-a-list",
        "not-a-slot",
        "no-start",
        "no-offset",
        "ends-first",
    ],
)
def test_malformed_payloads_make_the_clinic_unavailable_not_a_crash(
    connector, upstream, connector_clinic, local_doctor, upstream_service, body
):
    upstream.body = body
    start = timezone.now()
    result = connector_free_slots(
        clinic=connector_clinic,
        service=upstream_service,
        doctor=local_doctor,
        start=start,
        end=start + datetime.timedelta(days=1),
    )
    assert result.unavailable
    call = ConnectorCall.objects.get()
    assert (call.outcome, call.error_class) == (ConnectorOutcome.ERROR, "BadPayload")


def test_the_circuit_opens_after_repeated_failures_and_closes_when_the_system_answers(
    settings, connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    settings.CONNECTOR_BREAKER_FAIL_MAX = 2
    settings.CONNECTOR_BREAKER_RESET_SECONDS = 0.5
    upstream.status = 500
    for _ in range(2):
        with pytest.raises(runtime.ConnectorUnavailable):
            runtime.run(connector, ConnectorOperation.HEALTH, lambda c: c.health())
    assert runtime.circuit_state(connector) == "open"
    hits = len(upstream.hits)
    # Open: nothing is sent, and a booking becomes a request at once.
    result = book(patient, connector_clinic, local_doctor, upstream_service)
    assert result.request is not None
    assert len(upstream.hits) == hits
    assert ConnectorCall.objects.order_by("-pk").first().outcome == ConnectorOutcome.CIRCUIT_OPEN
    # After the reset time one trial call goes through; its success closes the circuit.
    time.sleep(0.6)
    upstream.status = 200
    upstream.body = json.dumps(
        {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"}
    ).encode()
    assert runtime.run(connector, ConnectorOperation.HEALTH, lambda c: c.health()).ok
    assert runtime.circuit_state(connector) == "closed"


def test_a_timeout_is_logged_as_such(connector, upstream):
    upstream.delay = 1.5
    with pytest.raises(ConnectorTimeout):
        runtime.run(connector, ConnectorOperation.HEALTH, lambda c: c.health())
    assert ConnectorCall.objects.get().outcome == ConnectorOutcome.TIMEOUT
