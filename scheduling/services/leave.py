"""Deciding a doctor's leave request (`LeaveRequest`): approve or decline.

Approval puts the leave into the schedule in one transaction: a day off becomes an absence
(`ScheduleException`) and its waiting visits go to the desk to rebook; a substitution becomes a
`Substitution` per day and clinic (the engine then gives the absent doctor's hours to the
substitute), and each waiting visit is moved to the substitute at the same time where the
booking engine allows it, else handed to the desk too.
Patients are told through the outbox, the doctor sees the decision on their leave page and by
e-mail. Declining changes nothing in the schedule. A decided request stays decided.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.services import NoAddress, outbox_enqueue
from portal import permissions
from portal.choices import AuditAction
from portal.models import Clinic, User
from portal.services.audit import audit_record
from portal.types import RequestUser
from scheduling.choices import (
    AppointmentStatus,
    ExceptionKind,
    LeaveKind,
    LeaveStatus,
    RebookReason,
)
from scheduling.errors import BookingError, InvalidInput, InvalidTransition, NotAllowed
from scheduling.models import Appointment, Doctor, LeaveRequest, ScheduleException, Substitution
from scheduling.services.booking import appointment_reschedule
from scheduling.services.booking.guards import user_or_none
from scheduling.services.history import message_context
from scheduling.services.rebooking import rebook_tasks_open

CAPABILITY = "schedule.manage"
MAX_DECISION_REASON_LENGTH = 300
# Visits still to come and not begun: the only ones a leave moves or hands to the desk.
WAITING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
OBJECT_TYPE = "scheduling.leaverequest"


@dataclass
class LeaveDecision:
    """What a decision did: the visits moved to the substitute and those left to the desk."""

    request: LeaveRequest
    moved: list[Appointment] = field(default_factory=list)
    to_desk: list[Appointment] = field(default_factory=list)


def leave_clinics(request: LeaveRequest) -> list[Clinic]:
    """The clinics a request concerns: its own, or every active clinic of the doctor."""
    if request.clinic is not None:
        return [request.clinic]
    return list(request.doctor.clinics.filter(is_active=True).order_by("name"))


def leave_affected_appointments(request: LeaveRequest) -> list[Appointment]:
    """The doctor's waiting visits on the request's days (each clinic's own calendar), in the
    clinics it concerns, soonest first."""
    clinics = {c.pk: c for c in leave_clinics(request)}
    # A day in any clinic's zone lies within a day either side of the same UTC dates.
    after = datetime.datetime.combine(request.date_from, datetime.time.min, tzinfo=datetime.UTC)
    before = datetime.datetime.combine(request.date_to, datetime.time.max, tzinfo=datetime.UTC)
    candidates = (
        Appointment.objects.filter(
            doctor_id=request.doctor_id,
            clinic_id__in=clinics,
            status__in=WAITING_STATUSES,
            starts_at__gte=after - datetime.timedelta(days=1),
            starts_at__lte=before + datetime.timedelta(days=1),
        )
        .select_related("patient", "doctor", "service", "clinic")
        .order_by("starts_at", "pk")
    )
    return [
        a
        for a in candidates
        if request.date_from
        <= a.starts_at.astimezone(clinics[a.clinic_id].tz).date()
        <= request.date_to
    ]


def _check_may_decide(request: LeaveRequest, actor: RequestUser) -> list[Clinic]:
    """The request's clinics, if `actor` manages the schedule in every one of them and is not
    the doctor who asked; refuses otherwise."""
    clinics = leave_clinics(request)
    if not clinics or not all(permissions.has_capability(actor, CAPABILITY, c) for c in clinics):
        raise NotAllowed(
            _("Only the head nurse or admin of every clinic concerned decides this request."),
            code="not_your_clinic",
        )
    if request.doctor.user_id == actor.pk:
        raise NotAllowed(_("Someone else decides your own request."), code="own_request")
    return clinics


def _works_in_all(substitute: Doctor, clinics: list[Clinic]) -> bool:
    """The substitute takes the absent doctor's hours where they already work: in each clinic."""
    return substitute.clinics.filter(pk__in=[c.pk for c in clinics]).count() == len(clinics)


def _lock_pending(request: LeaveRequest) -> LeaveRequest:
    locked = (
        LeaveRequest.objects.select_for_update(of=("self",))
        .select_related("doctor", "clinic", "substitute")
        .get(pk=request.pk)
    )
    if locked.status != LeaveStatus.PENDING:
        raise InvalidTransition(
            _("This request has been decided already (%(status)s).")
            % {"status": locked.get_status_display()},
            code="already_decided",
        )
    return locked


def _clean_reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) > MAX_DECISION_REASON_LENGTH:
        raise InvalidInput(
            _("Keep the reason under %(limit)d characters.")
            % {"limit": MAX_DECISION_REASON_LENGTH},
            code="reason_too_long",
        )
    return reason


def _days(request: LeaveRequest) -> list[datetime.date]:
    count = (request.date_to - request.date_from).days + 1
    return [request.date_from + datetime.timedelta(days=n) for n in range(count)]


