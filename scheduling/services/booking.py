"""The booking engine's write paths. Nothing else writes appointments.

Invariants every function here keeps:

- One transaction per call; on any domain error nothing changes.
- A doctor, room or piece of equipment is never in two active appointments or live holds at
  once: PostgreSQL refuses it (exclusion constraint on `Occupancy`), SQLite serializes writers
  and checks. A lost race or deadlock is answered with `SlotTaken`.
- Only a slot that `free_slots` would offer can be booked or moved to (`resolve_slot`).
- Quota counters and patient limits are checked under row locks in the same transaction.
- Every change appends an `AppointmentEvent` (moves also an `AppointmentMove`), an audit row
  and outbox messages, in the same transaction.

Permission checks (capabilities) stay in the callers; these services only make sure that a
patient acting for someone may act for them, and that patients do not do staff-only changes.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from portal import permissions
from portal.models import Clinic, Patient
from scheduling.choices import (
    ALLOWED_TRANSITIONS,
    APPOINTMENT_CHANNELS,
    QUOTA_CHANNEL_OF,
    QUOTA_CHANNELS,
    SELF_SERVICE_CHANNELS,
    AppointmentEventKind,
    AppointmentStatus,
)
from scheduling.db import insert_statement, saved
from scheduling.errors import (
    HoldInvalid,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    OutsideBookingWindow,
    PolicyViolation,
    RollbackConflict,
    SlotTaken,
)
from scheduling.models import (
    Appointment,
    AppointmentEvent,
    AppointmentMove,
    Doctor,
    Hold,
    Occupancy,
    RollbackRecord,
    Service,
)
from scheduling.selectors.availability import (
    LATEST_DATE,
    FirstRound,
    resolve_slot,
    resolve_slot_with_quotas,
)
from scheduling.selectors.places import place_of_booking, place_reads
from scheduling.selectors.policy import policy_for
from scheduling.services.history import change_trail, record_change
from scheduling.services.occupancy import (
    conflicts_as_slot_taken,
    occupancy_insert,
    spans_for,
)
from scheduling.services.quotas import quota_release, quota_take

S = AppointmentStatus
K = AppointmentEventKind
MAX_REASON_LENGTH = 300


# --- Helpers -----------------------------------------------------------------------------------


def is_patient_actor(actor) -> bool:
    """A signed-in patient without any staff role (staff who are also patients act as staff)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return not permissions.is_staff_member(actor) and permissions.is_patient(actor)


def check_may_act_for(actor, patient: Patient) -> None:
    if not is_patient_actor(actor):
        return
    # Oneself needs no query: `patients_managed_by` always holds one's own profile.
    if actor.patient.pk != patient.pk and not permissions.can_act_for_patient(actor, patient):
        raise NotAllowed(code="not_your_patient")


def _require_staff_actor(actor) -> None:
    if is_patient_actor(actor):
        raise NotAllowed(code="staff_only")


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(code="reason_too_long", max_length=MAX_REASON_LENGTH)
    return reason


def _local_day(when: datetime.datetime, clinic: Clinic) -> datetime.date:
    return when.astimezone(clinic.tz).date()


def _lock(appointment: Appointment) -> Appointment:
    """The appointment re-read under a row lock, with what the services need."""
    try:
        return (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("clinic", "patient", "doctor", "service")
            .get(pk=appointment.pk)
        )
    except Appointment.DoesNotExist as exc:
        raise InvalidInput(code="unknown_appointment") from exc


def _check_transition(appointment: Appointment, to: str) -> None:
    if to not in ALLOWED_TRANSITIONS[appointment.status]:
        raise InvalidTransition(code=f"{appointment.status}_to_{to}")


def _occupy(
    appointment: Appointment,
    *,
    equipment_ids,
    now: datetime.datetime,
    conflict: type[Exception] = SlotTaken,
    then=(),
    expired_holds_read=None,
) -> list[list[tuple]]:
    """Take the appointment's time; `then`: statements for the same round trip (their rows);
    `expired_holds_read`: see `occupancy_insert`."""
    return occupancy_insert(
        spans=spans_for(
            doctor_id=appointment.doctor_id,
            room_id=appointment.room_id,
            equipment_ids=equipment_ids,
            start=appointment.starts_at,
            end=appointment.ends_at,
            buffer_minutes=appointment.buffer_minutes,
        ),
        clinic_id=appointment.clinic_id,
        now=now,
        appointment_id=appointment.pk,
        conflict=conflict,
        then=then,
        expired_holds_read=expired_holds_read,
    )


