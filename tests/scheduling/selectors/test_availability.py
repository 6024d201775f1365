import datetime

import pytest

from scheduling.choices import AppointmentChannel, BookingMode, ExceptionKind
from scheduling.errors import InvalidInput
from scheduling.models import BookingPolicy, Quota, QuotaCounter, ScheduleException, Substitution
from scheduling.selectors.availability import MAX_RANGE_DAYS, Slot, free_slots, working_hours
from scheduling.slot_ids import parse_slot_id
from tests.factories import (
    DoctorFactory,
    EquipmentFactory,
    EquipmentTypeFactory,
    RoomFactory,
    ServiceFactory,
    SpecialtyFactory,
    make_weekly_schedule,
)
from tests.scheduling.conftest import local

TUE = datetime.date(2027, 3, 2)


def starts(slots, clinic):
    return [s.start.astimezone(clinic.tz).strftime("%H:%M") for s in slots]


def test_it_offers_every_step_of_the_working_window(clock, clinic_a, doctor, service):
    slots = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)
    assert starts(slots, clinic_a) == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
        "12:00",
        "12:30",
    ]
    first = slots[0]
    assert first.start == local(clinic_a, 2027, 3, 2, 9)
    assert first.start.utcoffset() == datetime.timedelta(hours=8)
    assert first.end - first.start == datetime.timedelta(minutes=30)
    ref = parse_slot_id(first.slot_id)
    assert (ref.doctor_public_id, ref.clinic_public_id) == (doctor.public_id, clinic_a.public_id)
    assert ref.start == first.start


def test_it_leaves_out_breaks_and_keeps_buffers(clock, clinic_a, service):
    doc = DoctorFactory(services=[service])
    make_weekly_schedule(doc, clinic_a, breaks=[["10:00", "11:00"]], buffer_minutes=15)
    slots = free_slots(service=service, doctor=doc, start_date=TUE, end_date=TUE)
    # 09:00 and 09:30 fit before the break (the buffer may run into it); none in the break.
    assert starts(slots, clinic_a) == ["09:00", "09:30", "11:00", "11:30", "12:00", "12:30"]


def test_a_slot_must_fit_the_service_duration(clock, clinic_a, doctor):
    long_service = ServiceFactory(duration_minutes=90)
    doctor.services.add(long_service)
    slots = free_slots(service=long_service, doctor=doctor, start_date=TUE, end_date=TUE)
    assert starts(slots, clinic_a)[-1] == "11:30"


def test_vacations_remove_days_and_partial_absences_remove_hours(clock, clinic_a, doctor, service):
    ScheduleException.objects.create(
        doctor=doctor, kind=ExceptionKind.VACATION, date_from=TUE, date_to=TUE
    )
    wed = TUE + datetime.timedelta(days=1)
    ScheduleException.objects.create(
        doctor=doctor,
        clinic=clinic_a,
        kind=ExceptionKind.DAY_OFF,
        date_from=wed,
        date_to=wed,
        start_time=datetime.time(9),
        end_time=datetime.time(12),
    )
    assert free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE) == []
    slots = free_slots(service=service, doctor=doctor, start_date=wed, end_date=wed)
    assert starts(slots, clinic_a) == ["12:00", "12:30"]


def test_extra_hours_add_a_window(clock, clinic_a, doctor, service):
    ScheduleException.objects.create(
        doctor=doctor,
        clinic=clinic_a,
        kind=ExceptionKind.EXTRA_HOURS,
        date_from=TUE,
        date_to=TUE,
        start_time=datetime.time(18),
        end_time=datetime.time(19),
    )
    slots = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)
    assert starts(slots, clinic_a)[-2:] == ["18:00", "18:30"]


def test_extra_hours_in_a_clinic_without_rules_are_offered_there(
    clock, clinic_a, clinic_b, doctor, service
):
    ScheduleException.objects.create(
        doctor=doctor,
        clinic=clinic_b,
        kind=ExceptionKind.EXTRA_HOURS,
        date_from=TUE,
        date_to=TUE,
        start_time=datetime.time(18),
        end_time=datetime.time(19),
    )
    slots = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)
    in_b = [s for s in slots if s.clinic_id == clinic_b.pk]
    assert starts(in_b, clinic_b) == ["18:00", "18:30"]
    assert in_b[0].clinic_public_id == clinic_b.public_id
    assert len(slots) == 10


