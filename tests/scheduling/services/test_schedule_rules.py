"""The clinic's schedule services, called directly: weekly rules, exceptions and the booking
policy — what they refuse whatever page calls them, and that free slots follow at once."""

import datetime

import pytest

from portal.choices import AuditAction, Role
from portal.models import AuditEvent
from scheduling.choices import ExceptionKind, RebookReason
from scheduling.errors import InvalidInput, NotAllowed
from scheduling.models import BookingPolicy, RebookTask, ScheduleException, ScheduleRule
from scheduling.selectors.availability import free_slots
from scheduling.selectors.schedule_admin import absence_hits
from scheduling.services.booking import appointment_book
from scheduling.services.booking_policy import booking_policy_update
from scheduling.services.schedule_exceptions import (
    MAX_NOTE_LENGTH,
    schedule_exception_create,
    schedule_exception_delete,
)
from scheduling.services.schedule_rules import (
    schedule_rule_create,
    schedule_rule_delete,
    schedule_rule_update,
)
from tests.factories import (
    DoctorFactory,
    RoomFactory,
    ScheduleRuleFactory,
    ServiceFactory,
    make_staff,
)

pytestmark = pytest.mark.django_db
MON = datetime.date(2027, 3, 1)  # the clock's today
TUE = datetime.date(2027, 3, 2)
T = datetime.time


@pytest.fixture
def free_doctor(clinic_a, service):
    """A doctor of clinic A without any rule yet."""
    return DoctorFactory(services=[service], clinics=[clinic_a])


def add_rule(clinic, doctor, actor, **changes):
    values = {
        "weekday": 1,
        "start_time": T(9),
        "end_time": T(13),
        "valid_from": MON,
        **changes,
    }
    return schedule_rule_create(clinic=clinic, doctor=doctor, actor=actor, **values)


def starts(service, doctor, day=TUE):
    return [
        s.start.astimezone(doctor.clinics.first().tz).time()
        for s in free_slots(service=service, doctor=doctor, start_date=day, end_date=day)
    ]


def audits(object_type):
    return list(AuditEvent.objects.filter(object_type=object_type).order_by("pk"))


# --- Weekly rules --------------------------------------------------------------------------------


def test_a_new_rule_shows_in_free_slots_at_once_and_is_audited(
    clock, clinic_a, free_doctor, service, head_nurse_a
):
    assert starts(service, free_doctor) == []
    rule = add_rule(
        clinic_a,
        free_doctor,
        head_nurse_a,
        breaks=[(T(10), T(11))],
        slot_step_minutes=60,
        buffer_minutes=0,
    )
    assert rule.breaks == [["10:00", "11:00"]]
    assert starts(service, free_doctor) == [T(9), T(11), T(12)]
    [event] = audits("scheduling.schedulerule")
    assert event.action == AuditAction.CREATE and event.object_id == str(rule.pk)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"weekday": 7}, "weekday"),
        ({"end_time": T(9)}, "times"),
        ({"slot_step_minutes": 4}, "step"),
        ({"slot_step_minutes": 241}, "step"),
        ({"buffer_minutes": -1}, "buffer"),
        ({"buffer_minutes": 121}, "buffer"),
        ({"breaks": [(T(11), T(10))]}, "breaks"),
        ({"breaks": [(T(8), T(10))]}, "breaks"),
        ({"breaks": [(T(12), T(13))]}, "breaks"),
        ({"breaks": [(T(10), T(11)), (T(10, 30), T(11, 30))]}, "breaks"),
        ({"valid_until": MON - datetime.timedelta(days=1)}, "validity"),
    ],
)
def test_it_refuses_a_malformed_rule_and_saves_nothing(
    clinic_a, free_doctor, head_nurse_a, changes, code
):
    with pytest.raises(InvalidInput) as refused:
        add_rule(clinic_a, free_doctor, head_nurse_a, **changes)
    assert refused.value.code == code
    assert str(refused.value)
    assert not ScheduleRule.objects.filter(doctor=free_doctor).exists()


def test_breaks_in_order_inside_the_hours_are_kept_sorted(clinic_a, free_doctor, head_nurse_a):
    rule = add_rule(
        clinic_a, free_doctor, head_nurse_a, breaks=[(T(12), T(12, 15)), (T(10), T(10, 30))]
    )
    assert rule.breaks == [["10:00", "10:30"], ["12:00", "12:15"]]


