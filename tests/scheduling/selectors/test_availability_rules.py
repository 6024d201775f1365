"""Free-slot rules that take more than one doctor, day, clinic or channel to show."""

import datetime
import zoneinfo

import pytest

from scheduling.choices import AppointmentChannel, ExceptionKind
from scheduling.errors import InvalidInput, OutsideBookingWindow, QuotaExceeded, SlotTaken
from scheduling.models import Quota, QuotaCounter, ScheduleException
from scheduling.selectors.availability import free_slots, resolve_slot
from scheduling.services.booking import appointment_book, appointment_reschedule
from tests.factories import (
    ClinicFactory,
    DoctorFactory,
    EquipmentFactory,
    EquipmentTypeFactory,
    PatientFactory,
    RoomFactory,
    ServiceFactory,
    make_weekly_schedule,
)
from tests.scheduling.conftest import local

TUE = datetime.date(2027, 3, 2)
WED = datetime.date(2027, 3, 3)
ALL_DAY = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30"]


def starts(slots, clinic, *, doctor=None, day=None):
    return [
        s.start.astimezone(clinic.tz).strftime("%H:%M")
        for s in slots
        if (doctor is None or s.doctor_id == doctor.pk)
        and (day is None or s.start.astimezone(clinic.tz).date() == day)
    ]


def desk_booking(doctor, service, start, actor, *, channel=AppointmentChannel.PHONE):
    return appointment_book(
        patient=PatientFactory(),
        doctor=doctor,
        service=service,
        start=start,
        channel=channel,
        actor=actor,
    )


@pytest.fixture
def colleague(clinic_a, service):
    """A second doctor with the same hours in clinic A."""
    doc = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doc, clinic_a)
    return doc


# --- Input and empty results ---------------------------------------------------------------------


def test_an_unknown_channel_is_refused(clock, doctor, service):
    with pytest.raises(InvalidInput) as err:
        free_slots(service=service, doctor=doctor, channel="fax", start_date=TUE, end_date=TUE)
    assert err.value.code == "invalid_channel"


@pytest.mark.parametrize(
    "day", ["9999-12-31", datetime.date.max, "9999-12-29", "0001-01-01", datetime.date.min]
)
def test_the_calendars_first_and_last_days_are_refused_not_a_crash(clock, doctor, service, day):
    """The engine pads a range by days on either side, which the calendar's ends do not have
    (a slot query for 9999-12-31 was a 500)."""
    with pytest.raises(InvalidInput) as err:
        free_slots(service=service, doctor=doctor, start_date=day, end_date=day)
    assert err.value.code == "invalid_date"
    with pytest.raises(InvalidInput):
        free_slots(service=service, doctor=doctor, start_date=TUE, end_date=day)


@pytest.mark.parametrize(
    "start",
    [
        datetime.datetime(9999, 12, 29, 10, tzinfo=datetime.UTC),
        # Its UTC instant is past the last representable date.
        datetime.datetime(9999, 12, 31, 23, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
    ],
)
def test_a_start_in_the_calendars_last_days_is_beyond_the_horizon(clock, doctor, service, start):
    with pytest.raises(OutsideBookingWindow) as err:
        resolve_slot(service=service, doctor=doctor, start=start)
    assert err.value.code == "beyond_horizon"


def test_a_doctor_without_hours_in_an_active_clinic_has_no_slots(clock, service):
    unscheduled = DoctorFactory(services=[service])
    closed = ClinicFactory(is_active=False)
    make_weekly_schedule(unscheduled, closed)
    assert free_slots(service=service, doctor=unscheduled, start_date=TUE, end_date=WED) == []


# --- Breaks, absences and extra hours ------------------------------------------------------------


def test_a_partial_absence_cuts_only_the_window_it_overlaps(clock, clinic_a, service):
    doc = DoctorFactory(services=[service])
    make_weekly_schedule(doc, clinic_a, breaks=[["10:00", "11:00"]])
    # From 12:00 to past the end of the day: the morning window stays whole.
    ScheduleException.objects.create(
        doctor=doc,
        clinic=clinic_a,
        kind=ExceptionKind.DAY_OFF,
        date_from=TUE,
        date_to=TUE,
        start_time=datetime.time(12),
        end_time=datetime.time(14),
    )
    slots = free_slots(service=service, doctor=doc, start_date=TUE, end_date=TUE)
    assert starts(slots, clinic_a) == ["09:00", "09:30", "11:00", "11:30"]


def test_an_absence_removes_only_its_own_days_and_doctor(clock, clinic_a, doctor, colleague):
    service = doctor.services.get()
    ScheduleException.objects.create(
        doctor=doctor, kind=ExceptionKind.SICK_LEAVE, date_from=TUE, date_to=TUE
    )
    slots = free_slots(service=service, start_date=TUE, end_date=WED)
    assert starts(slots, clinic_a, doctor=doctor, day=TUE) == []
    assert starts(slots, clinic_a, doctor=doctor, day=WED) == ALL_DAY
    assert starts(slots, clinic_a, doctor=colleague, day=TUE) == ALL_DAY


def test_an_absence_in_one_clinic_leaves_the_doctors_hours_in_another(
    clock, clinic_a, clinic_b, doctor, service
):
    make_weekly_schedule(doctor, clinic_b, start=datetime.time(15), end=datetime.time(16))
    ScheduleException.objects.create(
        doctor=doctor, clinic=clinic_b, kind=ExceptionKind.DAY_OFF, date_from=TUE, date_to=TUE
    )
    slots = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)
    assert {s.clinic_id for s in slots} == {clinic_a.pk}
    assert starts(slots, clinic_a) == ALL_DAY


