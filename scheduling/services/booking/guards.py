"""Checks every booking service makes before it changes anything."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import permissions
from portal.models import Clinic, Patient
from scheduling.choices import ALLOWED_TRANSITIONS
from scheduling.errors import InvalidInput, InvalidTransition, NotAllowed, OutsideBookingWindow
from scheduling.models import Appointment
from scheduling.selectors.availability import LATEST_DATE

# Of the plaintext: the column holds its encrypted token, which is longer.
MAX_REASON_LENGTH = 300
# C0 controls but tab and newlines, and DEL: invisible in every place a reason is shown.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_may_act_for(actor: Any, patient: Patient) -> None:
    """A patient acts only for themselves and their dependants; staff are checked by the
    callers' capabilities."""
    if not permissions.acts_as_patient(actor):
        return
    # Oneself needs no query: `patients_managed_by` always holds one's own profile.
    if actor.patient.pk != patient.pk and not permissions.can_act_for_patient(actor, patient):
        raise NotAllowed(code="not_your_patient")


def require_staff_actor(actor: Any) -> None:
    if permissions.acts_as_patient(actor):
        raise NotAllowed(code="staff_only")


def clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(code="reason_too_long", max_length=MAX_REASON_LENGTH)
    if _CONTROL_CHARS.search(reason):
        raise InvalidInput(_("Remove control characters."), code="reason_control_characters")
    return reason


def local_day(when: datetime.datetime, clinic: Clinic) -> datetime.date:
    return when.astimezone(clinic.tz).date()


def user_or_none(actor: Any) -> Any:
    """The actor as a foreign key value: None for anonymous and system actions."""
    return actor if getattr(actor, "is_authenticated", False) else None


def as_utc(start: object) -> datetime.datetime:
    """An aware `start` as a UTC instant (compared across zones, a time in a DST fold is
    never equal to anything: PEP 495)."""
    if not isinstance(start, datetime.datetime) or timezone.is_naive(start):
        raise InvalidInput(code="naive_datetime", field="start")
    if start.date() > LATEST_DATE:
        # Its UTC instant may lie past the calendar's last day (OverflowError).
        raise OutsideBookingWindow(code="beyond_horizon")
    return start.astimezone(datetime.UTC)


def lock_appointment(appointment: Appointment) -> Appointment:
    """The appointment re-read under a row lock, with what the services need."""
    try:
        return (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("clinic", "patient", "doctor", "service")
            .get(pk=appointment.pk)
        )
    except Appointment.DoesNotExist as exc:
        raise InvalidInput(code="unknown_appointment") from exc


def check_transition(appointment: Appointment, to: str) -> None:
    if to not in ALLOWED_TRANSITIONS[appointment.status]:
        raise InvalidTransition(code=f"{appointment.status}_to_{to}")
