"""The doctor's day and week: their own visits and working hours in every clinic they work in,
each in the clinic's local time, and their own leave requests.

A fixed number of queries whatever the number of visits: the doctor, their visits with what the
page shows (one query), the engine's working hours (three), the clinics of those hours (one) and
the pending requests (one).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from portal import permissions
from portal.choices import Role
from portal.formatting import day_label, is_readers_zone, time_label, utc_offset_label
from portal.models import Clinic
from scheduling.choices import UPCOMING_STATUSES, AppointmentStatus, LeaveStatus
from scheduling.models import Appointment, Doctor, LeaveRequest
from scheduling.selectors.availability import working_hours
from scheduling.selectors.catalogue import get_by_public_id

S = AppointmentStatus
DAY = "day"
WEEK = "week"
# Visits a note may be written for: the patient came (as `visit_summary_write` requires).
ATTENDED = (S.CHECKED_IN, S.COMPLETED)
# The colour of each state on the page (classes of static/css/medfront.css).
STATUS_BADGES: dict[str, str] = {
    S.BOOKED: "badge-muted",
    S.CONFIRMED: "badge-info",
    S.CHECKED_IN: "badge-warn",
    S.COMPLETED: "badge-ok",
    S.CANCELLED: "badge-danger",
    S.NO_SHOW: "badge-danger",
    S.ROLLED_BACK: "badge-danger",
}


def doctor_of(user: Any) -> Doctor | None:
    """The active doctor profile of a signed-in doctor, or None while no profile is linked to
    their login yet. Anyone without the doctor's role is refused (403)."""
    if Role.DOCTOR not in permissions.staff_roles(user):
        raise PermissionDenied
    return Doctor.objects.filter(user=user, is_active=True).first()


def get_doctor_appointment(doctor: Doctor | None, public_id: Any) -> Appointment:
    """One of the doctor's own visits; 404 for another doctor's or an unknown one (and for
    every visit while no profile is linked)."""
    if doctor is None:
        raise Http404
    return get_by_public_id(doctor_appointments(doctor), public_id)


def doctor_appointments(doctor: Doctor) -> QuerySet[Appointment]:
    """The doctor's own visits, with what the day page and its actions show."""
    return Appointment.objects.filter(doctor=doctor).select_related(
        "patient", "clinic", "service", "summary"
    )


@dataclass
class AgendaVisit:
    appointment: Appointment
    start: str  # wall-clock time in the clinic's zone
    end: str
    badge: str
    can_complete: bool
    can_write_note: bool

    @property
    def summary(self) -> Any:
        """The visit's summary, or None (read with the visit: no query)."""
        return getattr(self.appointment, "summary", None)


@dataclass
class AgendaClinicDay:
    """One clinic on one day: its hours, zone and the doctor's visits there."""

    clinic: Clinic
    hours: list[str]
    zone: str  # "" in the reader's own zone, else "Irkutsk time, UTC+8"
    visits: list[AgendaVisit] = field(default_factory=list)


@dataclass
class AgendaDay:
    day: datetime.date
    label: str
    is_today: bool
    clinics: list[AgendaClinicDay]

    @property
    def visit_count(self) -> int:
        return sum(
            1
            for c in self.clinics
            for v in c.visits
            if v.appointment.status not in (S.CANCELLED, S.ROLLED_BACK)
        )


@dataclass
class Agenda:
    doctor: Doctor
    mode: str
    first: datetime.date
    last: datetime.date
    previous: datetime.date
    next: datetime.date
    today: datetime.date
    days: list[AgendaDay]
    pending_requests: list[LeaveRequest]


