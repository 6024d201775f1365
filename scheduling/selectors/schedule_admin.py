"""Read paths of the clinic's schedule pages: the doctors × weekdays grid of weekly rules, the
exceptions ahead, the clinic's booking policy, and the booked visits an absence would hit.

Every read is scoped by the clinic the page is about, and the clinic by the user's
`schedule.manage` clinics (`portal.permissions`): a rule, exception or doctor of another clinic
is a 404, never found by its id alone.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from portal import permissions
from portal.models import Clinic
from scheduling.choices import AppointmentStatus, Weekday
from scheduling.models import (
    Appointment,
    BookingPolicy,
    Doctor,
    Room,
    ScheduleException,
    ScheduleRule,
)
from scheduling.selectors.catalogue import get_by_public_id

# Visits not yet begun: an absence hands these to the desk.
WAITING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)


def schedule_clinics(user: Any) -> list[Clinic]:
    """Active clinics whose schedule `user` manages, by name."""
    return list(permissions.clinics_with(user, "schedule.manage").order_by("name"))


def get_schedule_clinic(user: Any, public_id: Any) -> Clinic:
    """The clinic `public_id` if `user` manages its schedule: 403 for a role that manages no
    schedule at all, 404 for a clinic that is not one of theirs (or does not exist)."""
    if not permissions.has_capability(user, "schedule.manage"):
        raise PermissionDenied
    return get_by_public_id(permissions.clinics_with(user, "schedule.manage"), public_id)


def clinic_doctors(clinic: Clinic) -> list[Doctor]:
    """Active doctors working in `clinic`, by name."""
    return list(
        Doctor.objects.filter(clinics=clinic, is_active=True).order_by("last_name", "first_name")
    )


def clinic_rooms(clinic: Clinic) -> list[Room]:
    return list(Room.objects.filter(clinic=clinic, is_active=True).order_by("name"))


def get_clinic_rule(clinic: Clinic, pk: int) -> ScheduleRule:
    """A weekly rule of `clinic`; 404 for another clinic's or an unknown one."""
    rule = (
        ScheduleRule.objects.select_related("doctor", "clinic", "room")
        .filter(clinic=clinic, pk=pk)
        .first()
    )
    if rule is None:
        raise Http404
    return rule


def rule_minutes(rule: ScheduleRule) -> int:
    """Working minutes of one day of the rule, breaks taken off."""

    def minutes(value: datetime.time) -> int:
        return value.hour * 60 + value.minute

    total = minutes(rule.end_time) - minutes(rule.start_time)
    for start, end in rule.breaks or []:
        total -= minutes(datetime.time.fromisoformat(end)) - minutes(
            datetime.time.fromisoformat(start)
        )
    return total


@dataclass
class GridRow:
    """One doctor's row: the rules of each weekday, Monday first, and the weekly hours of
    the rules in force today."""

    doctor: Doctor
    days: list[list[ScheduleRule]] = field(default_factory=lambda: [[] for _ in Weekday])
    weekly_minutes: int = 0

    @property
    def weekly_hours(self) -> str:
        hours, minutes = divmod(self.weekly_minutes, 60)
        return f"{hours}:{minutes:02d}"


@dataclass
class ScheduleGrid:
    clinic: Clinic
    today: datetime.date
    weekdays: list[tuple[int, str]]
    rows: list[GridRow]


def schedule_grid(*, clinic: Clinic, today: datetime.date) -> ScheduleGrid:
    """Doctors × weekdays with the rules in force today or starting later (ended rules are
    history and left out): two queries, whatever the number of doctors."""
    rows = {doctor.pk: GridRow(doctor) for doctor in clinic_doctors(clinic)}
    rules = (
        ScheduleRule.objects.filter(clinic=clinic, doctor_id__in=list(rows))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("room")
        .order_by("weekday", "start_time", "valid_from")
    )
    for rule in rules:
        row = rows[rule.doctor_id]
        row.days[rule.weekday].append(rule)
        if rule.valid_from <= today:
            row.weekly_minutes += rule_minutes(rule)
    return ScheduleGrid(
        clinic=clinic,
        today=today,
        weekdays=[(int(day.value), str(day.label)) for day in Weekday],
        rows=list(rows.values()),
    )


def clinic_exceptions(*, clinic: Clinic, today: datetime.date) -> list[ScheduleException]:
    """Exceptions of the clinic's doctors that are not over yet: the clinic's own and absences
    in every clinic, by first day."""
    return list(
        ScheduleException.objects.filter(
            Q(clinic=clinic) | Q(clinic__isnull=True, doctor__clinics=clinic),
            date_to__gte=today,
        )
        .select_related("doctor", "clinic")
        .distinct()
        .order_by("date_from", "doctor__last_name", "pk")
    )


def get_clinic_exception(clinic: Clinic, pk: int) -> ScheduleException:
    """An exception shown on `clinic`'s page; 404 for another clinic's or an unknown one."""
    exception = (
        ScheduleException.objects.select_related("doctor", "clinic")
        .filter(Q(clinic=clinic) | Q(clinic__isnull=True, doctor__clinics=clinic), pk=pk)
        .first()
    )
    if exception is None:
        raise Http404
    return exception


def absence_hits(
    *,
    clinic: Clinic,
    doctor: Doctor,
    date_from: datetime.date,
    date_to: datetime.date,
    start_time: datetime.time | None = None,
    end_time: datetime.time | None = None,
) -> list[Appointment]:
    """The doctor's booked and confirmed visits in `clinic` that an absence from `date_from`
    to `date_to` (whole days, or `start_time`–`end_time` of each day, clinic time) covers."""
    tz = clinic.tz
    first = datetime.datetime.combine(date_from, datetime.time(), tzinfo=tz)
    after = datetime.datetime.combine(
        date_to + datetime.timedelta(days=1), datetime.time(), tzinfo=tz
    )
    visits = (
        Appointment.objects.filter(
            clinic=clinic,
            doctor=doctor,
            status__in=WAITING_STATUSES,
            starts_at__lt=after,
            ends_at__gt=first,
        )
        .select_related("patient", "service", "clinic")
        .order_by("starts_at")
    )
    if start_time is None or end_time is None:
        return list(visits)
    hits = []
    for visit in visits:
        start = visit.starts_at.astimezone(tz)
        day = start.date()
        lo = datetime.datetime.combine(day, start_time, tzinfo=tz)
        hi = datetime.datetime.combine(day, end_time, tzinfo=tz)
        if visit.starts_at < hi and visit.ends_at > lo:
            hits.append(visit)
    return hits


def clinic_policy(clinic: Clinic) -> BookingPolicy:
    """The clinic's booking policy, or an unsaved one on the defaults."""
    policy = BookingPolicy.objects.filter(clinic=clinic).first()
    return policy if policy is not None else BookingPolicy(clinic=clinic)
