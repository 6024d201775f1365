"""A patient's booking reads the engine's first round trip ahead, with its own first reads,
once the process knows the service's and doctor's primary keys (`BookingReads`); what it
books, refuses and answers stays the same."""

import datetime
import uuid

import pytest
from django.db import connection

from scheduling.api import selectors
from scheduling.models import Appointment
from scheduling.selectors import availability
from tests.scheduling.api.conftest import at

pytestmark = pytest.mark.django_db
URL = "/api/v1/appointments/"
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


def body(service, doctor, start, **extra):
    return {
        "service": str(service.public_id),
        "doctor": str(doctor.public_id),
        "start": start if isinstance(start, str) else start.isoformat(),
        **extra,
    }


@pytest.fixture
def engine_loads(monkeypatch):
    """Whether each engine load was given its first round trip ahead."""
    seen = []
    load = availability._Engine.load.__func__

    def spy(cls, **kwargs):
        seen.append(kwargs.get("first_round") is not None)
        return load(cls, **kwargs)

    monkeypatch.setattr(availability._Engine, "load", classmethod(spy))
    return seen


@pytest.fixture(autouse=True)
def no_known_ids(monkeypatch):
    monkeypatch.setattr(selectors, "_KNOWN_IDS", {})


@on_postgresql
def test_once_the_keys_are_known_the_first_round_trip_is_read_ahead(
    api_as, patient, service, doctor, clinic_a, tomorrow_a, engine_loads
):
    client = api_as(patient.user)
    first = client.post(URL, body(service, doctor, at(clinic_a, tomorrow_a, 10)), format="json")
    second = client.post(URL, body(service, doctor, at(clinic_a, tomorrow_a, 11)), format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    assert engine_loads == [False, True]  # the first request taught the process the keys
    booked = Appointment.objects.get(public_id=second.json()["id"])
    assert (booked.doctor, booked.service, booked.clinic) == (doctor, service, clinic_a)
    assert second.json()["start"] == at(clinic_a, tomorrow_a, 11).isoformat()


@on_postgresql
def test_a_read_ahead_start_that_is_not_a_slot_is_refused_as_without(
    api_as, patient, service, doctor, clinic_a, tomorrow_a, engine_loads
):
    client = api_as(patient.user)
    client.post(URL, body(service, doctor, at(clinic_a, tomorrow_a, 10)), format="json")
    misaligned = client.post(
        URL, body(service, doctor, at(clinic_a, tomorrow_a, 10, 7)), format="json"
    )
    taken = client.post(URL, body(service, doctor, at(clinic_a, tomorrow_a, 10)), format="json")
    assert (misaligned.status_code, taken.status_code) == (422, 409)
    assert engine_loads == [False, True, True]
    assert Appointment.objects.count() == 1


@on_postgresql
@pytest.mark.parametrize(
    "start",
    ["2027-01-15T10:00:00", "not a time", "2027-02-30T10:00:00+08:00", "9999-12-31T23:30:00+00:00"],
)
def test_no_read_ahead_for_a_start_that_is_not_an_aware_time_and_the_answer_is_unchanged(
    api_as, patient, service, doctor, clinic_a, tomorrow_a, engine_loads, start
):
    client = api_as(patient.user)
    client.post(URL, body(service, doctor, at(clinic_a, tomorrow_a, 10)), format="json")
    refused = client.post(URL, body(service, doctor, start), format="json")
    assert refused.status_code in (400, 422)
    assert True not in engine_loads[1:]
    assert Appointment.objects.count() == 1


@on_postgresql
def test_staff_and_hold_bookings_read_nothing_ahead(
    api_as, patient, registrar_a, service, doctor, clinic_a, tomorrow_a, engine_loads
):
    api_as(patient.user).post(
        URL, body(service, doctor, at(clinic_a, tomorrow_a, 10)), format="json"
    )
    staff = api_as(registrar_a).post(
        URL,
        body(service, doctor, at(clinic_a, tomorrow_a, 11), patient=str(patient.public_id)),
        format="json",
    )
    held = api_as(patient.user).post(
        "/api/v1/holds/",
        {
            "service": str(service.public_id),
            "doctor": str(doctor.public_id),
            "start": at(clinic_a, tomorrow_a, 12).isoformat(),
        },
        format="json",
    )
    with_hold = api_as(patient.user).post(
        URL,
        body(service, doctor, at(clinic_a, tomorrow_a, 12), hold=held.json()["id"]),
        format="json",
    )
    assert (staff.status_code, held.status_code, with_hold.status_code) == (201, 201, 201)
    assert True not in engine_loads


@on_postgresql
def test_a_stale_key_is_never_used(
    api_as, patient, service, doctor, clinic_a, tomorrow_a, engine_loads
):
    # A process that believes the service has another primary key (it cannot happen for a
    # public id, but nothing may depend on it): the rows read ahead are not for this service.
    selectors._KNOWN_IDS[(type(service), service.public_id)] = service.pk + 1000
    selectors._KNOWN_IDS[(type(doctor), doctor.public_id)] = doctor.pk
    response = api_as(patient.user).post(
        URL, body(service, doctor, at(clinic_a, tomorrow_a, 10)), format="json"
    )
    assert response.status_code == 201
    assert engine_loads == [False]


def test_the_known_keys_are_bounded(monkeypatch):
    monkeypatch.setattr(selectors, "_KNOWN_IDS_MAX", 3)
    for number in range(5):
        selectors._remember_id(object, uuid.uuid4(), number)
    assert 0 < len(selectors._KNOWN_IDS) <= 3


# --- the engine's side, on every database ---------------------------------------------------


def test_rows_read_ahead_are_used_only_for_what_they_were_read_for(
    clock, clinic_a, doctor, service, patient
):
    from scheduling.choices import AppointmentChannel

    start = at(clinic_a, datetime.date(2027, 3, 2), 10)  # within the clock's booking window
    key, statements = availability.first_round_statements(
        service_id=service.pk, doctor_id=doctor.pk, start=start
    )
    assert len(statements) == 5
    nobody = availability.FirstRound(key, [[], [], [], [], []])  # "no doctor works then"
    options = {"service": service, "doctor": doctor, "start": start}
    with pytest.raises(availability.SlotUnavailable):
        availability.resolve_slot_with_quotas(**options, first_round=nobody)
    elsewhere = availability.FirstRound((*key[:3], clinic_a.pk, *key[4:]), nobody.rows)
    resolved = availability.resolve_slot_with_quotas(
        **options, first_round=elsewhere, channel=AppointmentChannel.ONLINE
    )
    assert resolved.slot.start_utc == start.astimezone(datetime.UTC)


class _PostgreSQL:
    vendor = "postgresql"


@pytest.mark.parametrize(
    ("extra", "start", "known", "reads_ahead"),
    [
        ({}, "2027-03-02T10:00:00+08:00", True, True),
        ({}, "2027-03-02T10:00:00+08:00", False, False),  # keys not learnt yet
        ({"hold": "x"}, "2027-03-02T10:00:00+08:00", True, False),
        ({}, "2027-03-02T10:00:00", True, False),  # naive
        ({}, "tomorrow", True, False),
        ({}, "2027-02-30T10:00:00+08:00", True, False),  # ISO-shaped, not a date
        ({}, "9999-12-31T23:30:00+00:00", True, False),  # its next day is past the calendar
        ({}, 20270302, True, False),
    ],
)
def test_what_is_read_ahead_on_postgresql(
    monkeypatch, service, doctor, extra, start, known, reads_ahead
):
    monkeypatch.setattr(selectors, "connection", _PostgreSQL())
    catalogue = [(type(service), service.public_id), (type(doctor), doctor.public_id)]
    if known:
        for (model, public_id), pk in zip(catalogue, (service.pk, doctor.pk), strict=True):
            selectors._remember_id(model, public_id, pk)
    ahead = selectors._first_round_ahead({"start": start, **extra}, catalogue)
    assert (ahead is not None) == reads_ahead
    if reads_ahead:
        key, statements = ahead
        assert key[1:3] == (service.pk, doctor.pk)  # what the engine checks it against
        assert len(statements) == 5


def test_nothing_is_read_ahead_off_postgresql_or_without_both_ids(service, doctor):
    catalogue = [(type(service), service.public_id), (type(doctor), doctor.public_id)]
    for (model, public_id), pk in zip(catalogue, (service.pk, doctor.pk), strict=True):
        selectors._remember_id(model, public_id, pk)
    start = "2027-03-02T10:00:00+08:00"
    if connection.vendor != "postgresql":
        assert selectors._first_round_ahead({"start": start}, catalogue) is None
    assert selectors._first_round_ahead({"start": start}, catalogue[:1]) is None


@on_postgresql
def test_reading_ahead_does_not_load_the_whole_profile(
    patient, service, doctor, clinic_a, tomorrow_a
):
    """With a token, as the benchmark and apps call: each request loads its user afresh."""
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=patient.user).key}")
    client.post(URL, body(service, doctor, at(clinic_a, tomorrow_a, 10)), format="json")
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            URL, body(service, doctor, at(clinic_a, tomorrow_a, 11)), format="json"
        )
    assert response.status_code == 201
    sql = [query["sql"] for query in ctx.captured_queries]
    assert any("FROM portal_patient t WHERE t.user_id" in text for text in sql)  # the lean read
    assert not any('"portal_patient"."last_name"' in text for text in sql)  # no full load
