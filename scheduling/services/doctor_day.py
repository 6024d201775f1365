"""What a doctor does from their day page: complete a visit, ask for a day off or a
substitution. Access to the visit itself (their own) is checked by the caller through
`scheduling.selectors.doctor_day`."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from portal import permissions
from portal.choices import AuditAction
from portal.models import Clinic
from portal.services.audit import audit_record
from portal.types import RequestUser
from scheduling.choices import AppointmentStatus, LeaveKind
from scheduling.errors import InvalidInput, NotAllowed
from scheduling.models import Appointment, Doctor, LeaveRequest
from scheduling.services.booking import appointment_check_in, appointment_complete
from scheduling.services.booking.guards import user_or_none

S = AppointmentStatus
MAX_LEAVE_NOTE_LENGTH = 300
# A request further ahead is a typing mistake rather than a plan.
MAX_LEAVE_DAYS = 60


@transaction.atomic
def visit_complete_by_doctor(
    *, appointment: Appointment, actor: RequestUser
) -> tuple[Appointment, bool]:
    """Mark the doctor's visit completed; (the visit, whether anything changed).

    A patient the desk has not checked in is checked in first (the doctor saw them), through
    the booking services, so both steps are in the visit's history. Completing a completed
    visit changes nothing (a double click). Needs `appointment.complete` in the clinic.
    """
    if not permissions.has_capability(actor, "appointment.complete", appointment.clinic_id):
        raise NotAllowed(code="staff_only")
    if appointment.status == S.COMPLETED:
        return appointment, False
    if appointment.status in (S.BOOKED, S.CONFIRMED):
        appointment = appointment_check_in(appointment=appointment, actor=actor)
    return appointment_complete(appointment=appointment, actor=actor), True


@transaction.atomic
def leave_request_create(
    *,
    doctor: Doctor,
    actor: RequestUser,
    kind: str,
    date_from: datetime.date,
    date_to: datetime.date,
    clinic: Clinic | None = None,
    substitute: Doctor | None = None,
    note: str = "",
) -> LeaveRequest:
    """Record the doctor's request for the head nurse or clinic admin to decide on; nothing
    in the schedule changes yet. Only the doctor's own login asks for themselves."""
    if doctor.user_id != actor.pk:
        raise NotAllowed(code="not_your_schedule")
    if kind not in LeaveKind.values:
        raise InvalidInput(code="invalid_kind")
    if date_to < date_from:
        raise InvalidInput(_("The last day comes before the first."), code="dates_reversed")
    if (date_to - date_from).days >= MAX_LEAVE_DAYS:
        raise InvalidInput(
            _("Ask for at most %(days)d days at once.") % {"days": MAX_LEAVE_DAYS},
            code="too_long",
        )
    if substitute is not None and substitute.pk == doctor.pk:
        raise InvalidInput(_("Choose another doctor as the substitute."), code="self_substitute")
    if kind == LeaveKind.DAY_OFF:
        substitute = None
    note = note.strip()
    if len(note) > MAX_LEAVE_NOTE_LENGTH:
        raise InvalidInput(code="note_too_long")
    request = LeaveRequest.objects.create(
        doctor=doctor,
        clinic=clinic,
        kind=kind,
        date_from=date_from,
        date_to=date_to,
        substitute=substitute,
        note=note,
        requested_by=user_or_none(actor),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="scheduling.leaverequest",
        object_id=request.pk,
        changed_fields=["kind", "date_from", "date_to", "clinic", "substitute", "note"],
        clinic=clinic,
    )
    return request