def test_a_substitute_takes_the_absent_doctors_hours(clock, clinic_a, doctor, service):
    substitute = DoctorFactory(services=[service])
    Substitution.objects.create(
        clinic=clinic_a, date=TUE, absent_doctor=doctor, substitute=substitute
    )
    assert free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE) == []
    slots = free_slots(service=service, doctor=substitute, start_date=TUE, end_date=TUE)
    assert len(slots) == 8
    assert {s.doctor_id for s in slots} == {substitute.pk}


def test_it_searches_by_specialty_and_across_the_network(clock, clinic_a, clinic_b, doctor):
    service = doctor.services.get()
    moscow = DoctorFactory(services=[service])
    make_weekly_schedule(moscow, clinic_b)
    other = SpecialtyFactory()
    by_specialty = free_slots(
        service=service, specialty=service.specialty, start_date=TUE, end_date=TUE
    )
    assert {s.doctor_id for s in by_specialty} == {doctor.pk, moscow.pk}
    assert free_slots(service=service, specialty=other, start_date=TUE, end_date=TUE) == []
    only_b = free_slots(service=service, clinic=clinic_b, start_date=TUE, end_date=TUE)
    assert {s.clinic_id for s in only_b} == {clinic_b.pk}
    assert only_b[0].start == local(clinic_b, 2027, 3, 2, 9)


def test_a_room_of_the_required_kind_is_needed_and_allocated(clock, clinic_a, doctor):
    scan = ServiceFactory(room_kind="ultrasound")
    doctor.services.add(scan)
    assert free_slots(service=scan, doctor=doctor, start_date=TUE, end_date=TUE) == []
    room = RoomFactory(clinic=clinic_a, kind="ultrasound")
    slots = free_slots(service=scan, doctor=doctor, start_date=TUE, end_date=TUE)
    assert len(slots) == 8 and {s.room_id for s in slots} == {room.pk}


def test_required_equipment_is_allocated_per_slot(clock, clinic_a, doctor):
    ecg = EquipmentTypeFactory(slug="ecg")
    service = ServiceFactory()
    service.equipment_types.add(ecg)
    doctor.services.add(service)
    assert free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE) == []
    item = EquipmentFactory(clinic=clinic_a, type=ecg)
    slots = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)
    assert {s.equipment_ids for s in slots} == {(item.pk,)}


def test_policy_min_notice_and_horizon_apply(clock, clinic_a, doctor, service):
    BookingPolicy.objects.create(clinic=clinic_a, min_notice_minutes=120, horizon_days=1)
    monday = datetime.date(2027, 3, 1)
    # Now is 08:00 local: 120 minutes of notice leaves 10:00 as the first online slot.
    online = free_slots(service=service, doctor=doctor, start_date=monday, end_date=monday)
    assert starts(online, clinic_a)[0] == "10:00"
    phone = free_slots(
        service=service,
        doctor=doctor,
        start_date=monday,
        end_date=monday,
        channel=AppointmentChannel.PHONE,
    )
    assert starts(phone, clinic_a)[0] == "09:00"
    far = datetime.date(2027, 3, 3)
    assert free_slots(service=service, doctor=doctor, start_date=far, end_date=far) == []


def test_clinics_not_in_native_mode_offer_nothing(clock, clinic_a, doctor, service):
    BookingPolicy.objects.create(clinic=clinic_a, mode=BookingMode.REQUEST)
    assert free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE) == []


def test_request_mode_clinics_offer_their_staff_times(clock, clinic_a, doctor, service):
    """Patients leave requests there; staff confirm them (and book callers) in real slots."""
    policy = BookingPolicy.objects.create(clinic=clinic_a, mode=BookingMode.REQUEST)
    for channel in (AppointmentChannel.REQUEST, AppointmentChannel.PHONE):
        slots = free_slots(
            service=service, doctor=doctor, start_date=TUE, end_date=TUE, channel=channel
        )
        assert len(slots) == 8
    # A connector clinic's patients see the external system's slots (`connector_slots`);
    # its staff confirm requests left while that system was down in their own hours.
    policy.mode = BookingMode.CONNECTOR
    policy.save()
    staff = free_slots(
        service=service,
        doctor=doctor,
        start_date=TUE,
        end_date=TUE,
        channel=AppointmentChannel.PHONE,
    )
    assert len(staff) == 8
    assert free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE) == []


