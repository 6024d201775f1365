"""Times a schedule change opens are offered to the waiting list, as a cancellation's are: a
weekly rule added or widened, extra hours, an absence removed, a closure lifted."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction

from notifications.models import OutboxMessage
from portal.models import AuditEvent
from scheduling.choices import (
    AppointmentStatus,
    ExceptionKind,
    FreedSlotOrigin,
    FreedSlotStatus,
    WaitlistOfferStatus,
)
from scheduling.models import Appointment, FreedSlot, WaitlistEntry, WaitlistOffer
from scheduling.services.booking import appointment_book
from scheduling.services.closures import resource_closure_create, resource_closure_lift
from scheduling.services.schedule_exceptions import (
    schedule_exception_create,
    schedule_exception_delete,
)
from scheduling.services.schedule_rules import schedule_rule_create, schedule_rule_update
from scheduling.services.waitlist_offers import waitlist_offer_answer, waitlist_slot_opened
from scheduling.services.waitlist_schedule import waitlist_schedule_opened
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
from tests.scheduling.conftest import T0, local

T = datetime.time
MON = datetime.date(2027, 3, 1)  # today (T0 is 08:00 in Irkutsk)
TUE = datetime.date(2027, 3, 2)
WED = datetime.date(2027, 3, 3)


def wait(patient, service, *, doctor=None, clinic=None, date_from=MON, date_to=WED, days_ago=0):
    return WaitlistEntry.objects.create(
        patient=patient,
        service=service,
        doctor=doctor,
        clinic=clinic,
        date_from=date_from,
        date_to=date_to,
        created_at=T0 - datetime.timedelta(days=days_ago),
    )


def watched(callbacks):
    """The on-commit callbacks that offer what a schedule change opened."""
    return [c for c in callbacks if "waitlist_watch_schedule" in c.__qualname__]


def opened_slots():
    return list(FreedSlot.objects.filter(origin=FreedSlotOrigin.SCHEDULE).order_by("starts_at"))


def offered_to(slot):
    return {offer.patient_id for offer in WaitlistOffer.objects.filter(slot=slot)}


@pytest.fixture
def new_doctor(clinic_a, service):
    """Does `service` in clinic A but has no hours yet."""
    return DoctorFactory(services=[service], clinics=[clinic_a])


@pytest.fixture
def waiting(clock, clinic_a, service, new_doctor):
    """Two patients who fit a time of `new_doctor` on Tuesday, and three who do not: another
    service, another doctor, other dates."""
    fit = [PatientFactory(), PatientFactory()]
    wait(fit[0], service, days_ago=60)
    wait(fit[1], service, clinic=clinic_a, doctor=new_doctor)
    other = ServiceFactory()
    wait(PatientFactory(), other)
    wait(PatientFactory(), service, doctor=DoctorFactory(services=[service], clinics=[clinic_a]))
    wait(PatientFactory(), service, date_from=WED, date_to=WED)
    return fit


NINE, TEN = T(9), T(10)


def add_tuesday_hours(clinic, doctor, actor, start=NINE, end=TEN, **kw):
    return schedule_rule_create(
        clinic=clinic,
        doctor=doctor,
        actor=actor,
        weekday=1,
        start_time=start,
        end_time=end,
        valid_from=kw.pop("valid_from", MON),
        **kw,
    )


# --- The triggers ------------------------------------------------------------------------------


def test_a_rule_added_offers_its_first_time_to_the_patients_who_fit_only(
    waiting, clinic_a, new_doctor, service, clinic_admin_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        add_tuesday_hours(clinic_a, new_doctor, clinic_admin_a)
    [slot] = opened_slots()
    assert slot.starts_at == local(clinic_a, 2027, 3, 2, 9)
    assert slot.source is None and slot.service == service and slot.doctor == new_doctor
    assert slot.status == FreedSlotStatus.OFFERING and slot.hold is not None
    assert offered_to(slot) == {p.pk for p in waiting}
    # 09:30 was opened too, but both patients hold a live offer: nobody is left for it.
    assert OutboxMessage.objects.filter(event="waitlist.offer").count() >= 2
    assert AuditEvent.objects.filter(
        object_type="scheduling.freed_slot", object_id=str(slot.public_id)
    ).exists()


def test_a_slot_a_rule_opened_is_booked_by_the_first_yes_and_swaps_a_later_visit(
    waiting,
    clinic_a,
    new_doctor,
    service,
    doctor,
    clinic_admin_a,
    django_capture_on_commit_callbacks,
):
    later = appointment_book(
        patient=waiting[0],
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 3, 11),
        channel="phone",
        actor=clinic_admin_a,
    )
    with django_capture_on_commit_callbacks(execute=True):
        add_tuesday_hours(clinic_a, new_doctor, clinic_admin_a)
    [slot] = opened_slots()
    offer = WaitlistOffer.objects.get(slot=slot, patient=waiting[0])
    waitlist_offer_answer(offer=offer, accept=True, actor=None, channel="sms")
    slot.refresh_from_db()
    assert slot.status == FreedSlotStatus.FILLED
    assert slot.filled_by.patient == waiting[0]
    later.refresh_from_db()
    assert later.status == AppointmentStatus.CANCELLED
    other = WaitlistOffer.objects.get(slot=slot, patient=waiting[1])
    assert other.status == WaitlistOfferStatus.TAKEN


def test_a_rule_widened_offers_the_new_hours(
    clock, clinic_a, doctor, service, clinic_admin_a, django_capture_on_commit_callbacks
):
    patient = PatientFactory()
    wait(patient, service)
    tuesday = doctor.schedule_rules.get(weekday=1)
    with django_capture_on_commit_callbacks(execute=True):
        schedule_rule_update(
            rule=tuesday,
            actor=clinic_admin_a,
            weekday=1,
            start_time=T(9),
            end_time=T(14),
            valid_from=tuesday.valid_from,
            valid_until=WED,
        )
    [slot] = opened_slots()
    assert slot.starts_at == local(clinic_a, 2027, 3, 2, 13)
    assert offered_to(slot) == {patient.pk}


def test_a_rule_narrowed_or_saved_unchanged_offers_nothing(
    clock, clinic_a, doctor, service, clinic_admin_a, django_capture_on_commit_callbacks
):
    wait(PatientFactory(), service)
    tuesday = doctor.schedule_rules.get(weekday=1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for end in (T(12), T(12)):
            schedule_rule_update(
                rule=tuesday,
                actor=clinic_admin_a,
                weekday=1,
                start_time=T(9),
                end_time=end,
                valid_from=tuesday.valid_from,
            )
    # Watched once (the unchanged save writes nothing), and nothing new is free.
    assert len(watched(callbacks)) == 1
    assert opened_slots() == []
    assert not WaitlistOffer.objects.exists()


def test_extra_hours_are_offered_and_an_absence_opens_nothing(
    clock, clinic_a, doctor, service, clinic_admin_a, django_capture_on_commit_callbacks
):
    patient = PatientFactory()
    wait(patient, service)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        schedule_exception_create(
            clinic=clinic_a,
            doctor=doctor,
            actor=clinic_admin_a,
            kind=ExceptionKind.DAY_OFF,
            date_from=WED,
            date_to=WED,
            today=MON,
        )
    assert watched(callbacks) == []
    with django_capture_on_commit_callbacks(execute=True):
        schedule_exception_create(
            clinic=clinic_a,
            doctor=doctor,
            actor=clinic_admin_a,
            kind=ExceptionKind.EXTRA_HOURS,
            date_from=TUE,
            date_to=TUE,
            start_time=T(15),
            end_time=T(16),
            today=MON,
        )
    [slot] = opened_slots()
    assert slot.starts_at == local(clinic_a, 2027, 3, 2, 15)
    assert offered_to(slot) == {patient.pk}


def test_an_absence_removed_offers_the_doctors_hours_again(
    clock, clinic_a, doctor, service, clinic_admin_a, django_capture_on_commit_callbacks
):
    # The leave's absence (a leave request approved records one) covers Tuesday and Wednesday.
    absence, _tasks = schedule_exception_create(
        clinic=clinic_a,
        doctor=doctor,
        actor=clinic_admin_a,
        kind=ExceptionKind.VACATION,
        date_from=TUE,
        date_to=WED,
        today=MON,
    )
    patients = [PatientFactory(), PatientFactory()]
    wait(patients[0], service, date_from=WED)
    wait(patients[1], service, clinic=clinic_a, doctor=doctor)
    with django_capture_on_commit_callbacks(execute=True):
        schedule_exception_delete(exception=absence, actor=clinic_admin_a)
    slots = opened_slots()
    # Tuesday 09:00 to the patient who may come on Tuesday, Wednesday 09:00 to the other.
    assert [s.starts_at for s in slots] == [
        local(clinic_a, 2027, 3, 2, 9),
        local(clinic_a, 2027, 3, 3, 9),
    ]
    assert [offered_to(s) for s in slots] == [{patients[1].pk}, {patients[0].pk}]


def test_extra_hours_removed_open_nothing(
    clock, clinic_a, doctor, service, clinic_admin_a, django_capture_on_commit_callbacks
):
    extra, _tasks = schedule_exception_create(
        clinic=clinic_a,
        doctor=doctor,
        actor=clinic_admin_a,
        kind=ExceptionKind.EXTRA_HOURS,
        date_from=WED,
        date_to=WED,
        start_time=T(15),
        end_time=T(16),
        today=MON,
    )
    wait(PatientFactory(), service)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        schedule_exception_delete(exception=extra, actor=clinic_admin_a)
    assert watched(callbacks) == []
    assert opened_slots() == []


def test_a_closure_lifted_offers_the_times_it_kept_closed(
    clock, clinic_a, clinic_admin_a, django_capture_on_commit_callbacks
):
    scan = ServiceFactory(room_kind="ultrasound", duration_minutes=30)
    probe_type = EquipmentTypeFactory()
    scan.equipment_types.add(probe_type)
    doctor = DoctorFactory(services=[scan], clinics=[clinic_a])
    make_weekly_schedule(doctor, clinic_a)
    room = RoomFactory(clinic=clinic_a, kind="ultrasound", name="УЗИ-1")
    EquipmentFactory(clinic=clinic_a, type=probe_type, name="Датчик")
    closure, _tasks = resource_closure_create(
        clinic=clinic_a,
        room=room,
        starts_at=local(clinic_a, 2027, 3, 1, 0),
        ends_at=local(clinic_a, 2027, 3, 3, 0),
        reason="ремонт",
        actor=clinic_admin_a,
    )
    patient = PatientFactory()
    wait(patient, scan, clinic=clinic_a)
    clock.advance(hours=1)  # Monday 09:00 in Irkutsk
    with django_capture_on_commit_callbacks(execute=True):
        resource_closure_lift(closure=closure, actor=clinic_admin_a)
    [slot] = opened_slots()
    # The earliest time the waitlist's channel may book: after the minimum notice.
    assert slot.starts_at == local(clinic_a, 2027, 3, 1, 10)
    assert slot.service == scan
    assert offered_to(slot) == {patient.pk}


# --- What is not offered -----------------------------------------------------------------------


def test_nothing_is_watched_when_nobody_waits_or_the_days_are_beyond_the_horizon(
    clock,
    clinic_a,
    new_doctor,
    service,
    clinic_admin_a,
    django_capture_on_commit_callbacks,
    settings,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        add_tuesday_hours(clinic_a, new_doctor, clinic_admin_a)
    assert watched(callbacks) == []
    wait(PatientFactory(), service, date_to=MON + datetime.timedelta(days=40))
    settings.WAITLIST_SCHEDULE_DAYS = 14
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        add_tuesday_hours(
            clinic_a,
            new_doctor,
            clinic_admin_a,
            start=T(11),
            end=T(12),
            valid_from=MON + datetime.timedelta(days=20),
        )
    assert watched(callbacks) == []
    assert opened_slots() == []


def test_a_rolled_back_change_offers_nothing(
    waiting, clinic_a, new_doctor, clinic_admin_a, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        add_tuesday_hours(clinic_a, new_doctor, clinic_admin_a)
        raise RuntimeError("rolled back")
    assert watched(callbacks) == []
    assert not FreedSlot.objects.exists()
    assert not OutboxMessage.objects.filter(event="waitlist.offer").exists()


def test_running_the_offers_twice_offers_nothing_twice(
    waiting, clinic_a, new_doctor, clinic_admin_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        add_tuesday_hours(clinic_a, new_doctor, clinic_admin_a)
    [callback] = watched(callbacks)
    callback()
    offers = WaitlistOffer.objects.count()
    messages = OutboxMessage.objects.count()
    callback()  # the task retried, or run twice
    assert len(opened_slots()) == 1
    assert WaitlistOffer.objects.count() == offers == 2
    assert OutboxMessage.objects.count() == messages


def test_a_time_offered_before_is_not_offered_again(
    clock, clinic_a, doctor, service, clinic_admin_a
):
    patient = PatientFactory()
    wait(patient, service)
    start = local(clinic_a, 2027, 3, 2, 9)
    first = waitlist_slot_opened(clinic=clinic_a, doctor=doctor, service=service, starts_at=start)
    assert first is not None and first.origin == FreedSlotOrigin.SCHEDULE
    WaitlistOffer.objects.update(status=WaitlistOfferStatus.DECLINED)
    assert (
        waitlist_slot_opened(clinic=clinic_a, doctor=doctor, service=service, starts_at=start)
        is None
    )


def test_overlapping_times_are_offered_once_and_the_next_free_one_goes_to_the_others(
    clock, clinic_a, clinic_admin_a, django_capture_on_commit_callbacks
):
    long_visit = ServiceFactory(duration_minutes=60)
    doctor = DoctorFactory(services=[long_visit], clinics=[clinic_a])
    patients = [PatientFactory() for _ in range(4)]
    for rank, patient in enumerate(patients):
        wait(patient, long_visit, days_ago=30 * (4 - rank))
    with django_capture_on_commit_callbacks(execute=True):
        add_tuesday_hours(clinic_a, doctor, clinic_admin_a, end=T(11))
    slots = opened_slots()
    # 09:00 and 10:00; 09:30 overlaps the first (both could not be booked).
    assert [s.starts_at for s in slots] == [
        local(clinic_a, 2027, 3, 2, 9),
        local(clinic_a, 2027, 3, 2, 10),
    ]
    assert offered_to(slots[0]) == {p.pk for p in patients[:3]}
    assert offered_to(slots[1]) == {patients[3].pk}


def test_times_booked_meanwhile_are_not_offered(
    waiting, clinic_a, new_doctor, service, clinic_admin_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        add_tuesday_hours(clinic_a, new_doctor, clinic_admin_a, end=T(9, 30))
    # Someone books the new time before the task runs.
    appointment_book(
        patient=PatientFactory(),
        doctor=new_doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 2, 9),
        channel="phone",
        actor=clinic_admin_a,
    )
    for callback in watched(callbacks):
        callback()
    assert opened_slots() == []
    assert Appointment.objects.count() == 1


def test_the_task_offers_what_its_watch_says(waiting, clinic_a, new_doctor, service):
    ScheduleRuleFactory(
        doctor=new_doctor, clinic=clinic_a, weekday=1, start_time=T(9), end_time=T(10)
    )
    watch = {
        "clinics": [clinic_a.pk],
        "doctor": new_doctor.pk,
        "services": [service.pk],
        "first": "2027-03-02",
        "last": "2027-03-02",
        "before": [],
    }
    [slot] = waitlist_schedule_opened(watch)
    assert slot.starts_at == local(clinic_a, 2027, 3, 2, 9)


def test_the_winners_boost_is_recorded_as_it_was_at_the_fill(
    clock, clinic_a, doctor, service, clinic_admin_a
):
    patient = PatientFactory()
    entry = wait(patient, service)
    entry.boost = 25
    entry.save(update_fields=["boost"])
    slot = waitlist_slot_opened(
        clinic=clinic_a, doctor=doctor, service=service, starts_at=local(clinic_a, 2027, 3, 2, 9)
    )
    offer = WaitlistOffer.objects.get(slot=slot)
    waitlist_offer_answer(offer=offer, accept=True, actor=None, channel="sms")
    WaitlistEntry.objects.filter(pk=entry.pk).update(boost=0)  # staff take it back later
    slot.refresh_from_db()
    assert slot.status == FreedSlotStatus.FILLED and slot.won_with_boost