def test_it_refuses_a_room_of_another_clinic(clinic_a, clinic_b, free_doctor, head_nurse_a):
    with pytest.raises(InvalidInput) as refused:
        add_rule(clinic_a, free_doctor, head_nurse_a, room=RoomFactory(clinic=clinic_b))
    assert refused.value.code == "room"
    rule = add_rule(clinic_a, free_doctor, head_nurse_a, room=RoomFactory(clinic=clinic_a))
    assert rule.room.clinic == clinic_a


def test_it_refuses_hours_overlapping_the_doctors_rule_in_any_clinic(
    clinic_a, clinic_b, free_doctor, head_nurse_a
):
    free_doctor.clinics.add(clinic_b)
    ScheduleRuleFactory(doctor=free_doctor, clinic=clinic_b, weekday=1, start_time=T(12))
    with pytest.raises(InvalidInput) as refused:
        add_rule(clinic_a, free_doctor, head_nurse_a, start_time=T(9), end_time=T(12, 30))
    assert refused.value.code == "overlap"
    assert clinic_b.name in str(refused.value) and "12:00" in str(refused.value)
    # Back to back, another weekday, or periods that do not meet: all fine.
    add_rule(clinic_a, free_doctor, head_nurse_a, start_time=T(8), end_time=T(12))
    add_rule(clinic_a, free_doctor, head_nurse_a, weekday=2, start_time=T(12))


def test_validity_periods_that_do_not_meet_may_share_hours(clinic_a, free_doctor, head_nurse_a):
    add_rule(clinic_a, free_doctor, head_nurse_a, valid_until=datetime.date(2027, 3, 31))
    later = add_rule(clinic_a, free_doctor, head_nurse_a, valid_from=datetime.date(2027, 4, 1))
    assert later.valid_until is None
    # A rule ending before the open-ended one starts, but overlapping the first: refused.
    with pytest.raises(InvalidInput):
        add_rule(clinic_a, free_doctor, head_nurse_a, valid_until=datetime.date(2027, 3, 10))


def test_only_schedule_managers_of_the_clinic_and_only_its_doctors(
    clinic_a, clinic_b, free_doctor, registrar_a, head_nurse_a, marketer
):
    for outsider in (registrar_a, marketer):
        with pytest.raises(NotAllowed):
            add_rule(clinic_a, free_doctor, outsider)
    with pytest.raises(NotAllowed):
        add_rule(clinic_b, free_doctor, head_nurse_a)
    other = DoctorFactory(clinics=[clinic_b])
    with pytest.raises(InvalidInput) as refused:
        add_rule(clinic_a, other, head_nurse_a)
    assert refused.value.code == "foreign_doctor"
    assert not ScheduleRule.objects.exists()


def test_updating_a_rule_moves_the_free_slots_and_may_keep_its_own_hours(
    clock, clinic_a, free_doctor, service, clinic_admin_a
):
    rule = add_rule(clinic_a, free_doctor, clinic_admin_a)
    updated = schedule_rule_update(
        rule=rule,
        actor=clinic_admin_a,
        weekday=1,
        start_time=T(10),
        end_time=T(12),
        valid_from=MON,
    )
    assert (updated.start_time, updated.end_time) == (T(10), T(12))
    assert starts(service, free_doctor)[0] == T(10)
    [_created, changed] = audits("scheduling.schedulerule")
    assert changed.action == AuditAction.UPDATE
    assert set(changed.changed_fields) == {"start_time", "end_time"}


def test_saving_a_rule_unchanged_writes_nothing(clinic_a, free_doctor, head_nurse_a):
    rule = add_rule(clinic_a, free_doctor, head_nurse_a)
    schedule_rule_update(
        rule=rule, actor=head_nurse_a, weekday=1, start_time=T(9), end_time=T(13), valid_from=MON
    )
    assert len(audits("scheduling.schedulerule")) == 1


def test_updating_checks_the_same_rules(clinic_a, free_doctor, head_nurse_a, registrar_a):
    rule = add_rule(clinic_a, free_doctor, head_nurse_a)
    add_rule(clinic_a, free_doctor, head_nurse_a, start_time=T(14), end_time=T(18))
    with pytest.raises(InvalidInput):
        schedule_rule_update(
            rule=rule,
            actor=head_nurse_a,
            weekday=1,
            start_time=T(9),
            end_time=T(15),
            valid_from=MON,
        )
    with pytest.raises(NotAllowed):
        schedule_rule_update(
            rule=rule,
            actor=registrar_a,
            weekday=1,
            start_time=T(9),
            end_time=T(10),
            valid_from=MON,
        )
    rule.refresh_from_db()
    assert rule.end_time == T(13)


