"""A clinic's schedule exceptions, edited from the clinic admin pages: a doctor's absences
(vacation, sick leave, day off), which hand the visits they cover to the desk, and extra hours.

Every write runs in one transaction, checks `schedule.manage` in the clinic, validates the
whole change before touching anything (a refused change raises `InvalidInput` with a
translated message and changes nothing) and writes one audit event. Free slots follow at once
(see `schedule_rules`).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from portal import permissions
from portal.choices import AuditAction
from portal.models import Clinic
from portal.services.audit import audit_record
from portal.types import RequestUser
from scheduling.choices import ABSENCE_KINDS, ExceptionKind, RebookReason
from scheduling.errors import InvalidInput, NotAllowed
from scheduling.models import Doctor, RebookTask, ScheduleException
from scheduling.selectors.schedule_admin import absence_hits
from scheduling.services.rebooking import rebook_tasks_open
from scheduling.services.schedule_checks import check_slot_step, lock_doctor_of, require_capability
from scheduling.services.waitlist_schedule import waitlist_watch_schedule

# An exception longer than a year is a typing mistake rather than a plan.
MAX_EXCEPTION_DAYS = 366
MAX_NOTE_LENGTH = 200


def _check_exception(
    *,
    kind: str,
    date_from: datetime.date,
    date_to: datetime.date,
    start_time: datetime.time | None,
    end_time: datetime.time | None,
    slot_step_minutes: int,
    note: str,
    today: datetime.date,
) -> None:
    if kind not in ExceptionKind.values:
        raise InvalidInput(_("Choose the kind of exception."), code="kind", field="kind")
    if date_to < date_from:
        raise InvalidInput(
            _("The last day comes before the first."), code="dates_reversed", field="date_to"
        )
    if date_to < today:
        raise InvalidInput(_("This period is already over."), code="past", field="date_to")
    if (date_to - date_from).days >= MAX_EXCEPTION_DAYS:
        raise InvalidInput(
            _("An exception lasts at most %(days)d days.") % {"days": MAX_EXCEPTION_DAYS},
            code="too_long",
            field="date_to",
        )
    if (start_time is None) != (end_time is None):
        raise InvalidInput(
            _("Give both the start and the end time, or neither for whole days."),
            code="times",
            field="end_time",
        )
    if start_time is not None and end_time is not None and end_time <= start_time:
        raise InvalidInput(_("The end must come after the start."), code="times", field="end_time")
    if kind == ExceptionKind.EXTRA_HOURS:
        if start_time is None:
            raise InvalidInput(
                _("Extra hours need a start and an end time."), code="times", field="start_time"
            )
        check_slot_step(slot_step_minutes)
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput(
            _("The note is at most %(count)d characters.") % {"count": MAX_NOTE_LENGTH},
            code="note_too_long",
            field="note",
        )


@transaction.atomic
def schedule_exception_create(
    *,
    clinic: Clinic,
    doctor: Doctor,
    actor: RequestUser,
    kind: str,
    date_from: datetime.date,
    date_to: datetime.date,
    today: datetime.date,
    start_time: datetime.time | None = None,
    end_time: datetime.time | None = None,
    slot_step_minutes: int = 30,
    note: str = "",
) -> tuple[ScheduleException, list[RebookTask]]:
    """Record an absence (vacation, sick leave, day off) or extra hours of `doctor` in
    `clinic`, from `date_from` to `date_to` (whole days, or `start_time`–`end_time` on each).

    An absence moves no visit: the booked and confirmed visits it covers are handed to the
    desk as rebooking tasks (reason: doctor away) in the same transaction; the tasks opened
    are returned beside the exception. `today` is the clinic's local date: a period already
    over is refused.
    """
    require_capability(actor, "schedule.manage", clinic)
    lock_doctor_of(clinic, doctor)
    note = note.strip()
    _check_exception(
        kind=kind,
        date_from=date_from,
        date_to=date_to,
        start_time=start_time,
        end_time=end_time,
        slot_step_minutes=slot_step_minutes,
        note=note,
        today=today,
    )
    if kind not in ABSENCE_KINDS:
        # Extra hours open times the waiting list is offered once this commits.
        waitlist_watch_schedule(clinics=[clinic], doctor=doctor, first=date_from, last=date_to)
    exception = ScheduleException.objects.create(
        clinic=clinic,
        doctor=doctor,
        kind=kind,
        date_from=date_from,
        date_to=date_to,
        start_time=start_time,
        end_time=end_time,
        slot_step_minutes=slot_step_minutes,
        note=note,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="scheduling.scheduleexception",
        object_id=exception.pk,
        changed_fields=["doctor", "kind", "date_from", "date_to", "start_time", "end_time", "note"],
        clinic=clinic,
    )
    tasks: list[RebookTask] = []
    if kind in ABSENCE_KINDS:
        hits = absence_hits(
            clinic=clinic,
            doctor=doctor,
            date_from=date_from,
            date_to=date_to,
            start_time=start_time,
            end_time=end_time,
        )
        tasks = rebook_tasks_open(
            appointments=hits,
            reason=RebookReason.LEAVE,
            detail=f"{ExceptionKind(kind).label} {date_from:%d.%m}–{date_to:%d.%m}",
            actor=actor,
        )
    return exception, tasks


def _exception_clinics(exception: ScheduleException) -> list[Clinic]:
    """The clinics an exception concerns: its own, or every clinic of the doctor."""
    if exception.clinic is not None:
        return [exception.clinic]
    return list(exception.doctor.clinics.all())


@transaction.atomic
def schedule_exception_delete(*, exception: ScheduleException, actor: RequestUser) -> None:
    """Remove an exception: the doctor's weekly hours apply again on its days. An absence in
    every clinic (no clinic set) may be removed only by someone who manages the schedule of
    each clinic the doctor works in."""
    clinics = _exception_clinics(exception)
    for clinic in clinics:
        if not permissions.has_capability(actor, "schedule.manage", clinic):
            raise NotAllowed(
                _("This absence concerns clinics whose schedule you do not manage."),
                code="not_allowed",
            )
    if exception.kind in ABSENCE_KINDS:
        # The doctor's hours come back (a leave lifted): offered to the waiting list.
        waitlist_watch_schedule(
            clinics=clinics,
            doctor=exception.doctor,
            first=exception.date_from,
            last=exception.date_to,
        )
    pk, clinic_id = exception.pk, exception.clinic_id
    exception.delete()
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        object_type="scheduling.scheduleexception",
        object_id=pk,
        clinic=clinic_id,
    )
