"""Status changes of one appointment: cancel, confirm, check in, no-show, complete."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scheduling.choices import AppointmentEventKind, AppointmentStatus
from scheduling.errors import InvalidTransition
from scheduling.models import Appointment
from scheduling.selectors.policy import is_late_cancel, policy_for
from scheduling.services.history import record_change
from scheduling.services.occupancy import conflicts_as_slot_taken
from scheduling.services.refunds import refund_record

from .guards import (
    check_may_act_for,
    check_transition,
    clean_reason,
    local_day,
    lock_appointment,
    require_staff_actor,
    user_or_none,
)
from .placement import release

S = AppointmentStatus
K = AppointmentEventKind


@conflicts_as_slot_taken
def appointment_cancel(
    *,
    appointment: Appointment,
    actor: Any,
    reason: str = "",
    now: datetime.datetime | None = None,
) -> Appointment:
    """Cancel an upcoming booked or confirmed appointment and free its time and quota (at `now`,
    the current time when not given).

    A cancellation closer to the start than the clinic's `cancel_deadline_hours` is allowed
    but flagged `late_cancel` (no-show analytics and penalties count it) when the patient could
    have cancelled free and did not: a visit booked or moved inside that window is not late
    (`is_late_cancel`). A prepaid visit gets
    its refund recorded here; the provider is asked once this commits.
    """
    now = now or timezone.now()
    reason = clean_reason(reason)
    appointment = lock_appointment(appointment)
    check_may_act_for(actor, appointment.patient)
    check_transition(appointment, S.CANCELLED)
    if appointment.starts_at <= now:
        raise InvalidTransition(code="already_started")
    policy = policy_for(appointment.clinic)
    release(appointment)
    from_status = appointment.status
    appointment.status = S.CANCELLED
    appointment.cancelled_at = now
    appointment.cancel_reason = reason
    appointment.late_cancel = is_late_cancel(appointment, policy, now=now)
    appointment.updated_by = user_or_none(actor)
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
    refund_record(appointment=appointment, actor=actor, now=now)
    return appointment


@conflicts_as_slot_taken
def appointment_release_unpaid(*, appointment: Appointment) -> Appointment | None:
    """Cancel a booking whose online prepayment did not arrive by its `payment_due_at`, and
    free its time and quota. A booking paid, cancelled or not yet due is left as it is (None):
    the periodic task and a page view may both try."""
    now = timezone.now()
    appointment = lock_appointment(appointment)
    due = appointment.payment_due_at
    if appointment.status != S.BOOKED or due is None or due > now:
        return None
    release(appointment)
    appointment.status = S.CANCELLED
    appointment.cancelled_at = now
    appointment.updated_by = None
    appointment.updated_at = now
    appointment.save(update_fields=["status", "cancelled_at", "updated_by", "updated_at"])
    record_change(
        appointment=appointment,
        kind=K.CANCELLED,
        from_status=S.BOOKED,
        actor=None,
        now=now,
        changed_fields=["status"],
    )
    return appointment


@conflicts_as_slot_taken
def appointment_confirm_paid(*, appointment: Appointment) -> Appointment:
    """The prepayment of a waiting booking arrived: it no longer waits and is confirmed (the
    patient is told by the payment's own message)."""
    now = timezone.now()
    appointment = lock_appointment(appointment)
    check_transition(appointment, S.CONFIRMED)
    appointment.payment_due_at = None
    appointment.save(update_fields=["payment_due_at"])
    return set_status(
        appointment=appointment,
        to=S.CONFIRMED,
        kind=K.CONFIRMED,
        stamp_field="confirmed_at",
        actor=None,
        now=now,
        notify=False,
    )


def set_status(
    *,
    appointment: Appointment,
    to: str,
    kind: str,
    stamp_field: str,
    actor: Any,
    now: datetime.datetime,
    notify: bool = True,
) -> Appointment:
    """Change the status, stamp when, and record the change (the caller has checked it)."""
    from_status = appointment.status
    appointment.status = to
    setattr(appointment, stamp_field, now)
    appointment.updated_by = user_or_none(actor)
    appointment.updated_at = now
    appointment.save(update_fields=["status", stamp_field, "updated_by", "updated_at"])
    record_change(
        appointment=appointment,
        kind=kind,
        from_status=from_status,
        actor=actor,
        now=now,
        changed_fields=["status"],
        notify=notify,
    )
    return appointment


@conflicts_as_slot_taken
def appointment_confirm(*, appointment: Appointment, actor: Any) -> Appointment:
    """The patient (or staff for them) confirms they will come. Only before the start."""
    now = timezone.now()
    appointment = lock_appointment(appointment)
    check_may_act_for(actor, appointment.patient)
    check_transition(appointment, S.CONFIRMED)
    if appointment.starts_at <= now:
        raise InvalidTransition(code="already_started")
    if appointment.payment_due_at is not None:
        raise InvalidTransition(
            _("This visit is confirmed by its prepayment."), code="awaiting_payment"
        )
    return set_status(
        appointment=appointment,
        to=S.CONFIRMED,
        kind=K.CONFIRMED,
        stamp_field="confirmed_at",
        actor=actor,
        now=now,
    )


@conflicts_as_slot_taken
def appointment_check_in(*, appointment: Appointment, actor: Any) -> Appointment:
    """Staff mark the patient arrived; only on the visit's local day or later."""
    now = timezone.now()
    require_staff_actor(actor)
    appointment = lock_appointment(appointment)
    check_transition(appointment, S.CHECKED_IN)
    if local_day(now, appointment.clinic) < local_day(appointment.starts_at, appointment.clinic):
        raise InvalidTransition(code="not_today")
    return set_status(
        appointment=appointment,
        to=S.CHECKED_IN,
        kind=K.CHECKED_IN,
        stamp_field="checked_in_at",
        actor=actor,
        now=now,
    )


@conflicts_as_slot_taken
def appointment_mark_no_show(*, appointment: Appointment, actor: Any) -> Appointment:
    """Staff record that the patient did not come; only once the start has passed."""
    now = timezone.now()
    require_staff_actor(actor)
    appointment = lock_appointment(appointment)
    check_transition(appointment, S.NO_SHOW)
    if appointment.starts_at > now:
        raise InvalidTransition(code="not_started")
    return set_status(
        appointment=appointment,
        to=S.NO_SHOW,
        kind=K.NO_SHOW,
        stamp_field="no_show_at",
        actor=actor,
        now=now,
    )


@conflicts_as_slot_taken
def appointment_complete(*, appointment: Appointment, actor: Any) -> Appointment:
    """The visit took place (from checked in)."""
    now = timezone.now()
    require_staff_actor(actor)
    appointment = lock_appointment(appointment)
    check_transition(appointment, S.COMPLETED)
    return set_status(
        appointment=appointment,
        to=S.COMPLETED,
        kind=K.COMPLETED,
        stamp_field="completed_at",
        actor=actor,
        now=now,
    )