def test_deleting_a_rule_removes_its_free_slots(
    clock, clinic_a, free_doctor, service, head_nurse_a, registrar_a
):
    rule = add_rule(clinic_a, free_doctor, head_nurse_a)
    with pytest.raises(NotAllowed):
        schedule_rule_delete(rule=rule, actor=registrar_a)
    schedule_rule_delete(rule=rule, actor=head_nurse_a)
    assert starts(service, free_doctor) == []
    assert audits("scheduling.schedulerule")[-1].action == AuditAction.DELETE


# --- Exceptions ----------------------------------------------------------------------------------


def book(doctor, service, patient, index=0, day=TUE):
    slot = free_slots(service=service, doctor=doctor, start_date=day, end_date=day)[index]
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="online",
        actor=patient.user,
    )


def absence(clinic, doctor, actor, **changes):
    values = {
        "kind": ExceptionKind.VACATION,
        "date_from": TUE,
        "date_to": TUE,
        "today": MON,
        **changes,
    }
    return schedule_exception_create(clinic=clinic, doctor=doctor, actor=actor, **values)


def test_an_absence_hands_the_visits_it_covers_to_the_desk_without_moving_them(
    clock, clinic_a, doctor, service, patient, other_patient, head_nurse_a
):
    first = book(doctor, service, patient, index=0)
    later = book(doctor, service, other_patient, index=5)  # 11:30
    exception, tasks = absence(
        clinic_a,
        doctor,
        head_nurse_a,
        kind=ExceptionKind.SICK_LEAVE,
        start_time=T(11),
        end_time=T(13),
        note="  больничный  ",
    )
    assert exception.note == "больничный"
    assert [t.appointment for t in tasks] == [later]
    assert tasks[0].reason == RebookReason.LEAVE
    first.refresh_from_db()
    later.refresh_from_db()
    assert first.status == later.status == "booked"
    assert all(s.hour < 11 for s in starts(service, doctor))
    assert audits("scheduling.scheduleexception")[0].action == AuditAction.CREATE


def test_a_whole_day_absence_covers_every_visit_of_the_day(
    clock, clinic_a, doctor, service, patient, other_patient, head_nurse_a
):
    visits = [book(doctor, service, patient, 0), book(doctor, service, other_patient, 3)]
    _exception, tasks = absence(clinic_a, doctor, head_nurse_a, kind=ExceptionKind.DAY_OFF)
    assert {t.appointment for t in tasks} == set(visits)
    assert starts(service, doctor) == []
    assert absence_hits(clinic=clinic_a, doctor=doctor, date_from=TUE, date_to=TUE) == visits


def test_extra_hours_add_free_slots_and_open_no_task(
    clock, clinic_a, doctor, service, patient, clinic_admin_a
):
    book(doctor, service, patient)
    _exception, tasks = absence(
        clinic_a,
        doctor,
        clinic_admin_a,
        kind=ExceptionKind.EXTRA_HOURS,
        start_time=T(15),
        end_time=T(16),
        slot_step_minutes=30,
    )
    assert tasks == []
    assert T(15) in starts(service, doctor) and T(15, 30) in starts(service, doctor)
    assert not RebookTask.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"kind": "holiday"}, "kind"),
        ({"date_to": MON}, "dates_reversed"),
        (
            {
                "date_from": MON - datetime.timedelta(days=3),
                "date_to": MON - datetime.timedelta(days=1),
            },
            "past",
        ),
        ({"date_to": TUE + datetime.timedelta(days=366)}, "too_long"),
        ({"start_time": T(10)}, "times"),
        ({"start_time": T(10), "end_time": T(10)}, "times"),
        ({"kind": ExceptionKind.EXTRA_HOURS}, "times"),
        (
            {
                "kind": ExceptionKind.EXTRA_HOURS,
                "start_time": T(15),
                "end_time": T(16),
                "slot_step_minutes": 3,
            },
            "step",
        ),
        ({"note": "x" * (MAX_NOTE_LENGTH + 1)}, "note_too_long"),
    ],
)
def test_it_refuses_a_malformed_exception_and_saves_nothing(
    clinic_a, doctor, head_nurse_a, changes, code
):
    with pytest.raises(InvalidInput) as refused:
        absence(clinic_a, doctor, head_nurse_a, **changes)
    assert refused.value.code == code
    assert not ScheduleException.objects.exists()


def test_exceptions_only_by_schedule_managers_of_the_clinic(
    clinic_a, clinic_b, doctor, registrar_a, head_nurse_a
):
    with pytest.raises(NotAllowed):
        absence(clinic_a, doctor, registrar_a)
    with pytest.raises(NotAllowed):
        absence(clinic_b, doctor, head_nurse_a)
    # A manager of clinic B, for a doctor who does not work there.
    with pytest.raises(InvalidInput):
        absence(clinic_b, doctor, make_staff(Role.HEAD_NURSE, clinic_b))
    assert not ScheduleException.objects.exists()