def period(mode: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The days a page shows: `day` alone, or its week from Monday to Sunday."""
    if mode == WEEK:
        monday = day - datetime.timedelta(days=day.weekday())
        return monday, monday + datetime.timedelta(days=6)
    return day, day


def doctor_agenda(*, doctor: Doctor, mode: str, day: datetime.date) -> Agenda:
    """The doctor's visits and hours from `period(mode, day)`, grouped by local day and clinic.

    A visit belongs to the day it starts on in its clinic's zone; times are the clinic's
    wall-clock times, with the zone named where it is not the reader's (the active zone).
    """
    first, last = period(mode, day)
    now = timezone.now()
    # Every zone is within a day of UTC: a wider UTC window, then each visit's local day.
    window_start = datetime.datetime.combine(first, datetime.time(), tzinfo=datetime.UTC)
    window_end = datetime.datetime.combine(last, datetime.time(), tzinfo=datetime.UTC)
    visits = list(
        doctor_appointments(doctor)
        .filter(
            starts_at__gte=window_start - datetime.timedelta(days=1),
            starts_at__lt=window_end + datetime.timedelta(days=2),
        )
        .order_by("starts_at")
    )
    hours = working_hours(doctor_id=doctor.pk, first=first, last=last)
    clinics = {v.clinic_id: v.clinic for v in visits}
    missing = {clinic_id for clinic_id, _day in hours} - set(clinics)
    if missing:
        clinics.update(Clinic.objects.in_bulk(missing))
    grid: dict[tuple[datetime.date, int], AgendaClinicDay] = {}
    for (clinic_id, local_day), spans in hours.items():
        clinic = clinics[clinic_id]
        grid[(local_day, clinic_id)] = AgendaClinicDay(
            clinic=clinic,
            hours=[f"{lo:%H:%M}–{hi:%H:%M}" for lo, hi in spans],
            zone=_zone_label(clinic, local_day),
        )
    for appointment in visits:
        clinic = appointment.clinic
        start = appointment.starts_at.astimezone(clinic.tz)
        if not first <= start.date() <= last:
            continue
        key = (start.date(), clinic.pk)
        if key not in grid:
            grid[key] = AgendaClinicDay(
                clinic=clinic, hours=[], zone=_zone_label(clinic, start.date())
            )
        grid[key].visits.append(_agenda_visit(appointment, now=now))
    days = []
    today = timezone.localdate()
    current = first
    while current <= last:
        clinic_days = sorted(
            (v for (d, _c), v in grid.items() if d == current),
            key=lambda c: (c.hours[0] if c.hours else "99", c.clinic.name),
        )
        days.append(
            AgendaDay(
                day=current,
                label=day_label(current),
                is_today=current == today,
                clinics=clinic_days,
            )
        )
        current += datetime.timedelta(days=1)
    step = datetime.timedelta(days=7 if mode == WEEK else 1)
    return Agenda(
        doctor=doctor,
        mode=mode,
        first=first,
        last=last,
        previous=first - step,
        next=first + step,
        today=today,
        days=days,
        pending_requests=list(pending_leave_requests(doctor)),
    )


def _agenda_visit(appointment: Appointment, *, now: datetime.datetime) -> AgendaVisit:
    clinic = appointment.clinic
    start = appointment.starts_at.astimezone(clinic.tz)
    return AgendaVisit(
        appointment=appointment,
        start=time_label(start),
        end=time_label(appointment.ends_at.astimezone(clinic.tz)),
        badge=STATUS_BADGES.get(appointment.status, "badge-muted"),
        # As the booking services allow: a visit of today or earlier, still ahead or arrived.
        can_complete=appointment.status in UPCOMING_STATUSES
        and start.date() <= now.astimezone(clinic.tz).date(),
        can_write_note=appointment.status in ATTENDED,
    )


def _zone_label(clinic: Clinic, day: datetime.date) -> str:
    """'Irkutsk time, UTC+8' when the clinic's clock differs from the reader's that day."""
    noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=clinic.tz)
    if is_readers_zone(clinic.tz, noon):
        return ""
    offset = utc_offset_label(noon)
    return f"{clinic.city}, {offset}" if clinic.city else offset


def pending_leave_requests(doctor: Doctor) -> QuerySet[LeaveRequest]:
    """The doctor's requests still waiting for a decision, soonest first."""
    return (
        LeaveRequest.objects.filter(doctor=doctor, status=LeaveStatus.PENDING)
        .select_related("clinic", "substitute")
        .order_by("date_from", "pk")
    )


DECIDED_SHOWN = 10


def decided_leave_requests(doctor: Doctor) -> list[LeaveRequest]:
    """The doctor's latest decided requests with the decision and its reason, newest first."""
    return list(
        LeaveRequest.objects.filter(doctor=doctor)
        .exclude(status=LeaveStatus.PENDING)
        .select_related("clinic", "substitute")
        .order_by("-decided_at", "-pk")[:DECIDED_SHOWN]
    )
