import datetime

import pytest

from notifications.models import OutboxMessage
from scheduling.choices import AppointmentStatus
from scheduling.errors import (
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    PolicyViolation,
    QuotaExceeded,
    RollbackConflict,
    SlotTaken,
    SlotUnavailable,
)
from scheduling.models import (
    AppointmentMove,
    BookingPolicy,
    Occupancy,
    Quota,
    QuotaCounter,
    RollbackRecord,
)
from scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_confirm,
    appointment_reschedule,
    appointment_rollback,
)
from tests.factories import DoctorFactory, make_weekly_schedule
from tests.scheduling.conftest import local

S = AppointmentStatus
HOUR = datetime.timedelta(hours=1)


def book(patient, doctor, service, start, actor=None, channel="online"):
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=start,
        channel=channel,
        actor=actor or patient.user,
    )


@pytest.fixture
def tue9(clinic_a):
    return local(clinic_a, 2027, 3, 2, 9)


def test_reschedule_keeps_the_id_and_swaps_the_time_in_one_go(
    clock, doctor, service, patient, tue9
):
    appointment = book(patient, doctor, service, tue9)
    appointment_confirm(appointment=appointment, actor=patient.user)
    moved = appointment_reschedule(appointment=appointment, start=tue9 + HOUR, actor=patient.user)
    assert moved.pk == appointment.pk and moved.public_id == appointment.public_id
    assert moved.starts_at == tue9 + HOUR
    assert moved.status == S.BOOKED and moved.confirmed_at is None
    assert moved.reschedule_count == 1
    spans = list(Occupancy.objects.filter(appointment=moved).values_list("starts_at", flat=True))
    assert spans == [tue9 + HOUR]
    move = AppointmentMove.objects.get()
    assert (move.from_starts_at, move.to_starts_at) == (tue9, tue9 + HOUR)
    assert move.from_status == S.CONFIRMED
    assert (
        OutboxMessage.objects.get(event="appointment.rescheduled", channel="sms").context[
            "previous_start"
        ]
        == tue9.isoformat()
    )


def test_a_move_may_overlap_its_own_old_time(clock, clinic_a, doctor, service, patient, tue9):
    doctor.schedule_rules.update(slot_step_minutes=15)
    appointment = book(patient, doctor, service, tue9)
    later = tue9 + datetime.timedelta(minutes=15)
    assert appointment_reschedule(appointment=appointment, start=later, actor=patient.user)


def test_a_move_to_another_doctor_and_within_a_full_quota_day(
    clock, clinic_a, doctor, service, patient, tue9
):
    Quota.objects.create(clinic=clinic_a, channel="online", limit=1)
    colleague = DoctorFactory(services=[service])
    make_weekly_schedule(colleague, clinic_a)
    appointment = book(patient, doctor, service, tue9)
    moved = appointment_reschedule(
        appointment=appointment, start=tue9 + HOUR, doctor=colleague, actor=patient.user
    )
    assert moved.doctor == colleague
    assert QuotaCounter.objects.get().used == 1


def test_reschedule_refuses_taken_invalid_and_unchanged_times(
    clock, doctor, service, patient, other_patient, tue9
):
    mine = book(patient, doctor, service, tue9)
    book(other_patient, doctor, service, tue9 + HOUR)
    with pytest.raises(SlotTaken):
        appointment_reschedule(appointment=mine, start=tue9 + HOUR, actor=patient.user)
    with pytest.raises(SlotUnavailable):
        appointment_reschedule(
            appointment=mine, start=tue9 + datetime.timedelta(minutes=10), actor=patient.user
        )
    with pytest.raises(InvalidInput):
        appointment_reschedule(appointment=mine, start=tue9, actor=patient.user)
    with pytest.raises(NotAllowed):
        appointment_reschedule(appointment=mine, start=tue9 + 2 * HOUR, actor=other_patient.user)
    mine.refresh_from_db()
    assert mine.starts_at == tue9 and mine.reschedule_count == 0
    assert Occupancy.objects.filter(appointment=mine, starts_at=tue9).exists()


def test_patients_are_held_to_reschedule_limits_and_deadlines_staff_are_not(
    clock, clinic_a, doctor, service, patient, registrar_a, tue9
):
    BookingPolicy.objects.create(clinic=clinic_a, max_reschedules=1, reschedule_deadline_hours=24)
    appointment = book(patient, doctor, service, tue9)
    appointment = appointment_reschedule(
        appointment=appointment, start=tue9 + HOUR, actor=patient.user
    )
    with pytest.raises(PolicyViolation) as err:
        appointment_reschedule(appointment=appointment, start=tue9, actor=patient.user)
    assert err.value.code == "too_many_reschedules"
    appointment = appointment_reschedule(appointment=appointment, start=tue9, actor=registrar_a)
    clock.advance(hours=10)  # the visit is now less than 24 hours away
    appointment.reschedule_count = 0
    appointment.save(update_fields=["reschedule_count"])
    with pytest.raises(PolicyViolation) as err:
        appointment_reschedule(appointment=appointment, start=tue9 + HOUR, actor=patient.user)
    assert err.value.code == "reschedule_deadline"


