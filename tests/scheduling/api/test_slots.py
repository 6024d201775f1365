"""GET /api/v1/slots/: filters, clinic-local dates, 62-day limit, offsets, fixed query count."""

import datetime

import pytest

from scheduling.models import Room
from tests.scheduling.api.conftest import at

pytestmark = pytest.mark.django_db
URL = "/api/v1/slots/"


def test_anonymous_gets_a_days_slots_with_offsets(api, service, doctor, clinic_a, tomorrow_a):
    day = tomorrow_a.isoformat()
    response = api.get(URL, {"service": str(service.public_id), "start": day, "end": day})
    assert response.status_code == 200
    slots = response.json()
    assert len(slots) == 8  # 09:00–13:00 in 30-minute steps
    first = slots[0]
    assert first["start"] == f"{day}T09:00:00+08:00"
    assert first["end"] == f"{day}T09:30:00+08:00"
    assert first["doctor"] == str(doctor.public_id)
    assert first["clinic"] == str(clinic_a.public_id)
    assert first["service"] == str(service.public_id)
    assert first["price"] == "2500.00"
    assert first["room"] is None
    assert set(first) == {"id", "start", "end", "doctor", "clinic", "room", "service", "price"}
    assert len({s["id"] for s in slots}) == 8


def test_each_clinic_answers_in_its_own_offset(api, service, doctor, doctor_b, tomorrow_a):
    day = tomorrow_a.isoformat()
    slots = api.get(URL, {"service": str(service.public_id), "start": day, "end": day}).json()
    offsets = {s["start"][-6:] for s in slots}
    assert offsets == {"+08:00", "+03:00"}


def test_slots_filter_by_doctor_and_clinic(api, service, doctor, doctor_b, clinic_b, tomorrow_a):
    day = tomorrow_a.isoformat()
    base = {"service": str(service.public_id), "start": day, "end": day}
    by_doctor = api.get(URL, {**base, "doctor": str(doctor_b.public_id)}).json()
    assert {s["doctor"] for s in by_doctor} == {str(doctor_b.public_id)}
    by_clinic = api.get(URL, {**base, "clinic": str(clinic_b.public_id)}).json()
    assert {s["clinic"] for s in by_clinic} == {str(clinic_b.public_id)}


def test_a_room_is_named_by_its_public_id(api, service, doctor, clinic_a, tomorrow_a):
    room = Room.objects.create(clinic=clinic_a, name="101", kind="consultation")
    doctor.schedule_rules.update(room=room)
    day = tomorrow_a.isoformat()
    slots = api.get(URL, {"service": str(service.public_id), "start": day, "end": day}).json()
    assert {s["room"] for s in slots} == {str(room.public_id)}


def test_a_room_from_the_services_room_pool_is_named_by_its_public_id(
    api, service, doctor, clinic_a, tomorrow_a
):
    service.room_kind = "ultrasound"
    service.save(update_fields=["room_kind"])
    room = Room.objects.create(clinic=clinic_a, name="U1", kind="ultrasound")
    day = tomorrow_a.isoformat()
    slots = api.get(URL, {"service": str(service.public_id), "start": day, "end": day}).json()
    assert len(slots) == 8
    assert {s["room"] for s in slots} == {str(room.public_id)}


def test_the_end_date_is_inclusive(api, service, doctor, tomorrow_a):
    start, end = tomorrow_a, tomorrow_a + datetime.timedelta(days=1)
    slots = api.get(
        URL, {"service": str(service.public_id), "start": start.isoformat(), "end": end.isoformat()}
    ).json()
    assert len(slots) == 16


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"service": None}, "service"),
        ({"service": "nope"}, "service"),
        ({"start": "2026-13-01"}, "start"),
        ({"start": "01.02.2026"}, "start"),
        ({"end": "tomorrow"}, "end"),
        ({"channel": "fax"}, "channel"),
        ({"doctor": "x"}, "doctor"),
    ],
)
def test_malformed_input_is_400_naming_the_field(api, service, params, field):
    query = {"service": str(service.public_id), **params}
    response = api.get(URL, {k: v for k, v in query.items() if v is not None})
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_more_than_62_days_is_400(api, service, tomorrow_a):
    start = tomorrow_a
    end = start + datetime.timedelta(days=62)
    response = api.get(
        URL, {"service": str(service.public_id), "start": start.isoformat(), "end": end.isoformat()}
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:medfront:problem:invalid-range"
    assert "62" in response.json()["detail"]


def test_an_end_before_the_start_is_400(api, service, tomorrow_a):
    response = api.get(
        URL,
        {
            "service": str(service.public_id),
            "start": tomorrow_a.isoformat(),
            "end": (tomorrow_a - datetime.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 400


@pytest.mark.parametrize("name", ["service", "doctor", "clinic", "specialty"])
def test_unknown_ids_are_404(api, service, name):
    unknown = "00000000-0000-0000-0000-000000000000"
    query = {"service": str(service.public_id), name: unknown}
    assert api.get(URL, query).status_code == 404


def test_past_days_have_no_slots(api, service, doctor, tomorrow_a):
    day = (tomorrow_a - datetime.timedelta(days=3)).isoformat()
    assert api.get(URL, {"service": str(service.public_id), "start": day, "end": day}).json() == []


@pytest.mark.parametrize("days", [1, 30])
def test_the_query_count_does_not_grow_with_the_range(
    api, service, doctor, doctor_b, tomorrow_a, clinic_a, days, django_assert_max_num_queries
):
    room = Room.objects.create(clinic=clinic_a, name="101", kind="consultation")
    doctor.schedule_rules.update(room=room)
    end = tomorrow_a + datetime.timedelta(days=days - 1)
    # The service, then the engine's statements (in two round trips on PostgreSQL).
    with django_assert_max_num_queries(9):
        response = api.get(
            URL,
            {
                "service": str(service.public_id),
                "start": tomorrow_a.isoformat(),
                "end": end.isoformat(),
            },
        )
    assert len(response.json()) == days * 16


def _next_march_dst_sunday(tz) -> datetime.date:
    today = datetime.datetime.now(tz).date()
    year = today.year if today < datetime.date(today.year, 3, 20) else today.year + 1
    day = datetime.date(year, 3, 31)
    while day.weekday() != 6:
        day -= datetime.timedelta(days=1)
    return day


def test_offsets_follow_a_dst_change_in_the_clinics_zone(api, specialty, db):
    from scheduling.models import BookingPolicy
    from tests.factories import ClinicFactory
    from tests.scheduling.api.builders import make_doctor, make_rule, make_service

    berlin = ClinicFactory(timezone="Europe/Berlin", city="Berlin")
    BookingPolicy.objects.create(clinic=berlin, horizon_days=500)
    service = make_service(specialty=specialty)
    doc = make_doctor(service=service, clinics=[berlin])
    for weekday in range(7):
        make_rule(doctor=doc, clinic=berlin, weekday=weekday)
    sunday = _next_march_dst_sunday(berlin.tz)
    saturday, monday = sunday - datetime.timedelta(days=1), sunday + datetime.timedelta(days=1)
    slots = api.get(
        URL,
        {
            "service": str(service.public_id),
            "start": saturday.isoformat(),
            "end": monday.isoformat(),
        },
    ).json()
    starts = [s["start"] for s in slots]
    assert f"{saturday}T09:00:00+01:00" in starts
    assert f"{monday}T09:00:00+02:00" in starts
    assert len(starts) == 24
    assert at(berlin, monday, 9).isoformat() == f"{monday}T09:00:00+02:00"