def test_deleting_an_exception_brings_the_weekly_hours_back(
    clock, clinic_a, doctor, service, head_nurse_a, registrar_a
):
    exception, _tasks = absence(clinic_a, doctor, head_nurse_a)
    assert starts(service, doctor) == []
    with pytest.raises(NotAllowed):
        schedule_exception_delete(exception=exception, actor=registrar_a)
    schedule_exception_delete(exception=exception, actor=head_nurse_a)
    assert starts(service, doctor)[0] == T(9)
    assert audits("scheduling.scheduleexception")[-1].action == AuditAction.DELETE


def test_an_absence_in_every_clinic_needs_a_manager_of_each(
    clinic_a, clinic_b, doctor, head_nurse_a, network_admin
):
    doctor.clinics.add(clinic_b)
    everywhere = ScheduleException.objects.create(
        doctor=doctor, kind=ExceptionKind.VACATION, date_from=TUE, date_to=TUE
    )
    with pytest.raises(NotAllowed):
        schedule_exception_delete(exception=everywhere, actor=head_nurse_a)
    schedule_exception_delete(exception=everywhere, actor=network_admin)
    assert not ScheduleException.objects.exists()


# --- Booking policy ------------------------------------------------------------------------------


def test_the_policy_is_created_on_first_save_and_audited(clinic_a, clinic_admin_a, prepaid_free):
    policy, changed = booking_policy_update(
        clinic=clinic_a,
        actor=clinic_admin_a,
        values={"horizon_days": 30, "reminder_offsets_minutes": [60]},
        prepaid_services=[prepaid_free],
    )
    assert sorted(changed) == ["horizon_days", "prepaid_services", "reminder_offsets_minutes"]
    assert policy.horizon_days == 30
    assert list(policy.prepaid_services.all()) == [prepaid_free]
    [event] = audits("scheduling.bookingpolicy")
    assert event.action == AuditAction.CREATE


def test_saving_the_policy_unchanged_writes_nothing(clinic_a, clinic_admin_a, prepaid_free):
    BookingPolicy.objects.create(clinic=clinic_a).prepaid_services.add(prepaid_free)
    _policy, changed = booking_policy_update(
        clinic=clinic_a,
        actor=clinic_admin_a,
        values={"horizon_days": 60},
        prepaid_services=[prepaid_free],
    )
    assert changed == []
    assert audits("scheduling.bookingpolicy") == []


def test_a_first_save_on_the_defaults_still_records_the_row(clinic_a, network_admin):
    _policy, changed = booking_policy_update(clinic=clinic_a, actor=network_admin, values={})
    assert changed == []
    assert audits("scheduling.bookingpolicy")[0].action == AuditAction.CREATE


def test_a_shorter_horizon_shows_in_free_slots_at_once(
    clock, clinic_a, doctor, service, network_admin
):
    far = datetime.date(2027, 3, 20)
    assert free_slots(service=service, doctor=doctor, start_date=far, end_date=far)
    booking_policy_update(clinic=clinic_a, actor=network_admin, values={"horizon_days": 7})
    assert free_slots(service=service, doctor=doctor, start_date=far, end_date=far) == []


@pytest.mark.parametrize(
    "values",
    [
        {"horizon_days": 0},
        {"horizon_days": 731},
        {"reminder_offsets_minutes": [60, 60]},
        {"mode": "teleport"},
    ],
)
def test_an_invalid_policy_is_refused_and_nothing_saved(clinic_a, clinic_admin_a, values):
    with pytest.raises(InvalidInput) as refused:
        booking_policy_update(clinic=clinic_a, actor=clinic_admin_a, values=values)
    assert str(refused.value)
    assert not BookingPolicy.objects.exists()


def test_the_policy_only_by_catalogue_managers_and_only_its_fields(
    clinic_a, clinic_b, head_nurse_a, clinic_admin_a
):
    with pytest.raises(NotAllowed):
        booking_policy_update(clinic=clinic_a, actor=head_nurse_a, values={"horizon_days": 5})
    with pytest.raises(NotAllowed):
        booking_policy_update(clinic=clinic_b, actor=clinic_admin_a, values={"horizon_days": 5})
    with pytest.raises(InvalidInput) as refused:
        booking_policy_update(clinic=clinic_a, actor=clinic_admin_a, values={"clinic": clinic_b})
    assert refused.value.code == "unknown_field"
    assert not BookingPolicy.objects.exists()


@pytest.fixture
def prepaid_free(db):
    return ServiceFactory(name="Справка")