def _release(appointment: Appointment) -> None:
    """Free the appointment's time and give back its quota."""
    Occupancy.objects.filter(appointment=appointment).delete()
    quota_release(
        clinic=appointment.clinic_id,
        doctor_id=appointment.doctor_id,
        service_id=appointment.service_id,
        channel=appointment.quota_channel,
        day=_local_day(appointment.starts_at, appointment.clinic),
    )


def _as_utc(start) -> datetime.datetime:
    if not isinstance(start, datetime.datetime) or timezone.is_naive(start):
        raise InvalidInput(code="naive_datetime", field="start")
    if start.date() > LATEST_DATE:
        # Its UTC instant may lie past the calendar's last day (OverflowError).
        raise OutsideBookingWindow(code="beyond_horizon")
    return start.astimezone(datetime.UTC)


def _use_hold(
    *, hold: Hold, patient: Patient, doctor: Doctor, service: Service, start, actor, now
) -> Hold:
    try:
        locked = Hold.objects.select_for_update().get(pk=hold.pk)
    except Hold.DoesNotExist as exc:
        raise HoldInvalid(code="hold_gone") from exc
    if (
        locked.expires_at <= now
        or locked.doctor_id != doctor.pk
        or locked.service_id != service.pk
        or locked.starts_at != _as_utc(start)
        or (locked.patient_id is not None and locked.patient_id != patient.pk)
        or (locked.created_by_id is not None and locked.created_by_id != getattr(actor, "pk", None))
    ):
        raise HoldInvalid()
    return locked


# --- Book ----------------------------------------------------------------------------------------


@conflicts_as_slot_taken
def appointment_book(
    *,
    patient: Patient,
    doctor: Doctor,
    service: Service,
    start: datetime.datetime,
    channel: str,
    actor,
    hold: Hold | None = None,
    clinic: Clinic | None = None,
    quota_channel: str | None = None,
    first_round: FirstRound | None = None,
) -> Appointment:
    """Book `service` with `doctor` at `start` for `patient`.

    `start` must be a slot `free_slots` offers for this channel (in `clinic` when given);
    a `hold` of the actor for the same slot is consumed. Refuses with `NotAllowed` (patient
    acting for someone they may not), `SlotUnavailable`/`OutsideBookingWindow` (not a slot),
    `QuotaExceeded`, `PolicyViolation` (too many active bookings), `HoldInvalid`, `SlotTaken`.
    `quota_channel` overrides the channel's default quota (e.g. "referral"); `first_round`:
    the engine's first reads, made ahead by the caller (`availability.FirstRound`).
    """
    now = timezone.now()
    if channel not in APPOINTMENT_CHANNELS:
        raise InvalidInput(code="invalid_channel")
    if quota_channel is not None and quota_channel not in QUOTA_CHANNELS:
        raise InvalidInput(code="invalid_quota_channel")
    quota_channel = quota_channel or QUOTA_CHANNEL_OF[channel]
    check_may_act_for(actor, patient)
    if hold is not None:
        hold = _use_hold(
            hold=hold,
            patient=patient,
            doctor=doctor,
            service=service,
            start=start,
            actor=actor,
            now=now,
        )
    # The place (clinic, policy, the patient's lock and count) is read with the engine's
    # second round trip, with ids for the appointment and its event, so that every row of the
    # booking, which refer to both, goes to the database in the one round trip below.
    slot, quotas, expired_holds, place_rows = resolve_slot_with_quotas(
        service=service,
        doctor=doctor,
        start=start,
        clinic=hold.clinic if hold is not None else clinic,
        channel=channel,
        quota_channel=quota_channel,
        now=now,
        ignore_hold_id=hold.pk if hold is not None else None,
        also=lambda clinic_ids: place_reads(
            clinic_ids=clinic_ids,
            patient=patient,
            now=now,
            reserve_ids_for=(Appointment, AppointmentEvent),
        ),
        first_round=first_round,
    )
    slot_clinic, policy, room, active, (appointment_id, event_id) = place_of_booking(
        slot, place_rows
    )
    if channel in SELF_SERVICE_CHANNELS and active >= policy.max_active_per_patient:
        raise PolicyViolation(code="too_many_active", limit=policy.max_active_per_patient)
    quota_take(
        clinic=slot_clinic,
        doctor_id=doctor.pk,
        service_id=service.pk,
        channel=quota_channel,
        day=_local_day(slot.start_utc, slot_clinic),
        start=slot.start_utc,
        now=now,
        quotas=quotas,
    )
    if hold is not None:
        hold.delete()
    appointment = Appointment(
        pk=appointment_id,
        patient=patient,
        doctor=doctor,
        clinic=slot_clinic,
        service=service,
        room=room,
        starts_at=slot.start_utc,
        ends_at=slot.end_utc,
        buffer_minutes=slot.buffer_minutes,
        status=S.BOOKED,
        channel=channel,
        quota_channel=quota_channel or "",
        price=service.price,
        booked_by=actor if getattr(actor, "is_authenticated", False) else None,
        updated_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=now,
        updated_at=now,
    )
    trail = change_trail(
        appointment=appointment,
        kind=K.BOOKED,
        from_status="",
        actor=actor,
        now=now,
        changed_fields=["status", "starts_at", "doctor", "service", "clinic"],
        event_id=event_id,
    )
    # The occupancy, the appointment, its equipment links and the trail go in one round trip.
    links = [
        Appointment.equipment.through(appointment_id=appointment.pk, equipment_id=item)
        for item in slot.equipment_ids
    ]
    rows = [insert_statement([appointment], with_pk=True)]
    if links:
        rows.append(insert_statement(links))
    results = _occupy(
        appointment,
        equipment_ids=slot.equipment_ids,
        now=now,
        then=[*rows, *trail.statements],
        expired_holds_read=expired_holds,
    )
    saved(appointment, appointment_id)
    trail.inserted(results[len(rows) :])
    return appointment


