"""Daily facts computed straight from the appointments: what the rollups store.

The dashboard's live days (those the rollups may not have caught up with yet) are counted
with the same definitions by the database (`analytics.selectors.live`); a test compares the
two on every counter, so a live figure and a rolled-up one cannot drift apart.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When

from portal.models import Clinic
from scheduling.choices import AppointmentStatus as S
from scheduling.db import UtcInstant, as_utc
from scheduling.models import Appointment, RollbackRecord, ScheduleRule, Substitution
from scheduling.selectors.availability.hours import working_hours

UTC = datetime.UTC
ATTENDED = frozenset({S.CHECKED_IN, S.COMPLETED})
# Statuses whose visit keeps its time booked (cancelled and rolled-back visits free it).
BOOKED_TIME = frozenset({S.BOOKED, S.CONFIRMED, S.CHECKED_IN, S.COMPLETED, S.NO_SHOW})

# (clinic id, local date, doctor id, service id, channel)
FactKey = tuple[int, datetime.date, int, int, str]
# (clinic id, doctor id, service id, channel): the dashboard's cube, summed over days
CubeKey = tuple[int, int, int, str]
# (clinic id, local date, hour, doctor id, service id)
DemandKey = tuple[int, datetime.date, int, int, int]


@dataclass
class Counts:
    """The additive counters of one fact row (field names match `DailyFact`)."""

    bookings: int = 0
    rollbacks: int = 0
    visits: int = 0
    attended: int = 0
    completed: int = 0
    no_shows: int = 0
    cancelled: int = 0
    late_cancelled: int = 0
    booked_minutes: int = 0
    revenue: Decimal = field(default_factory=lambda: Decimal("0.00"))
    new_patients: int = 0

    def add(self, other: Counts | Mapping[str, Any]) -> None:
        # Added by the thousand when the rollups are read: both sides as plain dicts.
        values = other if isinstance(other, Mapping) else vars(other)
        mine = vars(self)
        for name in COUNTERS:
            mine[name] += values[name] or 0

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


COUNTERS = tuple(f.name for f in fields(Counts))


def earlier_completed() -> QuerySet[Appointment]:
    """The patient's completed visits before the outer query's visit: when there is none, a
    completed visit is the patient's first. An index probe on (patient, status, starts_at)
    per visit, where a grouped minimum read a regular's whole history."""
    return Appointment.objects.filter(
        patient_id=OuterRef("patient_id"), status=S.COMPLETED, starts_at__lt=OuterRef("starts_at")
    )


def clinic_zones(clinic_ids: Collection[int] | None = None) -> dict[int, ZoneInfo]:
    """The time zone of every clinic (or of those in `clinic_ids`)."""
    qs = Clinic.objects.all()
    if clinic_ids is not None:
        qs = qs.filter(pk__in=clinic_ids)
    return {pk: ZoneInfo(tz) for pk, tz in qs.values_list("pk", "timezone")}


def day_bounds(days: Iterable[datetime.date]) -> tuple[datetime.datetime, datetime.datetime]:
    """UTC instants surely covering `days` in any time zone (zones reach ±14 h)."""
    ordered = sorted(days)
    lo = datetime.datetime.combine(ordered[0], datetime.time.min, UTC) - datetime.timedelta(days=1)
    hi = datetime.datetime.combine(ordered[-1], datetime.time.min, UTC) + datetime.timedelta(days=2)
    return lo, hi


