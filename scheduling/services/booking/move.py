"""`appointment_reschedule`: the same appointment at another free time (or doctor)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from portal import permissions
from scheduling.choices import AppointmentEventKind, AppointmentStatus
from scheduling.errors import InvalidInput, InvalidTransition, PolicyViolation
from scheduling.models import Appointment, AppointmentMove, BookingPolicy, Doctor
from scheduling.selectors.availability import resolve_slot_for_booking
from scheduling.selectors.policy import policy_for
from scheduling.services.history import record_change
from scheduling.services.occupancy import conflicts_as_slot_taken
from scheduling.services.quotas import quota_take
from scheduling.services.refusals import records_overlap_refusals

from .guards import (
    as_utc,
    check_may_act_for,
    clean_reason,
    local_day,
    lock_appointment,
    user_or_none,
)
from .placement import occupy, release

S = AppointmentStatus
# The fields a move (and the undo of one) changes.
PLACEMENT_FIELDS = [
    "doctor",
    "starts_at",
    "ends_at",
    "room",
    "buffer_minutes",
    "status",
    "confirmed_at",
    "reschedule_count",
    "updated_by",
    "updated_at",
]


@records_overlap_refusals
@conflicts_as_slot_taken
def appointment_reschedule(
    *,
    appointment: Appointment,
    start: datetime.datetime,
    actor: Any,
    doctor: Doctor | None = None,
    reason: str = "",
) -> Appointment:
    """Move `appointment` to `start` (and optionally to another `doctor`), keeping its id.

    The new time is taken and the old released in one transaction; quotas move with it. A
    confirmed appointment goes back to booked (the confirmation was for the old time).
    Patients are held to the reschedule deadline and the per-appointment reschedule limit.
    """
    now = timezone.now()
    reason = clean_reason(reason)
    appointment = lock_appointment(appointment)
    check_may_act_for(actor, appointment.patient)
    if appointment.status not in (S.BOOKED, S.CONFIRMED):
        raise InvalidTransition(code="not_movable")
    if appointment.starts_at <= now:
        raise InvalidTransition(code="already_started")
    if permissions.acts_as_patient(actor):
        check_patient_may_move(appointment, policy_for(appointment.clinic), now=now)
    doctor = doctor or appointment.doctor
    if doctor.pk == appointment.doctor_id and as_utc(start) == appointment.starts_at:
        raise InvalidInput(code="same_time")
    resolution = resolve_slot_for_booking(
        service=appointment.service,
        doctor=doctor,
        start=start,
        clinic=appointment.clinic,
        channel=appointment.channel,
        quota_channel=appointment.quota_channel or None,
        now=now,
        ignore_appointment=appointment,
    )
    slot = resolution.slot
    move = AppointmentMove(
        appointment=appointment,
        from_starts_at=appointment.starts_at,
        from_ends_at=appointment.ends_at,
        from_doctor_id=appointment.doctor_id,
        from_room_id=appointment.room_id,
        from_equipment_ids=sorted(appointment.equipment.values_list("id", flat=True)),
        from_buffer_minutes=appointment.buffer_minutes,
        from_status=appointment.status,
        to_starts_at=slot.start_utc,
        to_ends_at=slot.end_utc,
        to_doctor=doctor,
        actor=user_or_none(actor),
        moved_at=now,
    )
    release(appointment)
    quota_take(
        clinic=appointment.clinic,
        doctor_id=doctor.pk,
        service_id=appointment.service_id,
        channel=appointment.quota_channel,
        day=local_day(slot.start_utc, appointment.clinic),
        start=slot.start_utc,
        now=now,
    )
    from_status = appointment.status
    # The patient is told whom they will see now when the doctor changes (a substitute).
    previous_doctor = (
        {"previous_doctor": appointment.doctor.full_name}
        if doctor.pk != move.from_doctor_id
        else {}
    )
    appointment.doctor = doctor
    appointment.starts_at = slot.start_utc
    appointment.ends_at = slot.end_utc
    appointment.room_id = slot.room_id
    appointment.buffer_minutes = slot.buffer_minutes
    appointment.status = S.BOOKED
    appointment.confirmed_at = None
    appointment.reschedule_count += 1
    appointment.updated_by = user_or_none(actor)
    appointment.updated_at = now
    appointment.save(update_fields=PLACEMENT_FIELDS)
    appointment.equipment.set(slot.equipment_ids)
    occupy(
        appointment,
        equipment_ids=slot.equipment_ids,
        now=now,
        expired_hold_ids=resolution.expired_hold_ids,
    )
    move.event = record_change(
        appointment=appointment,
        kind=AppointmentEventKind.RESCHEDULED,
        from_status=from_status,
        actor=actor,
        now=now,
        reason=reason,
        changed_fields=["starts_at", "ends_at", "doctor", "room", "status"],
        context={
            "previous_start": move.from_starts_at.astimezone(appointment.clinic.tz).isoformat(),
            **previous_doctor,
        },
    )
    move.save(force_insert=True)
    return appointment


def check_patient_may_move(
    appointment: Appointment, policy: BookingPolicy, *, now: datetime.datetime
) -> None:
    deadline = datetime.timedelta(hours=policy.reschedule_deadline_hours)
    if appointment.starts_at - now < deadline:
        raise PolicyViolation(code="reschedule_deadline")
    if appointment.reschedule_count >= policy.max_reschedules:
        raise PolicyViolation(code="too_many_reschedules", limit=policy.max_reschedules)
