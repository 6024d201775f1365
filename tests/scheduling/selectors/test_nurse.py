"""The head nurse's reads: the quota calendar and the load of rooms and equipment, their
figures on a known schedule and their query counts, which do not grow with the clinic."""

import datetime

import pytest

from scheduling.models import Quota, QuotaCounter, ResourceClosure, ScheduleException
from scheduling.selectors.nurse import (
    MONTH,
    WEEK,
    _minutes_by_day,
    clinic_open_minutes,
    period_of,
    quota_calendar,
    quota_cell,
    resource_load,
)
from scheduling.services.booking import appointment_book
from tests.factories import (
    DoctorFactory,
    EquipmentFactory,
    EquipmentTypeFactory,
    PatientFactory,
    RoomFactory,
    ScheduleRuleFactory,
    ServiceFactory,
    make_weekly_schedule,
)
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
MON = datetime.date(2027, 3, 1)
TUE = datetime.date(2027, 3, 2)
WEEK_OF_MARCH_1 = period_of(TUE, WEEK)


def test_periods_are_weeks_from_monday_and_calendar_months():
    week = period_of(datetime.date(2027, 3, 4), WEEK)
    assert (week.first, week.last, len(week.days)) == (MON, datetime.date(2027, 3, 7), 7)
    assert (week.previous, week.next) == (datetime.date(2027, 2, 28), datetime.date(2027, 3, 8))
    month = period_of(datetime.date(2027, 2, 14), MONTH)
    assert (month.first, month.last) == (datetime.date(2027, 2, 1), datetime.date(2027, 2, 28))
    december = period_of(datetime.date(2027, 12, 31), MONTH)
    assert december.last == datetime.date(2027, 12, 31)


def test_the_calendar_shows_limits_counts_and_day_limits(clinic_a, clinic_b, doctor, service):
    phone = Quota.objects.create(clinic=clinic_a, channel="phone", limit=2)
    online = Quota.objects.create(clinic=clinic_a, doctor=doctor, channel="online", limit=3)
    Quota.objects.create(clinic=clinic_b, channel="online", limit=9)
    QuotaCounter.objects.create(quota=online, date=TUE, used=3)
    QuotaCounter.objects.create(quota=online, date=MON, used=1, day_limit=5)
    calendar = quota_calendar(clinic=clinic_a, period=WEEK_OF_MARCH_1, today=TUE)
    assert [row.quota for row in calendar.rows] == [online, phone]
    monday, tuesday, wednesday = calendar.rows[0].cells[:3]
    assert (monday.used, monday.limit, monday.own_limit, monday.past) == (1, 5, True, True)
    assert (tuesday.used, tuesday.limit, tuesday.full, tuesday.past) == (3, 3, True, False)
    assert (wednesday.used, wednesday.limit, wednesday.full) == (0, 3, False)
    assert quota_cell(quota=online, day=MON, today=TUE) == monday
    assert quota_cell(quota=phone, day=TUE, today=TUE) == calendar.rows[1].cells[1]


def test_the_calendar_reads_in_two_queries_whatever_the_quotas(
    clinic_a, doctor, service, django_assert_num_queries
):
    Quota.objects.create(clinic=clinic_a, doctor=doctor, channel="online", limit=3)
    with django_assert_num_queries(2):
        quota_calendar(clinic=clinic_a, period=period_of(TUE, MONTH), today=TUE)
    for channel in ("phone", "referral"):
        quota = Quota.objects.create(
            clinic=clinic_a, doctor=doctor, service=service, channel=channel, limit=1
        )
        QuotaCounter.objects.create(quota=quota, date=TUE, used=1)
    with django_assert_num_queries(2):
        calendar = quota_calendar(clinic=clinic_a, period=period_of(TUE, MONTH), today=TUE)
    assert len(calendar.rows) == 3


@pytest.fixture
def scan(clinic_a):
    service = ServiceFactory(room_kind="ultrasound", duration_minutes=30)
    probe = EquipmentTypeFactory(name="Датчик")
    service.equipment_types.add(probe)
    doctor = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doctor, clinic_a)  # 09:00–13:00 every day
    room = RoomFactory(clinic=clinic_a, kind="ultrasound", name="УЗИ-1")
    item = EquipmentFactory(clinic=clinic_a, type=probe, name="Датчик-1")
    return service, doctor, room, item


