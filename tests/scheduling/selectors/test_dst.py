"""Slots across DST changes (Europe/Berlin, America/New_York) and in zones without DST."""

import datetime

import pytest

from scheduling.errors import SlotUnavailable
from scheduling.models import Occupancy
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.factories import ClinicFactory, DoctorFactory, ScheduleRuleFactory

UTC = datetime.UTC


def clinic_in(zone):
    return ClinicFactory(timezone=zone)


def night_doctor(clinic, service, day, start, end):
    doc = DoctorFactory(services=[service])
    ScheduleRuleFactory(
        doctor=doc, clinic=clinic, weekday=day.weekday(), start_time=start, end_time=end
    )
    return doc


def labels(slots):
    return [s.start.strftime("%H:%M%z") for s in slots]


CASES = [
    # zone, day, window, expected local starts with offsets
    (
        "Europe/Berlin",
        datetime.date(2027, 3, 28),
        (datetime.time(1), datetime.time(4)),
        ["01:00+0100", "01:30+0100", "03:00+0200", "03:30+0200"],
    ),
    (
        "Europe/Berlin",
        datetime.date(2027, 10, 31),
        (datetime.time(1), datetime.time(4)),
        [
            "01:00+0200",
            "01:30+0200",
            "02:00+0200",
            "02:30+0200",
            "02:00+0100",
            "02:30+0100",
            "03:00+0100",
            "03:30+0100",
        ],
    ),
    (
        "America/New_York",
        datetime.date(2027, 3, 14),
        (datetime.time(1), datetime.time(4)),
        ["01:00-0500", "01:30-0500", "03:00-0400", "03:30-0400"],
    ),
    (
        "America/New_York",
        datetime.date(2027, 11, 7),
        (datetime.time(0), datetime.time(3)),
        [
            "00:00-0400",
            "00:30-0400",
            "01:00-0400",
            "01:30-0400",
            "01:00-0500",
            "01:30-0500",
            "02:00-0500",
            "02:30-0500",
        ],
    ),
    # Clocks that change at midnight: the fold ends the day, the gap starts the next one.
    (
        "America/Santiago",
        datetime.date(2027, 4, 3),
        (datetime.time(22), datetime.time(23, 59)),
        ["22:00-0300", "22:30-0300", "23:00-0300", "23:30-0300", "23:00-0400"],
    ),
    (
        "America/Santiago",
        datetime.date(2027, 4, 4),
        (datetime.time(22), datetime.time(23, 59)),
        ["22:00-0400", "22:30-0400", "23:00-0400"],
    ),
    (
        "America/Santiago",
        datetime.date(2027, 9, 4),
        (datetime.time(23), datetime.time(23, 59)),
        ["23:00-0400"],
    ),
    (
        "America/Santiago",
        datetime.date(2027, 9, 5),
        (datetime.time(0), datetime.time(2)),
        ["01:00-0300", "01:30-0300"],
    ),
]


@pytest.mark.parametrize(("zone", "day", "window", "expected"), CASES)
def test_slots_skip_gaps_and_double_folds(db, service, zone, day, window, expected):
    clinic = clinic_in(zone)
    doc = night_doctor(clinic, service, day, *window)
    now = datetime.datetime.combine(day, datetime.time(), tzinfo=UTC) - datetime.timedelta(days=3)
    slots = free_slots(service=service, doctor=doc, start_date=day, end_date=day, now=now)
    assert labels(slots) == expected
    instants = [s.start.astimezone(UTC) for s in slots]
    assert instants == sorted(set(instants)), "every slot is a distinct real instant"
    for slot in slots:
        # Real elapsed time (same-zone subtraction in Python would give wall-clock time).
        length = slot.end.astimezone(UTC) - slot.start.astimezone(UTC)
        assert length == datetime.timedelta(minutes=30)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_the_same_wall_clock_hour_moves_in_utc_across_the_change(db, service, zone):
    clinic = clinic_in(zone)
    doc = DoctorFactory(services=[service])
    for weekday in range(7):
        ScheduleRuleFactory(doctor=doc, clinic=clinic, weekday=weekday)
    before, after = datetime.date(2027, 3, 1), datetime.date(2027, 4, 5)
    now = datetime.datetime(2027, 2, 20, tzinfo=UTC)
    first = [
        free_slots(service=service, doctor=doc, start_date=d, end_date=d, now=now)[0]
        for d in (before, after)
    ]
    assert [s.start.hour for s in first] == [9, 9]
    utc_hours = [s.start.astimezone(UTC).hour for s in first]
    assert utc_hours[0] - utc_hours[1] == 1


def test_zones_without_dst_keep_their_offsets(clinic_a, clinic_b, service):
    doc = DoctorFactory(services=[service])
    day = datetime.date(2027, 3, 28)
    for clinic in (clinic_a, clinic_b):
        ScheduleRuleFactory(
            doctor=doc,
            clinic=clinic,
            weekday=day.weekday(),
            start_time=datetime.time(9) if clinic == clinic_a else datetime.time(15),
            end_time=datetime.time(10) if clinic == clinic_a else datetime.time(16),
        )
    now = datetime.datetime(2027, 3, 20, tzinfo=UTC)
    slots = free_slots(service=service, doctor=doc, start_date=day, end_date=day, now=now)
    assert [(s.clinic_id, s.start.strftime("%H:%M%z")) for s in slots] == [
        (clinic_a.pk, "09:00+0800"),
        (clinic_a.pk, "09:30+0800"),
        (clinic_b.pk, "15:00+0300"),
        (clinic_b.pk, "15:30+0300"),
    ]
    assert slots[0].start.astimezone(UTC).hour == 1
    assert slots[2].start.astimezone(UTC).hour == 12


def test_booking_a_time_in_the_gap_is_refused_and_the_fold_books_by_instant(
    clock, service, patient
):
    clinic = clinic_in("Europe/Berlin")
    day = datetime.date(2027, 10, 31)
    doc = night_doctor(clinic, service, day, datetime.time(1), datetime.time(4))
    clock.now = datetime.datetime(2027, 10, 25, tzinfo=UTC)
    berlin = clinic.tz
    second_two = datetime.datetime(2027, 10, 31, 2, 0, tzinfo=berlin, fold=1)
    appointment = appointment_book(
        patient=patient,
        doctor=doc,
        service=service,
        start=second_two,
        channel="online",
        actor=patient.user,
    )
    assert appointment.starts_at == datetime.datetime(2027, 10, 31, 1, 0, tzinfo=UTC)
    first_two = datetime.datetime(2027, 10, 31, 2, 0, tzinfo=berlin, fold=0)
    appointment_book(
        patient=patient,
        doctor=doc,
        service=service,
        start=first_two,
        channel="online",
        actor=patient.user,
    )
    assert Occupancy.objects.filter(resource_kind="d").count() == 2

    spring = clinic_in("Europe/Berlin")
    spring_day = datetime.date(2027, 3, 28)
    spring_doc = night_doctor(spring, service, spring_day, datetime.time(1), datetime.time(4))
    clock.now = datetime.datetime(2027, 3, 20, tzinfo=UTC)
    in_gap = datetime.datetime(2027, 3, 28, 2, 30, tzinfo=berlin)
    with pytest.raises(SlotUnavailable) as err:
        appointment_book(
            patient=patient,
            doctor=spring_doc,
            service=service,
            start=in_gap,
            channel="online",
            actor=patient.user,
        )
    assert err.value.code == "dst_gap"
