"""Editing a clinic's weekly schedule rules, schedule exceptions and booking policy from the
clinic admin pages.

Every write runs in one transaction, checks the actor's capability in the clinic
(`schedule.manage` for rules and exceptions, `catalogue.manage` for the booking policy),
validates the whole change before touching anything (a refused change changes nothing and
raises `InvalidInput` with a translated message) and writes one audit event.

The free-slot engine reads rules, exceptions and policies from the database on every request
(`scheduling.selectors.availability` keeps no cache), so a saved change shows in free slots
at once; there is nothing to invalidate.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal import permissions
from portal.choices import AuditAction
from portal.models import Clinic
from portal.services.audit import audit_record
from portal.types import RequestUser
from scheduling.choices import ABSENCE_KINDS, ExceptionKind, RebookReason, Weekday
from scheduling.errors import InvalidInput, NotAllowed
from scheduling.models import (
    BookingPolicy,
    Doctor,
    RebookTask,
    Room,
    ScheduleException,
    ScheduleRule,
    Service,
)
from scheduling.selectors.schedule_admin import absence_hits
from scheduling.services.rebooking import rebook_tasks_open

MIN_STEP_MINUTES = 5
MAX_STEP_MINUTES = 240
MAX_BUFFER_MINUTES = 120
# An exception longer than a year is a typing mistake rather than a plan.
MAX_EXCEPTION_DAYS = 366
MAX_NOTE_LENGTH = 200
# The booking policy's fields a clinic admin edits (all but the clinic itself).
POLICY_FIELDS = (
    "mode",
    "min_notice_minutes",
    "horizon_days",
    "reschedule_deadline_hours",
    "cancel_deadline_hours",
    "max_active_per_patient",
    "max_reschedules",
    "rollback_window_minutes",
    "hold_ttl_minutes",
    "reminder_offsets_minutes",
    "contact_hours_start",
    "contact_hours_end",
)
RULE_FIELDS = [
    "weekday",
    "start_time",
    "end_time",
    "breaks",
    "slot_step_minutes",
    "buffer_minutes",
    "room",
    "valid_from",
    "valid_until",
]

Breaks = Sequence[tuple[datetime.time, datetime.time]]


def _require(actor: RequestUser, capability: str, clinic: Clinic) -> None:
    if not permissions.has_capability(actor, capability, clinic):
        raise NotAllowed(_("You may not change this clinic's schedule."), code="not_allowed")


def _lock_doctor_of(clinic: Clinic, doctor: Doctor) -> None:
    """Lock the doctor's row (edits of one doctor's schedule queue behind each other, so two
    overlapping rules cannot both pass the check) and check they work in `clinic`."""
    locked = Doctor.objects.select_for_update().filter(pk=doctor.pk, clinics=clinic).exists()
    if not locked:
        raise InvalidInput(_("This doctor does not work in this clinic."), code="foreign_doctor")


def _fmt(value: datetime.time) -> str:
    return value.strftime("%H:%M")


def _check_rule(
    *,
    clinic: Clinic,
    doctor: Doctor,
    weekday: int,
    start_time: datetime.time,
    end_time: datetime.time,
    breaks: Breaks,
    slot_step_minutes: int,
    buffer_minutes: int,
    room: Room | None,
    valid_from: datetime.date,
    valid_until: datetime.date | None,
    exclude_pk: int | None,
) -> None:
    """Raise `InvalidInput` for the first thing wrong with the rule, checked in the order a
    person reads the form."""
    if weekday not in Weekday.values:
        raise InvalidInput(_("Choose a day of the week."), code="weekday", field="weekday")
    if end_time <= start_time:
        raise InvalidInput(
            _("The working hours must end after they start."), code="times", field="end_time"
        )
    if not MIN_STEP_MINUTES <= slot_step_minutes <= MAX_STEP_MINUTES:
        raise InvalidInput(
            _("The slot step is from %(low)d to %(high)d minutes.")
            % {"low": MIN_STEP_MINUTES, "high": MAX_STEP_MINUTES},
            code="step",
            field="slot_step_minutes",
        )
    if not 0 <= buffer_minutes <= MAX_BUFFER_MINUTES:
        raise InvalidInput(
            _("The buffer is from 0 to %(high)d minutes.") % {"high": MAX_BUFFER_MINUTES},
            code="buffer",
            field="buffer_minutes",
        )
    _check_breaks(breaks, start_time, end_time)
    if room is not None and room.clinic_id != clinic.pk:
        raise InvalidInput(_("Choose a room of this clinic."), code="room", field="room")
    if valid_until is not None and valid_until < valid_from:
        raise InvalidInput(
            _("The rule must end on or after the day it starts."),
            code="validity",
            field="valid_until",
        )
    _check_no_overlap(
        doctor=doctor,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        valid_from=valid_from,
        valid_until=valid_until,
        exclude_pk=exclude_pk,
    )


def _check_breaks(breaks: Breaks, start_time: datetime.time, end_time: datetime.time) -> None:
    previous_end: datetime.time | None = None
    for start, end in sorted(breaks):
        if end <= start:
            raise InvalidInput(
                _("A break must end after it starts."), code="breaks", field="breaks"
            )
        if start <= start_time or end >= end_time:
            raise InvalidInput(
                _("Each break must lie inside the working hours."), code="breaks", field="breaks"
            )
        if previous_end is not None and start < previous_end:
            raise InvalidInput(_("Breaks must not overlap."), code="breaks", field="breaks")
        previous_end = end


def _check_no_overlap(
    *,
    doctor: Doctor,
    weekday: int,
    start_time: datetime.time,
    end_time: datetime.time,
    valid_from: datetime.date,
    valid_until: datetime.date | None,
    exclude_pk: int | None,
) -> None:
    """A doctor is in one place at a time: no other rule of theirs, in any clinic, may cover
    the same weekday, time and days of validity."""
    clash = (
        ScheduleRule.objects.filter(
            doctor=doctor, weekday=weekday, start_time__lt=end_time, end_time__gt=start_time
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=valid_from))
        .select_related("clinic")
        .order_by("start_time")
    )
    if valid_until is not None:
        clash = clash.filter(valid_from__lte=valid_until)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    other = clash.first()
    if other is not None:
        raise InvalidInput(
            _("These hours overlap the doctor's rule %(start)s–%(end)s on this day in %(clinic)s.")
            % {
                "start": _fmt(other.start_time),
                "end": _fmt(other.end_time),
                "clinic": other.clinic,
            },
            code="overlap",
            field="start_time",
        )


def _breaks_json(breaks: Breaks) -> list[list[str]]:
    return [[_fmt(start), _fmt(end)] for start, end in sorted(breaks)]


@transaction.atomic
def schedule_rule_create(
    *,
    clinic: Clinic,
    doctor: Doctor,
    actor: RequestUser,
    weekday: int,
    start_time: datetime.time,
    end_time: datetime.time,
    valid_from: datetime.date,
    valid_until: datetime.date | None = None,
    breaks: Breaks = (),
    slot_step_minutes: int = 30,
    buffer_minutes: int = 0,
    room: Room | None = None,
) -> ScheduleRule:
    """Add a weekly rule for `doctor` in `clinic`.

    Invariants: hours end after they start; breaks lie inside them without overlapping; the
    step is 5–240 minutes; the room is the clinic's; no rule of the same doctor (in any clinic)
    overlaps it on the same weekday during an overlapping validity period.
    """
    _require(actor, "schedule.manage", clinic)
    _lock_doctor_of(clinic, doctor)
    _check_rule(
        clinic=clinic,
        doctor=doctor,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        breaks=breaks,
        slot_step_minutes=slot_step_minutes,
        buffer_minutes=buffer_minutes,
        room=room,
        valid_from=valid_from,
        valid_until=valid_until,
        exclude_pk=None,
    )
    rule = ScheduleRule.objects.create(
        clinic=clinic,
        doctor=doctor,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        breaks=_breaks_json(breaks),
        slot_step_minutes=slot_step_minutes,
        buffer_minutes=buffer_minutes,
        room=room,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="scheduling.schedulerule",
        object_id=rule.pk,
        changed_fields=["doctor", *RULE_FIELDS],
        clinic=clinic,
    )
    return rule


@transaction.atomic
def schedule_rule_update(
    *,
    rule: ScheduleRule,
    actor: RequestUser,
    weekday: int,
    start_time: datetime.time,
    end_time: datetime.time,
    valid_from: datetime.date,
    valid_until: datetime.date | None = None,
    breaks: Breaks = (),
    slot_step_minutes: int = 30,
    buffer_minutes: int = 0,
    room: Room | None = None,
) -> ScheduleRule:
    """Change a rule's day, hours, breaks, step, buffer, room or validity (the same
    invariants as `schedule_rule_create`); the doctor and clinic stay. Saving it unchanged
    writes nothing."""
    clinic = rule.clinic
    _require(actor, "schedule.manage", clinic)
    _lock_doctor_of(clinic, rule.doctor)
    _check_rule(
        clinic=clinic,
        doctor=rule.doctor,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        breaks=breaks,
        slot_step_minutes=slot_step_minutes,
        buffer_minutes=buffer_minutes,
        room=room,
        valid_from=valid_from,
        valid_until=valid_until,
        exclude_pk=rule.pk,
    )
    new = {
        "weekday": weekday,
        "start_time": start_time,
        "end_time": end_time,
        "breaks": _breaks_json(breaks),
        "slot_step_minutes": slot_step_minutes,
        "buffer_minutes": buffer_minutes,
        "room": room,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }
    changed = [name for name, value in new.items() if getattr(rule, name) != value]
    if not changed:
        return rule
    for name in changed:
        setattr(rule, name, new[name])
    rule.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="scheduling.schedulerule",
        object_id=rule.pk,
        changed_fields=changed,
        clinic=clinic,
    )
    return rule


@transaction.atomic
def schedule_rule_delete(*, rule: ScheduleRule, actor: RequestUser) -> None:
    """Remove a weekly rule. Visits already booked in its hours stay booked (the desk sees
    them on the board as before); only new free slots disappear."""
    _require(actor, "schedule.manage", rule.clinic)
    pk = rule.pk
    rule.delete()
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        object_type="scheduling.schedulerule",
        object_id=pk,
        clinic=rule.clinic,
    )


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
        if not MIN_STEP_MINUTES <= slot_step_minutes <= MAX_STEP_MINUTES:
            raise InvalidInput(
                _("The slot step is from %(low)d to %(high)d minutes.")
                % {"low": MIN_STEP_MINUTES, "high": MAX_STEP_MINUTES},
                code="step",
                field="slot_step_minutes",
            )
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
    _require(actor, "schedule.manage", clinic)
    _lock_doctor_of(clinic, doctor)
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


def _exception_clinics(exception: ScheduleException) -> list[Clinic | int]:
    """The clinics an exception concerns: its own, or every clinic of the doctor."""
    if exception.clinic_id is not None:
        return [exception.clinic_id]
    return list(exception.doctor.clinics.all())


@transaction.atomic
def schedule_exception_delete(*, exception: ScheduleException, actor: RequestUser) -> None:
    """Remove an exception: the doctor's weekly hours apply again on its days. An absence in
    every clinic (no clinic set) may be removed only by someone who manages the schedule of
    each clinic the doctor works in."""
    for clinic in _exception_clinics(exception):
        if not permissions.has_capability(actor, "schedule.manage", clinic):
            raise NotAllowed(
                _("This absence concerns clinics whose schedule you do not manage."),
                code="not_allowed",
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


@transaction.atomic
def booking_policy_update(
    *,
    clinic: Clinic,
    actor: RequestUser,
    values: Mapping[str, Any],
    prepaid_services: Iterable[Service] | None = None,
) -> tuple[BookingPolicy, list[str]]:
    """Set the clinic's booking policy (a row is created for a clinic on the defaults);
    (the policy, the names of the fields that changed).

    `values` holds fields of `POLICY_FIELDS`; any other name is refused. The model's own
    validators decide the bounds (horizon 1–730 days, reminder offsets...): an invalid value
    raises `InvalidInput` with their message and nothing is saved. Needs `catalogue.manage`.
    """
    _require(actor, "catalogue.manage", clinic)
    unknown = sorted(set(values) - set(POLICY_FIELDS))
    if unknown:
        raise InvalidInput(code="unknown_field", field=unknown[0])
    policy, created = BookingPolicy.objects.select_for_update().get_or_create(clinic=clinic)
    changed = [name for name, value in values.items() if getattr(policy, name) != value]
    for name in changed:
        setattr(policy, name, values[name])
    try:
        policy.full_clean(exclude=["clinic"])
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code="invalid_policy") from exc
    if changed:
        policy.save(update_fields=[*changed, "updated_at"])
    if prepaid_services is not None:
        wanted = {service.pk for service in prepaid_services}
        if wanted != set(policy.prepaid_services.values_list("pk", flat=True)):
            policy.prepaid_services.set(list(wanted))
            changed.append("prepaid_services")
    if changed or created:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            object_type="scheduling.bookingpolicy",
            object_id=policy.pk,
            changed_fields=changed,
            clinic=clinic,
        )
    return policy, changed