def book(service, doctor, start):
    return appointment_book(
        patient=PatientFactory(),
        doctor=doctor,
        service=service,
        start=start,
        channel="phone",
        actor=None,
    )


def test_open_minutes_are_the_union_of_the_doctors_windows(clock, clinic_a, clinic_b, scan):
    _service, doctor, _room, _item = scan
    # A second doctor works 12:00–15:00 on Tuesdays only: Tuesday is open 09:00–15:00.
    ScheduleRuleFactory(
        doctor=DoctorFactory(clinics=[clinic_a]),
        clinic=clinic_a,
        weekday=1,
        start_time=datetime.time(12),
        end_time=datetime.time(15),
    )
    # The first is away on Wednesday; elsewhere, hours in another clinic do not count.
    ScheduleException.objects.create(
        doctor=doctor,
        kind="day_off",
        date_from=MON + datetime.timedelta(days=2),
        date_to=MON + datetime.timedelta(days=2),
    )
    make_weekly_schedule(DoctorFactory(clinics=[clinic_b]), clinic_b, end=datetime.time(20))
    minutes = clinic_open_minutes(clinic=clinic_a, first=MON, last=MON + datetime.timedelta(6))
    assert minutes == [240, 360, 0, 240, 240, 240, 240]


def test_load_is_booked_minutes_over_open_minutes(clock, clinic_a, scan):
    service, doctor, room, item = scan
    spare = RoomFactory(clinic=clinic_a, kind="ultrasound", name="УЗИ-2")
    RoomFactory(clinic=clinic_a, name="Старый", is_active=False)
    book(service, doctor, local(clinic_a, 2027, 3, 2, 10))
    book(service, doctor, local(clinic_a, 2027, 3, 2, 11))
    ResourceClosure.objects.create(
        clinic=clinic_a,
        room=spare,
        starts_at=local(clinic_a, 2027, 3, 3, 9),
        ends_at=local(clinic_a, 2027, 3, 3, 10),
        reason="Уборка",
        created_at=clock.now,
    )
    load = resource_load(clinic=clinic_a, period=WEEK_OF_MARCH_1)
    assert load.open_minutes == [240] * 7
    assert [row.resource for row in load.rows] == [room, spare, item]
    room_row, spare_row, item_row = load.rows
    tuesday = room_row.cells[1]
    assert (tuesday.booked_minutes, tuesday.open_minutes, tuesday.percent) == (60, 240, 25)
    assert room_row.cells[0].percent == 0
    assert (room_row.week.booked_minutes, room_row.week.open_minutes) == (60, 1680)
    assert room_row.week.percent == 4
    assert item_row.cells[1].percent == 25
    assert spare_row.cells[1].percent == 0
    assert [cell.closed for cell in spare_row.cells] == [False, False, True] + [False] * 4
    assert spare_row.week.closed and not room_row.week.closed


def test_a_visit_across_midnight_counts_on_each_day_and_closed_days_have_no_load(clock, clinic_a):
    room = RoomFactory(clinic=clinic_a, kind="procedure")
    period = period_of(TUE, WEEK)
    load = resource_load(clinic=clinic_a, period=period)
    assert load.rows[0].cells[1].percent is None
    assert load.rows[0].week.percent is None
    bounds = [local(clinic_a, 2027, 3, d, 0) for d in (1, 2, 3)]
    start, end = local(clinic_a, 2027, 3, 1, 23), local(clinic_a, 2027, 3, 2, 1)
    assert _minutes_by_day(start, end, bounds) == [60, 60]
    assert room.closures.count() == 0


def test_load_reads_in_eight_queries_whatever_the_rooms_devices_and_visits(
    clock, clinic_a, scan, django_assert_num_queries
):
    service, doctor, _room, _item = scan
    with django_assert_num_queries(8):
        resource_load(clinic=clinic_a, period=WEEK_OF_MARCH_1)
    for n in range(3):
        RoomFactory(clinic=clinic_a, kind="ultrasound", name=f"УЗИ-{n + 3}")
        EquipmentFactory(clinic=clinic_a, type=service.equipment_types.get())
        make_weekly_schedule(DoctorFactory(services=[service], clinics=[clinic_a]), clinic_a)
    for hour in (9, 10, 11, 12):
        book(service, doctor, local(clinic_a, 2027, 3, 2, hour))
    with django_assert_num_queries(8):
        load = resource_load(clinic=clinic_a, period=WEEK_OF_MARCH_1)
    assert len(load.rows) == 8