# --- Reschedule ----------------------------------------------------------------------------------


@conflicts_as_slot_taken
def appointment_reschedule(
    *,
    appointment: Appointment,
    start: datetime.datetime,
    actor,
    doctor: Doctor | None = None,
    reason: str = "",
) -> Appointment:
    """Move `appointment` to `start` (and optionally to another `doctor`), keeping its id.

    The new time is taken and the old released in one transaction; quotas move with it. A
    confirmed appointment goes back to booked (the confirmation was for the old time).
    Patients are held to the reschedule deadline and the per-appointment reschedule limit.
    """
    now = timezone.now()
    reason = _clean_reason(reason)
    appointment = _lock(appointment)
    check_may_act_for(actor, appointment.patient)
    if appointment.status not in (S.BOOKED, S.CONFIRMED):
        raise InvalidTransition(code="not_movable")
    if appointment.starts_at <= now:
        raise InvalidTransition(code="already_started")
    policy = policy_for(appointment.clinic)
    if is_patient_actor(actor):
        deadline = datetime.timedelta(hours=policy.reschedule_deadline_hours)
        if appointment.starts_at - now < deadline:
            raise PolicyViolation(code="reschedule_deadline")
        if appointment.reschedule_count >= policy.max_reschedules:
            raise PolicyViolation(code="too_many_reschedules", limit=policy.max_reschedules)
    doctor = doctor or appointment.doctor
    if doctor.pk == appointment.doctor_id and _as_utc(start) == appointment.starts_at:
        raise InvalidInput(code="same_time")
    slot = resolve_slot(
        service=appointment.service,
        doctor=doctor,
        start=start,
        clinic=appointment.clinic,
        channel=appointment.channel,
        quota_channel=appointment.quota_channel or None,
        now=now,
        ignore_appointment=appointment,
    )
    previous = {
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "doctor_id": appointment.doctor_id,
        "room_id": appointment.room_id,
        "equipment_ids": sorted(appointment.equipment.values_list("id", flat=True)),
        "buffer_minutes": appointment.buffer_minutes,
        "status": appointment.status,
    }
    _release(appointment)
    quota_take(
        clinic=appointment.clinic,
        doctor_id=doctor.pk,
        service_id=appointment.service_id,
        channel=appointment.quota_channel,
        day=_local_day(slot.start_utc, appointment.clinic),
        start=slot.start_utc,
        now=now,
    )
    from_status = appointment.status
    appointment.doctor = doctor
    appointment.starts_at = slot.start_utc
    appointment.ends_at = slot.end_utc
    appointment.room_id = slot.room_id
    appointment.buffer_minutes = slot.buffer_minutes
    appointment.status = S.BOOKED
    appointment.confirmed_at = None
    appointment.reschedule_count += 1
    appointment.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    appointment.updated_at = now
    appointment.save(
        update_fields=[
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
    )
    appointment.equipment.set(slot.equipment_ids)
    _occupy(appointment, equipment_ids=slot.equipment_ids, now=now)
    event = record_change(
        appointment=appointment,
        kind=K.RESCHEDULED,
        from_status=from_status,
        actor=actor,
        now=now,
        reason=reason,
        changed_fields=["starts_at", "ends_at", "doctor", "room", "status"],
        context={
            "previous_start": previous["starts_at"].astimezone(appointment.clinic.tz).isoformat()
        },
    )
    AppointmentMove.objects.create(
        appointment=appointment,
        event=event,
        from_starts_at=previous["starts_at"],
        from_ends_at=previous["ends_at"],
        from_doctor_id=previous["doctor_id"],
        from_room_id=previous["room_id"],
        from_equipment_ids=previous["equipment_ids"],
        from_buffer_minutes=previous["buffer_minutes"],
        from_status=previous["status"],
        to_starts_at=appointment.starts_at,
        to_ends_at=appointment.ends_at,
        to_doctor=doctor,
        actor=event.actor,
        moved_at=now,
    )
    return appointment


# --- Cancel and status changes ----------------------------------------------------------------


@conflicts_as_slot_taken
def appointment_cancel(*, appointment: Appointment, actor, reason: str = "") -> Appointment:
    """Cancel an upcoming booked or confirmed appointment and free its time and quota.

    A cancellation closer to the start than the clinic's `cancel_deadline_hours` is allowed
    but flagged `late_cancel` (no-show analytics and penalties count it).
    """
    now = timezone.now()
    reason = _clean_reason(reason)
    appointment = _lock(appointment)
    check_may_act_for(actor, appointment.patient)
    _check_transition(appointment, S.CANCELLED)
    if appointment.starts_at <= now:
        raise InvalidTransition(code="already_started")
    policy = policy_for(appointment.clinic)
    _release(appointment)
    from_status = appointment.status
    appointment.status = S.CANCELLED
    appointment.cancelled_at = now
    appointment.cancel_reason = reason
    appointment.late_cancel = appointment.starts_at - now < datetime.timedelta(
        hours=policy.cancel_deadline_hours
    )
    appointment.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    appointment.updated_at = now
    appointment.save(
        update_fields=[
            "status",
            "cancelled_at",
            "cancel_reason",
            "late_cancel",
            "updated_by",
            "updated_at",
        ]
    )
    record_change(
        appointment=appointment,
        kind=K.CANCELLED,
        from_status=from_status,
        actor=actor,
        now=now,
        reason=reason,
        changed_fields=["status", "cancel_reason", "late_cancel"],
    )
    return appointment


def _set_status(
    *,
    appointment: Appointment,
    to: str,
    kind: str,
    stamp_field: str,
    actor,
    now: datetime.datetime,
) -> Appointment:
    from_status = appointment.status
    appointment.status = to
    setattr(appointment, stamp_field, now)
    appointment.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    appointment.updated_at = now
    appointment.save(update_fields=["status", stamp_field, "updated_by", "updated_at"])
    record_change(
        appointment=appointment,
        kind=kind,
        from_status=from_status,
        actor=actor,
        now=now,
        changed_fields=["status"],
    )
    return appointment


@conflicts_as_slot_taken
def appointment_confirm(*, appointment: Appointment, actor) -> Appointment:
    """The patient (or staff for them) confirms they will come. Only before the start."""
    now = timezone.now()
    appointment = _lock(appointment)
    check_may_act_for(actor, appointment.patient)
    _check_transition(appointment, S.CONFIRMED)
    if appointment.starts_at <= now:
        raise InvalidTransition(code="already_started")
    return _set_status(
        appointment=appointment,
        to=S.CONFIRMED,
        kind=K.CONFIRMED,
        stamp_field="confirmed_at",
        actor=actor,
        now=now,
    )


@conflicts_as_slot_taken
def appointment_check_in(*, appointment: Appointment, actor) -> Appointment:
    """Staff mark the patient arrived; only on the visit's local day or later."""
    now = timezone.now()
    _require_staff_actor(actor)
    appointment = _lock(appointment)
    _check_transition(appointment, S.CHECKED_IN)
    if _local_day(now, appointment.clinic) < _local_day(appointment.starts_at, appointment.clinic):
        raise InvalidTransition(code="not_today")
    return _set_status(
        appointment=appointment,
        to=S.CHECKED_IN,
        kind=K.CHECKED_IN,
        stamp_field="checked_in_at",
        actor=actor,
        now=now,
    )


@conflicts_as_slot_taken
def appointment_mark_no_show(*, appointment: Appointment, actor) -> Appointment:
    """Staff record that the patient did not come; only once the start has passed."""
    now = timezone.now()
    _require_staff_actor(actor)
    appointment = _lock(appointment)
    _check_transition(appointment, S.NO_SHOW)
    if appointment.starts_at > now:
        raise InvalidTransition(code="not_started")
    return _set_status(
        appointment=appointment,
        to=S.NO_SHOW,
        kind=K.NO_SHOW,
        stamp_field="no_show_at",
        actor=actor,
        now=now,
    )


@conflicts_as_slot_taken
def appointment_complete(*, appointment: Appointment, actor) -> Appointment:
    """The visit took place (from checked in)."""
    now = timezone.now()
    _require_staff_actor(actor)
    appointment = _lock(appointment)
    _check_transition(appointment, S.COMPLETED)
    return _set_status(
        appointment=appointment,
        to=S.COMPLETED,
        kind=K.COMPLETED,
        stamp_field="completed_at",
        actor=actor,
        now=now,
    )


# --- Rollback ------------------------------------------------------------------------------------


@conflicts_as_slot_taken
def appointment_rollback(*, appointment: Appointment, actor, reason: str = "") -> Appointment:
    """The red button: staff undo the latest booking or reschedule, restoring exactly the
    previous state, within the clinic's `rollback_window_minutes`.

    Undoing a booking releases it (status `rolled_back`); undoing a move puts the appointment
    back on its previous doctor, time, room, equipment and status. If that time has been
    taken since, `RollbackConflict` and nothing changes. Each rollback leaves a
    `RollbackRecord` for analytics.
    """
    now = timezone.now()
    reason = _clean_reason(reason)
    _require_staff_actor(actor)
    appointment = _lock(appointment)
    last = appointment.events.order_by("-occurred_at", "-id").first()
    if last is None or last.kind not in (K.BOOKED, K.RESCHEDULED):
        raise InvalidTransition(code="nothing_to_roll_back")
    policy = policy_for(appointment.clinic)
    if now - last.occurred_at > datetime.timedelta(minutes=policy.rollback_window_minutes):
        raise PolicyViolation(code="rollback_window_passed")
    if last.kind == K.BOOKED:
        result = _rollback_booking(appointment=appointment, actor=actor, now=now, reason=reason)
        record_kind = RollbackRecord.Kind.BOOKING
    else:
        result = _rollback_move(
            appointment=appointment, move=last.move, actor=actor, now=now, reason=reason
        )
        record_kind = RollbackRecord.Kind.RESCHEDULE
    RollbackRecord.objects.create(
        appointment=appointment,
        undone_event=last,
        kind=record_kind,
        clinic_id=appointment.clinic_id,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason,
        occurred_at=now,
    )
    return result


def _rollback_booking(*, appointment: Appointment, actor, now, reason: str) -> Appointment:
    _check_transition(appointment, S.ROLLED_BACK)
    _release(appointment)
    from_status = appointment.status
    appointment.status = S.ROLLED_BACK
    appointment.rolled_back_at = now
    appointment.updated_by = actor if getattr(actor, "is_authenticated", False) else None
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


def _rollback_move(
    *, appointment: Appointment, move: AppointmentMove, actor, now, reason: str
) -> Appointment:
    if appointment.status not in (S.BOOKED, S.CONFIRMED):
        raise InvalidTransition(code="not_movable")
    if move.from_starts_at <= now:
        raise RollbackConflict(code="previous_time_passed")
    current_start = appointment.starts_at
    _release(appointment)
    # Restoring a state that existed: counts go back without checking limits.
    quota_take(
        clinic=appointment.clinic,
        doctor_id=move.from_doctor_id,
        service_id=appointment.service_id,
        channel=appointment.quota_channel,
        day=_local_day(move.from_starts_at, appointment.clinic),
        start=move.from_starts_at,
        now=now,
        enforce=False,
    )
    from_status = appointment.status
    appointment.doctor_id = move.from_doctor_id
    appointment.starts_at = move.from_starts_at
    appointment.ends_at = move.from_ends_at
    appointment.room_id = move.from_room_id
    appointment.buffer_minutes = move.from_buffer_minutes
    appointment.status = move.from_status
    appointment.reschedule_count = max(appointment.reschedule_count - 1, 0)
    appointment.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    appointment.updated_at = now
    if move.from_status == S.CONFIRMED:
        previous_confirm = (
            appointment.events.filter(kind=K.CONFIRMED, occurred_at__lte=move.moved_at)
            .order_by("-occurred_at")
            .values_list("occurred_at", flat=True)
            .first()
        )
        appointment.confirmed_at = previous_confirm
    appointment.save(
        update_fields=[
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
    )
    appointment.equipment.set(move.from_equipment_ids)
    _occupy(appointment, equipment_ids=move.from_equipment_ids, now=now, conflict=RollbackConflict)
    appointment.doctor = Doctor.objects.get(pk=move.from_doctor_id)
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
