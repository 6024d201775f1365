"""`appointment_rollback`: the front desk's red button."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from scheduling.choices import AppointmentEventKind, AppointmentStatus
from scheduling.errors import InvalidTransition, PolicyViolation, RollbackConflict
from scheduling.models import Appointment, AppointmentMove, Doctor, RollbackRecord
from scheduling.selectors.policy import policy_for
from scheduling.services.history import record_change
from scheduling.services.occupancy import conflicts_as_slot_taken
from scheduling.services.quotas import quota_take

from .guards import (
    check_transition,
    clean_reason,
    local_day,
    lock_appointment,
    require_staff_actor,
    user_or_none,
)
from .move import PLACEMENT_FIELDS
from .placement import occupy, release

S = AppointmentStatus
K = AppointmentEventKind


@conflicts_as_slot_taken
def appointment_rollback(*, appointment: Appointment, actor: Any, reason: str = "") -> Appointment:
    """Staff undo the latest booking or reschedule, restoring exactly the previous state,
    within the clinic's `rollback_window_minutes`.

    Undoing a booking releases it (status `rolled_back`); undoing a move puts the appointment
    back on its previous doctor, time, room, equipment and status. If that time has been
    taken since, `RollbackConflict` and nothing changes. Each rollback leaves a
    `RollbackRecord` for analytics.
    """
    now = timezone.now()
    reason = clean_reason(reason)
    require_staff_actor(actor)
    appointment = lock_appointment(appointment)
    last = appointment.events.order_by("-occurred_at", "-id").first()
    if last is None or last.kind not in (K.BOOKED, K.RESCHEDULED):
        raise InvalidTransition(code="nothing_to_roll_back")
    policy = policy_for(appointment.clinic)
    if now - last.occurred_at > datetime.timedelta(minutes=policy.rollback_window_minutes):
        raise PolicyViolation(code="rollback_window_passed")
    if last.kind == K.BOOKED:
        result = _undo_booking(appointment=appointment, actor=actor, now=now, reason=reason)
        record_kind = RollbackRecord.Kind.BOOKING
    else:
        result = _undo_move(
            appointment=appointment, move=last.move, actor=actor, now=now, reason=reason
        )
        record_kind = RollbackRecord.Kind.RESCHEDULE
    RollbackRecord.objects.create(
        appointment=appointment,
        undone_event=last,
        kind=record_kind,
        clinic_id=appointment.clinic_id,
        actor=user_or_none(actor),
        reason=reason,
        occurred_at=now,
    )
    return result


def _undo_booking(
    *, appointment: Appointment, actor: Any, now: datetime.datetime, reason: str
) -> Appointment:
    check_transition(appointment, S.ROLLED_BACK)
    release(appointment)
    from_status = appointment.status
    appointment.status = S.ROLLED_BACK
    appointment.rolled_back_at = now
    appointment.updated_by = user_or_none(actor)
    appointment.updated_at = now
    appointment.save(update_fields=["status", "rolled_back_at", "updated_by", "updated_at"])
    record_change(
        appointment=appointment,
        kind=K.ROLLED_BACK,
        from_status=from_status,
        actor=actor,
        now=now,
        reason=reason,
        changed_fields=["status"],
        context={"undone": "booking"},
    )
    return appointment


def _undo_move(
    *,
    appointment: Appointment,
    move: AppointmentMove,
    actor: Any,
    now: datetime.datetime,
    reason: str,
) -> Appointment:
    if appointment.status not in (S.BOOKED, S.CONFIRMED):
        raise InvalidTransition(code="not_movable")
    if move.from_starts_at <= now:
        raise RollbackConflict(code="previous_time_passed")
    current_start = appointment.starts_at
    release(appointment)
    # Restoring a state that existed: counts go back without checking limits.
    quota_take(
        clinic=appointment.clinic,
        doctor_id=move.from_doctor_id,
        service_id=appointment.service_id,
        channel=appointment.quota_channel,
        day=local_day(move.from_starts_at, appointment.clinic),
        start=move.from_starts_at,
        now=now,
        enforce=False,
    )
    from_status = appointment.status
    appointment.doctor = Doctor.objects.get(pk=move.from_doctor_id)
    appointment.starts_at = move.from_starts_at
    appointment.ends_at = move.from_ends_at
    appointment.room_id = move.from_room_id
    appointment.buffer_minutes = move.from_buffer_minutes
    appointment.status = move.from_status
    appointment.reschedule_count = max(appointment.reschedule_count - 1, 0)
    appointment.updated_by = user_or_none(actor)
    appointment.updated_at = now
    if move.from_status == S.CONFIRMED:
        appointment.confirmed_at = (
            appointment.events.filter(kind=K.CONFIRMED, occurred_at__lte=move.moved_at)
            .order_by("-occurred_at")
            .values_list("occurred_at", flat=True)
            .first()
        )
    appointment.save(update_fields=PLACEMENT_FIELDS)
    appointment.equipment.set(move.from_equipment_ids)
    occupy(appointment, equipment_ids=move.from_equipment_ids, now=now, conflict=RollbackConflict)
    record_change(
        appointment=appointment,
        kind=K.ROLLED_BACK,
        from_status=from_status,
        actor=actor,
        now=now,
        reason=reason,
        changed_fields=["starts_at", "ends_at", "doctor", "room", "status"],
        context={
            "undone": "reschedule",
            "previous_start": current_start.astimezone(appointment.clinic.tz).isoformat(),
        },
    )
    return appointment