def test_extra_hours_apply_only_on_their_days(clock, clinic_a, doctor, service):
    ScheduleException.objects.create(
        doctor=doctor,
        clinic=clinic_a,
        kind=ExceptionKind.EXTRA_HOURS,
        date_from=WED,
        date_to=WED,
        start_time=datetime.time(18),
        end_time=datetime.time(19),
    )
    slots = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=WED)
    assert starts(slots, clinic_a, day=TUE) == ALL_DAY
    assert starts(slots, clinic_a, day=WED) == [*ALL_DAY, "18:00", "18:30"]


# --- Quotas --------------------------------------------------------------------------------------


def test_a_full_quota_of_one_doctor_leaves_the_others_slots(clock, clinic_a, doctor, colleague):
    service = doctor.services.get()
    quota = Quota.objects.create(clinic=clinic_a, doctor=colleague, channel="online", limit=1)
    QuotaCounter.objects.create(quota=quota, date=TUE, used=1)
    slots = free_slots(service=service, start_date=TUE, end_date=TUE)
    assert starts(slots, clinic_a, doctor=doctor) == ALL_DAY
    assert starts(slots, clinic_a, doctor=colleague) == []


def test_walk_ins_ignore_quotas(clock, clinic_a, doctor, service):
    for channel in ("online", "phone"):
        quota = Quota.objects.create(clinic=clinic_a, channel=channel, limit=1)
        QuotaCounter.objects.create(quota=quota, date=TUE, used=1)
    assert free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE) == []
    walk_in = free_slots(
        service=service,
        doctor=doctor,
        channel=AppointmentChannel.WALK_IN,
        start_date=TUE,
        end_date=TUE,
    )
    assert starts(walk_in, clinic_a) == ALL_DAY


def test_a_moved_appointment_credits_only_its_own_channels_quota(
    clock, clinic_a, doctor, service, patient, registrar_a
):
    online = Quota.objects.create(clinic=clinic_a, doctor=doctor, channel="online", limit=1)
    phone = Quota.objects.create(clinic=clinic_a, doctor=doctor, channel="phone", limit=1)
    appointment = appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 2, 9),
        channel="online",
        actor=patient.user,
    )
    QuotaCounter.objects.create(quota=phone, date=TUE, used=1)
    assert QuotaCounter.objects.get(quota=online, date=TUE).used == 1
    ten = local(clinic_a, 2027, 3, 2, 10)
    # Its own online count makes room for itself on its day...
    slot = resolve_slot(service=service, doctor=doctor, start=ten, ignore_appointment=appointment)
    assert slot.start == ten
    # ...but does not free a place in the phone quota.
    with pytest.raises(QuotaExceeded):
        resolve_slot(
            service=service,
            doctor=doctor,
            start=ten,
            channel=AppointmentChannel.PHONE,
            ignore_appointment=appointment,
        )


def test_a_move_from_another_day_gets_no_credit_on_the_target_day(
    clock, clinic_a, doctor, service, patient, registrar_a
):
    Quota.objects.create(clinic=clinic_a, doctor=doctor, channel="online", limit=1)
    friday = local(clinic_a, 2027, 3, 5, 9)
    appointment = appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=friday,
        channel="online",
        actor=patient.user,
    )
    desk_booking(doctor, service, local(clinic_a, 2027, 3, 2, 9), registrar_a, channel="online")
    with pytest.raises(QuotaExceeded):
        appointment_reschedule(
            appointment=appointment, start=local(clinic_a, 2027, 3, 2, 10), actor=registrar_a
        )
    appointment.refresh_from_db()
    assert appointment.starts_at == friday


