"""A patient's visits (their own and their dependants'), with what they may still do to each
and, when they may not, why — said before the click, as the booking services would say it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal import permissions
from portal.formatting import when_label
from scheduling.choices import AppointmentStatus, WaitlistStatus
from scheduling.models import Appointment, BookingPolicy, WaitlistEntry
from scheduling.selectors.catalogue import get_by_public_id
from scheduling.selectors.payments import PaymentState, payment_state, payment_states
from scheduling.selectors.policy import is_late_cancel, policy_for

S = AppointmentStatus
MOVABLE = (S.BOOKED, S.CONFIRMED)


def patient_appointments(user: Any) -> QuerySet[Appointment]:
    """Visits of the patient and of the dependants they act for; nobody else's."""
    return Appointment.objects.filter(
        patient__in=permissions.patients_managed_by(user)
    ).select_related(
        "patient", "doctor", "service", "clinic", "clinic__booking_policy", "room", "promotion"
    )


def get_visit_for_patient(user: Any, public_id: Any) -> Appointment:
    """The visit if it is the patient's or a dependant's; 404 otherwise."""
    return get_by_public_id(patient_appointments(user), public_id)


@dataclass
class VisitView:
    """A visit with its labels and what the patient may do to it now."""

    appointment: Appointment
    when: str
    is_upcoming: bool
    can_cancel: bool
    cancel_note: str  # the late-cancellation rule, shown before the click
    can_reschedule: bool
    reschedule_note: str  # why a move is not possible any more, or its limits
    payment: PaymentState = field(default_factory=PaymentState)

    @property
    def is_self(self) -> bool:
        return self.appointment.patient.user_id is not None


def visit_view(
    appointment: Appointment,
    *,
    now: datetime.datetime | None = None,
    payment: PaymentState | None = None,
) -> VisitView:
    """The visit with what the patient may do; its payment state is read unless given."""
    now = now or timezone.now()
    clinic = appointment.clinic
    policy = policy_for(clinic)
    upcoming = appointment.status in MOVABLE and appointment.starts_at > now
    return VisitView(
        appointment=appointment,
        when=when_label(appointment.starts_at, clinic.tz, city=clinic.city),
        is_upcoming=upcoming,
        can_cancel=upcoming,
        cancel_note=_cancel_note(appointment, policy, now=now) if upcoming else "",
        can_reschedule=upcoming and _reschedule_refusal(appointment, policy, now=now) == "",
        reschedule_note=_reschedule_refusal(appointment, policy, now=now) if upcoming else "",
        payment=payment if payment is not None else payment_state(appointment, now=now),
    )


def _cancel_note(appointment: Appointment, policy: BookingPolicy, *, now: datetime.datetime) -> str:
    hours = policy.cancel_deadline_hours
    if appointment.starts_at - now < datetime.timedelta(hours=hours):
        if not is_late_cancel(appointment, policy, now=now):
            return ngettext(
                "The visit was booked less than %(hours)d hour before it: cancelling it is free "
                "and not counted as late.",
                "The visit was booked less than %(hours)d hours before it: cancelling it is free "
                "and not counted as late.",
                hours,
            ) % {"hours": hours}
        return ngettext(
            "Less than %(hours)d hour is left before the visit: the clinic counts this as a "
            "late cancellation.",
            "Less than %(hours)d hours are left before the visit: the clinic counts this as a "
            "late cancellation.",
            hours,
        ) % {"hours": hours}
    return ngettext(
        "Free cancellation up to %(hours)d hour before the visit.",
        "Free cancellation up to %(hours)d hours before the visit.",
        hours,
    ) % {"hours": hours}


def _reschedule_refusal(
    appointment: Appointment, policy: BookingPolicy, *, now: datetime.datetime
) -> str:
    hours = policy.reschedule_deadline_hours
    if appointment.starts_at - now < datetime.timedelta(hours=hours):
        return ngettext(
            "A visit can be moved online up to %(hours)d hour before it; please call the clinic.",
            "A visit can be moved online up to %(hours)d hours before it; please call the clinic.",
            hours,
        ) % {"hours": hours}
    if appointment.reschedule_count >= policy.max_reschedules:
        return _("This visit has been moved as many times as the clinic allows online.")
    return ""


def patient_visits(
    *, user: Any, now: datetime.datetime | None = None
) -> tuple[list[VisitView], list[VisitView]]:
    """(upcoming, past) visits of the patient and their dependants, nearest first."""
    now = now or timezone.now()
    upcoming, past = [], []
    appointments = list(patient_appointments(user).order_by("starts_at", "id"))
    payments = payment_states(appointments, now=now)
    for appointment in appointments:
        view = visit_view(appointment, now=now, payment=payments[appointment.pk])
        if appointment.status in (S.BOOKED, S.CONFIRMED, S.CHECKED_IN) and (
            appointment.ends_at > now
        ):
            upcoming.append(view)
        else:
            past.append(view)
    past.reverse()
    return upcoming, past


def patient_waitlist(user: Any) -> QuerySet[WaitlistEntry]:
    """Active waitlist entries of the patient and of the dependants they act for."""
    return (
        WaitlistEntry.objects.filter(
            patient__in=permissions.patients_managed_by(user), status=WaitlistStatus.ACTIVE
        )
        .select_related("patient", "service", "specialty", "doctor", "clinic")
        .order_by("date_from", "id")
    )


def get_waitlist_entry_for_patient(user: Any, public_id: Any) -> WaitlistEntry:
    return get_by_public_id(patient_waitlist(user), public_id)