def compute_facts(
    *, zones: Mapping[int, ZoneInfo], wanted: Mapping[int, Collection[datetime.date]]
) -> tuple[dict[FactKey, Counts], dict[DemandKey, int]]:
    """Fact counters and demand cells of the (clinic, local date) pairs in `wanted`.

    Two queries, whatever the number of clinics and days: the appointments made or due in
    the span, and the rollbacks made in it. A visit is new (`new_patients`) when it is the
    patient's first completed visit in the network (`earlier_completed`).
    """
    facts: dict[FactKey, Counts] = defaultdict(Counts)
    demand: dict[DemandKey, int] = defaultdict(int)
    all_days = {day for days in wanted.values() for day in days}
    if not all_days:
        return facts, demand
    lo, hi = day_bounds(all_days)
    clinic_ids = list(wanted)
    rows = list(
        Appointment.objects.filter(clinic_id__in=clinic_ids)
        .filter(Q(starts_at__gte=lo, starts_at__lt=hi) | Q(created_at__gte=lo, created_at__lt=hi))
        .annotate(
            first_visit=Case(
                When(status=S.COMPLETED, then=~Exists(earlier_completed())),
                default=Value(False),
                output_field=BooleanField(),
            ),
            # Thousands of instants per pass: read without the slow zone-attaching loader.
            created_utc=UtcInstant("created_at"),
            starts_utc=UtcInstant("starts_at"),
            ends_utc=UtcInstant("ends_at"),
        )
        .values_list(
            "clinic_id",
            "doctor_id",
            "service_id",
            "channel",
            "status",
            "late_cancel",
            "created_utc",
            "starts_utc",
            "ends_utc",
            "price",
            "first_visit",
        )
    )
    for (
        clinic_id,
        doctor_id,
        service_id,
        channel,
        status,
        late,
        created,
        starts,
        ends,
        price,
        first_visit,
    ) in rows:
        tz = zones[clinic_id]
        days = wanted[clinic_id]
        created, starts, ends = as_utc(created), as_utc(starts), as_utc(ends)
        made = created.astimezone(tz).date()
        if made in days:
            facts[(clinic_id, made, doctor_id, service_id, channel)].bookings += 1
        local_start = starts.astimezone(tz)
        due = local_start.date()
        if due not in days or status == S.ROLLED_BACK:
            continue
        counts = facts[(clinic_id, due, doctor_id, service_id, channel)]
        counts.visits += 1
        demand[(clinic_id, due, local_start.hour, doctor_id, service_id)] += 1
        if status in ATTENDED:
            counts.attended += 1
        if status == S.COMPLETED:
            counts.completed += 1
            counts.revenue += price
            counts.new_patients += int(first_visit)
        elif status == S.NO_SHOW:
            counts.no_shows += 1
        elif status == S.CANCELLED:
            counts.cancelled += 1
            counts.late_cancelled += int(late)
        if status in BOOKED_TIME:
            counts.booked_minutes += int((ends - starts).total_seconds() // 60)
    rollbacks = RollbackRecord.objects.filter(
        clinic_id__in=clinic_ids, occurred_at__gte=lo, occurred_at__lt=hi
    ).values_list(
        "clinic_id",
        "occurred_at",
        "appointment__doctor_id",
        "appointment__service_id",
        "appointment__channel",
    )
    for clinic_id, occurred, doctor_id, service_id, channel in rollbacks:
        day = occurred.astimezone(zones[clinic_id]).date()
        if day in wanted[clinic_id]:
            facts[(clinic_id, day, doctor_id, service_id, channel)].rollbacks += 1
    return facts, demand


def compute_capacity(
    *, clinic_id: int, days: Collection[datetime.date]
) -> dict[tuple[int, datetime.date], int]:
    """Scheduled working minutes per (doctor id, local date) of one clinic on `days`, from the
    same rules, exceptions and substitutions the booking engine reads (three queries per
    doctor who has rules or stands in at the clinic)."""
    if not days:
        return {}
    doctor_ids = set(
        ScheduleRule.objects.filter(clinic_id=clinic_id).values_list("doctor_id", flat=True)
    ) | set(
        Substitution.objects.filter(clinic_id=clinic_id).values_list("substitute_id", flat=True)
    )
    first, last = min(days), max(days)
    minutes: dict[tuple[int, datetime.date], int] = {}
    for doctor_id in sorted(doctor_ids):
        hours = working_hours(doctor_id=doctor_id, first=first, last=last)
        for (where, day), windows in hours.items():
            if where != clinic_id or day not in days:
                continue
            total = sum(_minutes(end) - _minutes(start) for start, end in windows)
            if total > 0:
                minutes[(doctor_id, day)] = total
    return minutes


def _minutes(t: datetime.time) -> int:
    # `working_hours` gives a window that runs to midnight as 23:59.
    return 24 * 60 if t == datetime.time(23, 59) else t.hour * 60 + t.minute