def test_an_exhausted_quota_hides_slots_until_released(clock, clinic_a, doctor, service):
    quota = Quota.objects.create(
        clinic=clinic_a, doctor=doctor, channel="online", limit=1, release_before_hours=26
    )
    QuotaCounter.objects.create(quota=quota, date=TUE, used=1)
    slots = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)
    # Now is Monday 08:00: only slots at most 26 hours away (to Tuesday 10:00) are released.
    assert starts(slots, clinic_a) == ["09:00", "09:30", "10:00"]
    phone = free_slots(
        service=service,
        doctor=doctor,
        start_date=TUE,
        end_date=TUE,
        channel=AppointmentChannel.PHONE,
    )
    assert len(phone) == 8


@pytest.mark.parametrize(
    ("start", "end"),
    [("2027-03-02", "2027-03-01"), ("2027-02-30", "2027-03-01"), ("yesterday", "2027-03-01")],
)
def test_malformed_or_backwards_ranges_are_refused(clock, doctor, service, start, end):
    with pytest.raises(InvalidInput):
        free_slots(service=service, doctor=doctor, start_date=start, end_date=end)


def test_an_over_long_range_is_refused(clock, doctor, service):
    end = TUE + datetime.timedelta(days=MAX_RANGE_DAYS)
    with pytest.raises(InvalidInput) as err:
        free_slots(service=service, doctor=doctor, start_date=TUE, end_date=end)
    assert err.value.code == "range_too_long"


def test_a_datetime_is_not_a_date(clock, doctor, service):
    with pytest.raises(InvalidInput):
        free_slots(service=service, doctor=doctor, start_date=clock.now, end_date=TUE)


def test_the_query_count_does_not_grow_with_the_range(
    clock, clinic_a, clinic_b, doctor, service, django_assert_max_num_queries
):
    for _ in range(4):
        other = DoctorFactory(services=[service])
        make_weekly_schedule(other, clinic_b)
    Quota.objects.create(clinic=clinic_a, channel="online", limit=50)
    with django_assert_max_num_queries(9) as one_day:
        free_slots(service=service, start_date=TUE, end_date=TUE)
    with django_assert_max_num_queries(9) as month:
        slots = free_slots(
            service=service, start_date=TUE, end_date=TUE + datetime.timedelta(days=29)
        )
    assert len(month.captured_queries) == len(one_day.captured_queries)
    assert len(slots) == 5 * 8 * 30


def test_the_engines_slots_equal_slots_built_the_ordinary_way(clock, doctor, service):
    slot = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)[0]
    rebuilt = Slot(**slot._asdict())
    assert slot == rebuilt
    assert hash(slot) == hash(rebuilt)
    assert repr(slot) == repr(rebuilt)


def test_an_inactive_service_has_no_slots_and_costs_no_query(
    clock, doctor, service, django_assert_num_queries
):
    service.is_active = False
    service.save(update_fields=["is_active"])
    with django_assert_num_queries(0):
        assert free_slots(service=service, start_date=TUE, end_date=TUE) == []


def test_a_doctor_who_is_inactive_or_does_not_do_the_service_has_no_slots(clock, doctor, service):
    assert free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)
    other_service = ServiceFactory()
    assert free_slots(service=other_service, doctor=doctor, start_date=TUE, end_date=TUE) == []
    doctor.is_active = False
    doctor.save(update_fields=["is_active"])
    assert free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE) == []


def test_working_hours_leave_out_days_of_absence_and_keep_what_a_partial_one_leaves(
    clinic_a, doctor
):
    wed = TUE + datetime.timedelta(days=1)
    ScheduleException.objects.create(
        doctor=doctor, kind=ExceptionKind.VACATION, date_from=TUE, date_to=TUE
    )
    ScheduleException.objects.create(
        doctor=doctor,
        clinic=clinic_a,
        kind=ExceptionKind.DAY_OFF,
        date_from=wed,
        date_to=wed,
        start_time=datetime.time(9),
        end_time=datetime.time(12),
    )
    hours = working_hours(doctor_id=doctor.pk, first=TUE - datetime.timedelta(days=1), last=wed)
    monday = TUE - datetime.timedelta(days=1)
    assert hours == {
        (clinic_a.pk, monday): [(datetime.time(9), datetime.time(13))],
        (clinic_a.pk, wed): [(datetime.time(12), datetime.time(13))],
    }