def test_a_move_to_another_doctor_gets_no_credit_in_that_doctors_quota(
    clock, clinic_a, doctor, colleague, service, patient, registrar_a
):
    quota = Quota.objects.create(clinic=clinic_a, doctor=colleague, channel="online", limit=1)
    appointment = appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 2, 9),
        channel="online",
        actor=patient.user,
    )
    QuotaCounter.objects.create(quota=quota, date=TUE, used=1)
    with pytest.raises(QuotaExceeded):
        appointment_reschedule(
            appointment=appointment,
            doctor=colleague,
            start=local(clinic_a, 2027, 3, 2, 10),
            actor=registrar_a,
        )
    appointment.refresh_from_db()
    assert appointment.doctor == doctor


# --- Rooms and equipment -------------------------------------------------------------------------


def test_a_scheduled_room_taken_by_a_colleague_is_no_slot(clock, clinic_a, service, registrar_a):
    room = RoomFactory(clinic=clinic_a)
    first, second = (DoctorFactory(services=[service]) for _ in range(2))
    for doc in (first, second):
        make_weekly_schedule(doc, clinic_a, room=room)
    nine = local(clinic_a, 2027, 3, 2, 9)
    desk_booking(first, service, nine, registrar_a)
    slots = free_slots(service=service, doctor=second, start_date=TUE, end_date=TUE)
    assert starts(slots, clinic_a) == ALL_DAY[1:]
    with pytest.raises(SlotTaken) as err:
        resolve_slot(service=service, doctor=second, start=nine)
    assert err.value.code == "room_taken"


def test_equipment_in_use_is_no_slot_until_a_second_item_exists(
    clock, clinic_a, doctor, colleague, registrar_a
):
    ecg = EquipmentTypeFactory(slug="ecg")
    service = ServiceFactory()
    service.equipment_types.add(ecg)
    doctor.services.add(service)
    colleague.services.add(service)
    first_item = EquipmentFactory(clinic=clinic_a, type=ecg)
    nine = local(clinic_a, 2027, 3, 2, 9)
    desk_booking(doctor, service, nine, registrar_a)
    with pytest.raises(SlotTaken) as err:
        resolve_slot(service=service, doctor=colleague, start=nine)
    assert err.value.code == "equipment_taken"
    second_item = EquipmentFactory(clinic=clinic_a, type=ecg)
    slot = resolve_slot(service=service, doctor=colleague, start=nine)
    assert slot.equipment_ids == (second_item.pk,)
    assert first_item.pk != second_item.pk


# --- Resolving one start reads what is taken over the visit and its buffer ----------------------


def test_a_long_buffer_is_checked_against_what_lies_in_it(clock, clinic_a, service, registrar_a):
    """Resolving reads the occupancy over the candidate visit through its buffer, however long:
    a visit the next morning still refuses a start whose buffer reaches it."""
    long_buffer = 21 * 60  # minutes: from 12:30 on Tuesday into Wednesday morning
    doc = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doc, clinic_a, buffer_minutes=long_buffer)
    desk_booking(doc, service, local(clinic_a, 2027, 3, 3, 9), registrar_a)  # Wednesday 09:00
    with pytest.raises(SlotTaken):
        resolve_slot(service=service, doctor=doc, start=local(clinic_a, 2027, 3, 2, 12, 30))
    # 11:30's buffer ends at 09:00 on Wednesday, just as the visit begins: still a slot.
    slot = resolve_slot(service=service, doctor=doc, start=local(clinic_a, 2027, 3, 2, 11, 30))
    assert slot.start == local(clinic_a, 2027, 3, 2, 11, 30)
    booked = desk_booking(doc, service, local(clinic_a, 2027, 3, 2, 11, 30), registrar_a)
    assert (booked.clinic, booked.starts_at) == (clinic_a, local(clinic_a, 2027, 3, 2, 11, 30))


def test_a_visit_inside_the_window_refuses_the_start_at_once(
    clock, clinic_a, service, doctor, registrar_a
):
    desk_booking(doctor, service, local(clinic_a, 2027, 3, 2, 10), registrar_a)
    with pytest.raises(SlotTaken):
        resolve_slot(service=service, doctor=doctor, start=local(clinic_a, 2027, 3, 2, 10))
