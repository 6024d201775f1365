"""A clinic's booking policy, with defaults for clinics that have no row yet, and the rules
read from it (when a cancellation is late)."""

from __future__ import annotations

import datetime

from portal.models import Clinic
from scheduling.choices import AppointmentEventKind
from scheduling.models import Appointment, BookingPolicy


def policy_for(clinic: Clinic) -> BookingPolicy:
    """The clinic's policy (loaded with the clinic by `select_related("booking_policy")`, or
    read now); an unsaved default policy when none is configured."""
    try:
        return clinic.booking_policy
    except BookingPolicy.DoesNotExist:
        return BookingPolicy(clinic=clinic)


def time_set_at(appointment: Appointment) -> datetime.datetime:
    """When the visit got its current start: booked then, or moved there last."""
    moved = (
        appointment.events.filter(kind=AppointmentEventKind.RESCHEDULED)
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    return moved or appointment.created_at


def is_late_cancel(
    appointment: Appointment, policy: BookingPolicy, *, now: datetime.datetime
) -> bool:
    """Whether cancelling at `now` counts as a late cancellation.

    Late means the patient could have cancelled free and did not: the visit is now closer
    than `cancel_deadline_hours` to its start, yet it held that start while more than the
    deadline was left. A visit booked (or moved) inside the window was never free to cancel
    on time, so cancelling it is not late.
    """
    deadline = datetime.timedelta(hours=policy.cancel_deadline_hours)
    if appointment.starts_at - now >= deadline:
        return False
    return appointment.starts_at - time_set_at(appointment) >= deadline
