"""Whether the desk may still take back a visit's latest status mark (check-in, no-show,
completion) made by mistake, and until when.

The rule, shared by the desk page (which shows the button) and
`scheduling.services.booking.status_undo` (which checks again under the row lock): the mark is
the visit's latest change, it was made on the clinic's current local day, and no prepayment
arrived after it (a paid visit is settled, so its status stays).
"""

from __future__ import annotations

import datetime

from scheduling.choices import AppointmentEventKind, PaymentStatus
from scheduling.models import Appointment, AppointmentEvent, Payment

K = AppointmentEventKind
# The marks that may be undone, and the time stamp each one set on the appointment.
UNDOABLE_MARKS: dict[str, str] = {
    K.CHECKED_IN: "checked_in_at",
    K.NO_SHOW: "no_show_at",
    K.COMPLETED: "completed_at",
}


def status_undo_refusal(
    *, appointment: Appointment, last: AppointmentEvent | None, now: datetime.datetime
) -> str | None:
    """Why the latest change `last` of `appointment` cannot be undone now (an error code), or
    None when it can."""
    if last is None or last.kind not in UNDOABLE_MARKS or last.to_status != appointment.status:
        return "nothing_to_undo"
    tz = appointment.clinic.tz
    if now.astimezone(tz).date() != last.occurred_at.astimezone(tz).date():
        return "undo_day_passed"
    paid_since = Payment.objects.filter(
        appointment=appointment, status=PaymentStatus.SUCCEEDED, paid_at__gte=last.occurred_at
    ).exists()
    return "already_paid" if paid_since else None


def status_undo_until(
    *, appointment: Appointment, last: AppointmentEvent | None, now: datetime.datetime
) -> datetime.datetime | None:
    """The end of the clinic's local day (in its zone) when the latest mark may be undone until
    then, else None."""
    if status_undo_refusal(appointment=appointment, last=last, now=now) is not None:
        return None
    tz = appointment.clinic.tz
    day = now.astimezone(tz).date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
