"""Checks shared by the clinic admin's schedule services (`schedule_rules`,
`schedule_exceptions`, `booking_policy`): the actor's capability in the clinic, the lock on the
doctor whose schedule changes and the bounds of a slot step."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal import permissions
from portal.models import Clinic
from portal.types import RequestUser
from scheduling.errors import InvalidInput, NotAllowed
from scheduling.models import Doctor

MIN_STEP_MINUTES = 5
MAX_STEP_MINUTES = 240


def require_capability(actor: RequestUser, capability: str, clinic: Clinic) -> None:
    if not permissions.has_capability(actor, capability, clinic):
        raise NotAllowed(_("You may not change this clinic's schedule."), code="not_allowed")


def lock_doctor_of(clinic: Clinic, doctor: Doctor) -> None:
    """Lock the doctor's row (edits of one doctor's schedule queue behind each other, so two
    overlapping rules cannot both pass the check) and check they work in `clinic`."""
    locked = Doctor.objects.select_for_update().filter(pk=doctor.pk, clinics=clinic).exists()
    if not locked:
        raise InvalidInput(_("This doctor does not work in this clinic."), code="foreign_doctor")


def check_slot_step(slot_step_minutes: int) -> None:
    if not MIN_STEP_MINUTES <= slot_step_minutes <= MAX_STEP_MINUTES:
        raise InvalidInput(
            _("The slot step is from %(low)d to %(high)d minutes.")
            % {"low": MIN_STEP_MINUTES, "high": MAX_STEP_MINUTES},
            code="step",
            field="slot_step_minutes",
        )
