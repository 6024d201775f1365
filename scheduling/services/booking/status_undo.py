"""`appointment_status_undo`: the desk takes back a check-in, no-show or completion marked by
mistake."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scheduling.choices import AppointmentEventKind
from scheduling.errors import BookingError, InvalidInput, InvalidTransition, PolicyViolation
from scheduling.models import Appointment
from scheduling.selectors.status_undo import UNDOABLE_MARKS, status_undo_refusal
from scheduling.services.history import record_change
from scheduling.services.occupancy import conflicts_as_slot_taken

from .guards import clean_reason, lock_appointment, require_staff_actor, user_or_none

K = AppointmentEventKind
# Each refusal of `status_undo_refusal` as the error raised, with its message.
REFUSALS: dict[str, tuple[type[BookingError], Any]] = {
    "nothing_to_undo": (
        InvalidTransition,
        _("The visit's last change is not a check-in, no-show or completion."),
    ),
    "undo_day_passed": (
        PolicyViolation,
        _("A status mark can be undone only on the day it was made."),
    ),
    "already_paid": (
        PolicyViolation,
        _("The visit has been paid since it was marked; its status stays."),
    ),
}


@conflicts_as_slot_taken
def appointment_status_undo(
    *, appointment: Appointment, actor: Any, reason: str, event_id: int | None = None
) -> Appointment:
    """Staff take back the visit's latest status mark (check-in, no-show or completion) made by
    mistake: the visit returns to the status it had before, the mark's time stamp is cleared,
    and an `undone` event with the reason and an audit row record who did it.

    Allowed on the clinic's local day of the mark, while it is still the visit's latest change
    and no prepayment arrived after it (`status_undo_refusal`). `event_id`: the mark the page
    showed; if another change came since, nothing is undone. A reason is required. The time,
    quotas and occupancy are untouched (every one of these statuses holds the time), no message
    goes to the patient, and no `RollbackRecord` is written: the wrong-bookings KPI counts
    undone bookings and moves, not corrected marks.
    """
    now = timezone.now()
    reason = clean_reason(reason)
    if not reason:
        raise InvalidInput(_("Say why the mark is undone."), code="reason_required")
    require_staff_actor(actor)
    appointment = lock_appointment(appointment)
    last = appointment.events.order_by("-occurred_at", "-id").first()
    refusal = status_undo_refusal(appointment=appointment, last=last, now=now)
    if refusal is not None or last is None:
        error, message = REFUSALS[refusal or "nothing_to_undo"]
        raise error(message, code=refusal)
    if event_id is not None and event_id != last.pk:
        raise InvalidTransition(
            _("The visit has changed since the page was shown."), code="changed_since"
        )
    from_status = appointment.status
    stamp = UNDOABLE_MARKS[last.kind]
    appointment.status = last.from_status
    setattr(appointment, stamp, None)
    appointment.updated_by = user_or_none(actor)
    appointment.updated_at = now
    appointment.save(update_fields=["status", stamp, "updated_by", "updated_at"])
    record_change(
        appointment=appointment,
        kind=K.UNDONE,
        from_status=from_status,
        actor=actor,
        now=now,
        reason=reason,
        changed_fields=["status", stamp],
        notify=False,
    )
    return appointment