def test_cancelled_or_started_visits_cannot_move(
    clock, doctor, service, patient, registrar_a, tue9
):
    appointment = book(patient, doctor, service, tue9)
    appointment_cancel(appointment=appointment, actor=patient.user)
    with pytest.raises(InvalidTransition):
        appointment_reschedule(appointment=appointment, start=tue9 + HOUR, actor=registrar_a)
    other = book(patient, doctor, service, tue9 + HOUR)
    clock.advance(days=2)
    with pytest.raises(InvalidTransition) as err:
        appointment_reschedule(appointment=other, start=tue9 + 2 * HOUR, actor=registrar_a)
    assert err.value.code == "already_started"


def test_rollback_of_a_booking_releases_it_and_is_counted(
    clock, clinic_a, doctor, service, patient, registrar_a, tue9
):
    Quota.objects.create(clinic=clinic_a, channel="online", limit=5)
    appointment = book(patient, doctor, service, tue9)
    undone = appointment_rollback(appointment=appointment, actor=registrar_a, reason="Не тот врач")
    assert undone.status == S.ROLLED_BACK and undone.rolled_back_at == clock.now
    assert not Occupancy.objects.exists()
    assert QuotaCounter.objects.get().used == 0
    record = RollbackRecord.objects.get()
    assert (record.kind, record.clinic, record.actor) == ("booking", clinic_a, registrar_a)
    assert OutboxMessage.objects.filter(event="appointment.rolled_back").count() == 2
    with pytest.raises(InvalidTransition):
        appointment_rollback(appointment=appointment, actor=registrar_a)


def test_rollback_of_a_move_restores_exactly_the_previous_state(
    clock, clinic_a, doctor, service, patient, registrar_a, tue9
):
    colleague = DoctorFactory(services=[service])
    make_weekly_schedule(colleague, clinic_a)
    appointment = book(patient, doctor, service, tue9)
    appointment = appointment_confirm(appointment=appointment, actor=patient.user)
    confirmed_at = appointment.confirmed_at
    clock.advance(minutes=1)
    appointment_reschedule(
        appointment=appointment, start=tue9 + HOUR, doctor=colleague, actor=registrar_a
    )
    clock.advance(minutes=5)
    restored = appointment_rollback(appointment=appointment, actor=registrar_a)
    restored.refresh_from_db()
    assert restored.starts_at == tue9 and restored.doctor == doctor
    assert restored.status == S.CONFIRMED and restored.confirmed_at == confirmed_at
    assert restored.reschedule_count == 0
    rows = Occupancy.objects.filter(appointment=restored, resource_kind="d")
    assert list(rows.values_list("resource_id", "starts_at")) == [(doctor.pk, tue9)]
    assert RollbackRecord.objects.get().kind == "reschedule"


def test_rollback_refuses_when_the_old_time_was_taken_since(
    clock, doctor, service, patient, other_patient, registrar_a, tue9
):
    appointment = book(patient, doctor, service, tue9)
    appointment_reschedule(appointment=appointment, start=tue9 + HOUR, actor=registrar_a)
    book(other_patient, doctor, service, tue9)
    with pytest.raises(RollbackConflict):
        appointment_rollback(appointment=appointment, actor=registrar_a)
    appointment.refresh_from_db()
    assert appointment.starts_at == tue9 + HOUR and appointment.reschedule_count == 1
    assert not RollbackRecord.objects.exists()
    assert Occupancy.objects.filter(appointment=appointment, starts_at=tue9 + HOUR).exists()


def test_rollback_is_staff_only_within_the_window_and_for_the_latest_change(
    clock, clinic_a, doctor, service, patient, registrar_a, tue9
):
    BookingPolicy.objects.create(clinic=clinic_a, rollback_window_minutes=15)
    appointment = book(patient, doctor, service, tue9)
    with pytest.raises(NotAllowed):
        appointment_rollback(appointment=appointment, actor=patient.user)
    clock.advance(minutes=16)
    with pytest.raises(PolicyViolation) as err:
        appointment_rollback(appointment=appointment, actor=registrar_a)
    assert err.value.code == "rollback_window_passed"
    fresh = book(patient, doctor, service, tue9 + HOUR)
    appointment_confirm(appointment=fresh, actor=patient.user)
    with pytest.raises(InvalidTransition) as err:
        appointment_rollback(appointment=fresh, actor=registrar_a)
    assert err.value.code == "nothing_to_roll_back"


def test_rollback_of_a_move_needs_a_future_previous_time(
    clock, clinic_a, doctor, service, patient, registrar_a
):
    soon = local(clinic_a, 2027, 3, 1, 9, 30)
    appointment = book(patient, doctor, service, soon, actor=registrar_a, channel="phone")
    appointment_reschedule(
        appointment=appointment, start=local(clinic_a, 2027, 3, 1, 12), actor=registrar_a
    )
    clock.advance(minutes=100)  # 09:40: the old time has passed
    BookingPolicy.objects.create(clinic=clinic_a, rollback_window_minutes=120)
    with pytest.raises(RollbackConflict) as err:
        appointment_rollback(appointment=appointment, actor=registrar_a)
    assert err.value.code == "previous_time_passed"


def test_a_move_into_an_exhausted_quota_day_is_refused(
    clock, clinic_a, doctor, service, patient, other_patient, tue9
):
    Quota.objects.create(clinic=clinic_a, channel="online", limit=1)
    mine = book(patient, doctor, service, tue9)
    wed = tue9 + datetime.timedelta(days=1)
    book(other_patient, doctor, service, wed)
    with pytest.raises(QuotaExceeded):
        appointment_reschedule(appointment=mine, start=wed + HOUR, actor=patient.user)
