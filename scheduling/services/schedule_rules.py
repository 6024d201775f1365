"""Editing a clinic's weekly schedule rules from the clinic admin pages; its schedule
exceptions are in `schedule_exceptions`, its booking policy in `booking_policy`.

Every write runs in one transaction, checks the actor's capability in the clinic
(`schedule.manage` for rules and exceptions, `catalogue.manage` for the booking policy),
validates the whole change before touching anything (a refused change changes nothing and
raises `InvalidInput` with a translated message) and writes one audit event.

The free-slot engine reads rules, exceptions and policies from the database on every request
(`scheduling.selectors.availability` keeps no cache), so a saved change shows in free slots
at once; there is nothing to invalidate. A rule added or changed may open times: they are
offered to the waiting list once the change commits (`waitlist_schedule`).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.choices import AuditAction
from portal.models import Clinic
from portal.services.audit import audit_record
from portal.types import RequestUser
from scheduling.choices import Weekday
from scheduling.errors import InvalidInput
from scheduling.models import Doctor, Room, ScheduleRule
from scheduling.services.schedule_checks import check_slot_step, lock_doctor_of, require_capability
from scheduling.services.waitlist_schedule import waitlist_watch_schedule

MAX_BUFFER_MINUTES = 120
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
    check_slot_step(slot_step_minutes)
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
    require_capability(actor, "schedule.manage", clinic)
    lock_doctor_of(clinic, doctor)
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
    waitlist_watch_schedule(clinics=[clinic], doctor=doctor, first=valid_from, last=valid_until)
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
    require_capability(actor, "schedule.manage", clinic)
    lock_doctor_of(clinic, rule.doctor)
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
    # Hours widened (or moved) may open times; either validity period may hold them.
    waitlist_watch_schedule(
        clinics=[clinic],
        doctor=rule.doctor,
        first=min(rule.valid_from, valid_from),
        last=max(rule.valid_until or datetime.date.max, valid_until or datetime.date.max),
    )
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
    require_capability(actor, "schedule.manage", rule.clinic)
    pk = rule.pk
    rule.delete()
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        object_type="scheduling.schedulerule",
        object_id=pk,
        clinic=rule.clinic,
    )