@transaction.atomic
def leave_request_approve(
    *,
    request: LeaveRequest,
    actor: RequestUser,
    substitute: Doctor | None = None,
    reason: str = "",
) -> LeaveDecision:
    """Approve a pending request and put it into the schedule (see the module docstring).

    A substitution needs a substitute (`substitute`, else the one the doctor proposed) who
    works in every clinic concerned (the page offers those of the absent doctor's specialty;
    visits of a service the substitute does not do go to the desk). Only
    holders of `schedule.manage` in every clinic concerned decide, never the doctor who asked.
    Requests whose last day has passed are refused. Visits are moved only through
    `appointment_reschedule` (same time, the substitute free and able to do the service); each
    attempt runs in its own savepoint, so a refused move leaves the visit as it was.
    """
    request = _lock_pending(request)
    clinics = _check_may_decide(request, actor)
    reason = _clean_reason(reason)
    today = min(timezone.now().astimezone(c.tz).date() for c in clinics)
    if request.date_to < today:
        raise InvalidInput(_("These days are over; decline the request."), code="in_the_past")
    if request.kind == LeaveKind.SUBSTITUTION:
        substitute = substitute or request.substitute
        if substitute is None:
            raise InvalidInput(_("Choose the substitute doctor."), code="no_substitute")
        if substitute.pk == request.doctor_id or not substitute.is_active:
            raise InvalidInput(_("Choose another doctor as the substitute."), code="bad_substitute")
        if not _works_in_all(substitute, clinics):
            raise InvalidInput(
                _("Choose a substitute who works in every clinic the request concerns."),
                code="bad_substitute",
            )
        request.substitute = substitute
    else:
        substitute = None
    decision = LeaveDecision(request=request)
    affected = leave_affected_appointments(request)
    if substitute is not None:
        # First, so that the engine already gives the substitute the absent doctor's hours
        # (and takes them from the absent doctor) when the visits are moved.
        _record_substitutions(request, clinics, substitute)
        for appointment in affected:
            moved = _move_to(appointment, substitute, actor)
            (decision.moved if moved else decision.to_desk).append(appointment)
    else:
        _record_absence(request)
        decision.to_desk = affected
    if decision.to_desk:
        _hand_to_desk(request, decision.to_desk, actor)
    _decide(request, actor, LeaveStatus.APPROVED, reason)
    return decision


@transaction.atomic
def leave_request_decline(
    *, request: LeaveRequest, actor: RequestUser, reason: str
) -> LeaveRequest:
    """Decline a pending request with a reason the doctor will read; the schedule is left as
    it is. The same people decide as for an approval."""
    request = _lock_pending(request)
    _check_may_decide(request, actor)
    reason = _clean_reason(reason)
    if not reason:
        raise InvalidInput(_("Say why the request is declined."), code="reason_required")
    _decide(request, actor, LeaveStatus.DECLINED, reason)
    return request


def _record_absence(request: LeaveRequest) -> None:
    # The portal stops offering the doctor's times on these days (a substitution does the same
    # by handing the hours to the substitute).
    ScheduleException.objects.create(
        doctor=request.doctor,
        clinic=request.clinic,
        kind=ExceptionKind.DAY_OFF,
        date_from=request.date_from,
        date_to=request.date_to,
    )


def _record_substitutions(request: LeaveRequest, clinics: list[Clinic], substitute: Doctor) -> None:
    for clinic in clinics:
        for day in _days(request):
            Substitution.objects.update_or_create(
                clinic=clinic,
                date=day,
                absent_doctor=request.doctor,
                defaults={"substitute": substitute},
            )


def _move_to(appointment: Appointment, substitute: Doctor, actor: RequestUser) -> bool:
    """Move the visit to the substitute at its own time; False when the engine refuses."""
    try:
        appointment_reschedule(
            appointment=appointment,
            start=appointment.starts_at,
            doctor=substitute,
            actor=actor,
            reason=str(_("Doctor away: substitute")),
        )
    except BookingError:
        return False
    return True


def _dates_label(request: LeaveRequest) -> str:
    if request.date_from == request.date_to:
        return request.date_from.strftime("%d.%m.%Y")
    return f"{request.date_from:%d.%m.%Y}–{request.date_to:%d.%m.%Y}"


def _hand_to_desk(
    request: LeaveRequest, appointments: list[Appointment], actor: RequestUser
) -> None:
    """Open the desk's rebooking tasks and tell each patient the clinic will call."""
    label = LeaveKind(request.kind).label
    rebook_tasks_open(
        appointments=appointments,
        reason=RebookReason.LEAVE,
        detail=f"{request.doctor.full_name}: {label}, {_dates_label(request)}",
        actor=actor,
    )
    for appointment in appointments:
        for channel in ("sms", "email"):
            try:
                outbox_enqueue(
                    event="appointment.doctor_away",
                    channel=channel,
                    patient=appointment.patient,
                    context=message_context(appointment),
                    idempotency_key=f"leave:{request.pk}:{appointment.public_id}:{channel}",
                    clinic=appointment.clinic_id,
                )
            except NoAddress:
                continue


def _decide(request: LeaveRequest, actor: RequestUser, status: str, reason: str) -> None:
    request.status = status
    request.decided_by = user_or_none(actor)
    request.decided_at = timezone.now()
    request.decision_reason = reason
    request.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_at",
            "decision_reason",
            "substitute",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=request.pk,
        changed_fields=["status", "decided_by", "decided_at", "decision_reason", "substitute"],
        clinic=request.clinic,
    )
    _tell_doctor(request)


def _tell_doctor(request: LeaveRequest) -> None:
    # Only a signed-in decider gets this far (`_check_may_decide`).
    decider = cast(User, request.decided_by)
    user = request.doctor.user
    if user is None or not user.email:
        return
    context: dict[str, Any] = {
        "approved": request.status == LeaveStatus.APPROVED,
        "kind": request.kind,
        "dates": _dates_label(request),
        "decided_by": decider.get_full_name() or decider.email,
        "reason": request.decision_reason,
    }
    outbox_enqueue(
        event="leave.decided",
        channel="email",
        to=user.email,
        language=user.preferred_language or None,
        context=context,
        idempotency_key=f"leave-decided:{request.pk}",
    )
