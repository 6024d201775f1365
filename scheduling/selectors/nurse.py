"""The head nurse's board: the quota calendar of a clinic and the load of its rooms and
equipment. Each read is a fixed number of queries, whatever the number of quotas, rooms,
devices, doctors or visits.

Load of a room or device on a day = minutes booked ÷ minutes open × 100, where
- minutes booked: the time its visits occupy it that local day (booked, confirmed, checked in,
  completed or no-show; the doctor's buffer after a visit does not occupy a room or device);
- minutes open: the clinic's opening hours that day, i.e. the union of every doctor's working
  windows in the clinic (weekly schedule rules after breaks, absences, extra hours and
  substitutions, as the booking engine computes them).
A week's load is the week's minutes booked ÷ its minutes open. A day the clinic is closed has
no load (shown as a dash).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.http import Http404

from portal import permissions
from portal.models import Clinic
from scheduling.choices import ExceptionKind, QuotaChannel, ResourceKind
from scheduling.models import (
    Doctor,
    Equipment,
    Occupancy,
    Quota,
    QuotaCounter,
    ResourceClosure,
    Room,
)
from scheduling.selectors.availability import queries
from scheduling.selectors.availability.queries import as_json, fetch
from scheduling.selectors.availability.schedule import (
    Rule,
    ScheduleChange,
    StandIn,
    days_between,
    working_windows,
)

WEEK = "week"
MONTH = "month"
CHANNEL_ORDER = {value: index for index, value in enumerate(QuotaChannel.values)}


# --- Access ----------------------------------------------------------------------------------


def get_quota_for_user(user: Any, pk: Any) -> Quota:
    """A quota of a clinic where `user` sees schedules; 404 for any other or unknown id."""
    clinic_ids = permissions.clinic_ids_with(user, "schedule.view")
    qs = Quota.objects.select_related("clinic", "doctor", "service")
    if clinic_ids is not None:
        qs = qs.filter(clinic_id__in=clinic_ids)
    try:
        return qs.get(pk=pk)
    except (Quota.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


# --- Periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The days a page shows: a week from Monday, or a calendar month."""

    mode: str
    first: datetime.date
    last: datetime.date

    @property
    def days(self) -> list[datetime.date]:
        return days_between(self.first, self.last)

    @property
    def previous(self) -> datetime.date:
        return self.first - datetime.timedelta(days=1)

    @property
    def next(self) -> datetime.date:
        return self.last + datetime.timedelta(days=1)


def period_of(day: datetime.date, mode: str) -> Period:
    """The week (Monday to Sunday) or the month that holds `day`."""
    if mode == MONTH:
        first = day.replace(day=1)
        following = (first + datetime.timedelta(days=32)).replace(day=1)
        return Period(MONTH, first, following - datetime.timedelta(days=1))
    monday = day - datetime.timedelta(days=day.weekday())
    return Period(WEEK, monday, monday + datetime.timedelta(days=6))


# --- Quotas ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaCell:
    day: datetime.date
    limit: int
    used: int
    own_limit: bool  # the day's limit was set apart from the quota's
    past: bool

    @property
    def full(self) -> bool:
        return self.used >= self.limit


@dataclass
class QuotaRow:
    quota: Quota
    cells: list[QuotaCell] = field(default_factory=list)


@dataclass
class QuotaCalendar:
    period: Period
    today: datetime.date
    rows: list[QuotaRow]


def quota_cell(*, quota: Quota, day: datetime.date, today: datetime.date) -> QuotaCell:
    """One day of one quota (one query): what a cell shows after an edit."""
    counter = QuotaCounter.objects.filter(quota=quota, date=day).first()
    return QuotaCell(
        day=day,
        limit=quota.limit if counter is None else counter.limit_of(quota),
        used=0 if counter is None else counter.used,
        own_limit=counter is not None and counter.day_limit is not None,
        past=day < today,
    )


def quota_calendar(*, clinic: Clinic, period: Period, today: datetime.date) -> QuotaCalendar:
    """Every quota of `clinic` (by channel, doctor, service) with its limit and bookings on
    each day of `period`: two queries."""
    quotas = sorted(
        Quota.objects.filter(clinic=clinic).select_related("doctor", "service"),
        key=lambda q: (
            CHANNEL_ORDER.get(q.channel, 99),
            q.doctor.full_name if q.doctor else "",
            q.service.name if q.service else "",
            q.pk,
        ),
    )
    counters = {
        (c.quota_id, c.date): c
        for c in QuotaCounter.objects.filter(
            quota__clinic=clinic, date__gte=period.first, date__lte=period.last
        )
    }
    rows = []
    for quota in quotas:
        row = QuotaRow(quota)
        for day in period.days:
            counter = counters.get((quota.pk, day))
            row.cells.append(
                QuotaCell(
                    day=day,
                    limit=quota.limit if counter is None else counter.limit_of(quota),
                    used=0 if counter is None else counter.used,
                    own_limit=counter is not None and counter.day_limit is not None,
                    past=day < today,
                )
            )
        rows.append(row)
    return QuotaCalendar(period=period, today=today, rows=rows)


# --- Load of rooms and equipment -------------------------------------------------------------


@dataclass(frozen=True)
class LoadCell:
    booked_minutes: int
    open_minutes: int
    closed: bool = False  # a closure of the resource covers part of the day

    @property
    def percent(self) -> int | None:
        if not self.open_minutes:
            return None
        return round(100 * self.booked_minutes / self.open_minutes)


@dataclass
class LoadRow:
    kind: str  # ResourceKind.ROOM or ResourceKind.EQUIPMENT
    resource: Room | Equipment
    cells: list[LoadCell]
    week: LoadCell


@dataclass
class ResourceLoad:
    period: Period
    open_minutes: list[int]
    rows: list[LoadRow]


def _merged_minutes(spans: list[tuple[int, int]]) -> int:
    total, reach = 0, 0
    for start, end in sorted(spans):
        start = max(start, reach)
        if end > start:
            total += end - start
            reach = end
    return total


def clinic_open_minutes(*, clinic: Clinic, first: datetime.date, last: datetime.date) -> list[int]:
    """Minutes the clinic is open on each local day from `first` to `last`: the union of its
    doctors' working windows there (four queries)."""
    doctor_ids = set(
        Doctor.objects.filter(
            Q(schedule_rules__clinic=clinic)
            | Q(exceptions__clinic=clinic, exceptions__kind=ExceptionKind.EXTRA_HOURS)
        ).values_list("pk", flat=True)
    )
    stand_ins = fetch(
        StandIn,
        *queries.stand_ins_sql(doctor_ids=doctor_ids, first=first, last=last, clinic_id=clinic.pk),
    )
    workers = doctor_ids | {s.substitute_id for s in stand_ins}
    rules = [
        rule._replace(breaks=as_json(rule.breaks))
        for rule in fetch(
            Rule,
            *queries.rules_sql(doctor_ids=doctor_ids, first=first, last=last, clinic_id=clinic.pk),
        )
    ]
    changes = fetch(
        ScheduleChange,
        *queries.changes_sql(doctor_ids=workers, first=first, last=last, clinic_id=clinic.pk),
    )
    windows = working_windows(
        days=days_between(first, last),
        doctor_ids=workers,
        rules=rules,
        changes=changes,
        stand_ins=stand_ins,
    )
    spans: dict[datetime.date, list[tuple[int, int]]] = defaultdict(list)
    for (_doctor, clinic_id, day), day_windows in windows.items():
        if clinic_id == clinic.pk:
            spans[day].extend((w.start, w.end) for w in day_windows)
    return [_merged_minutes(spans.get(day, [])) for day in days_between(first, last)]


def _minutes_by_day(
    start: datetime.datetime, end: datetime.datetime, bounds: list[datetime.datetime]
) -> list[int]:
    """Minutes of `[start, end)` within each of the days that `bounds` (n + 1 midnights)
    delimit."""
    minutes = []
    for day_start, day_end in zip(bounds, bounds[1:], strict=False):
        overlap = (min(end, day_end) - max(start, day_start)).total_seconds()
        minutes.append(max(0, int(overlap // 60)))
    return minutes


def resource_load(*, clinic: Clinic, period: Period) -> ResourceLoad:
    """Each active room and piece of equipment of `clinic` with its load on each day of
    `period` and over the period (module docstring): eight queries."""
    days = period.days
    tz = clinic.tz
    bounds = [
        datetime.datetime.combine(day, datetime.time(0), tzinfo=tz) for day in [*days, period.next]
    ]
    open_minutes = clinic_open_minutes(clinic=clinic, first=period.first, last=period.last)
    rooms = list(Room.objects.filter(clinic=clinic, is_active=True).order_by("name", "pk"))
    items = list(
        Equipment.objects.filter(clinic=clinic, is_active=True)
        .select_related("type")
        .order_by("name", "pk")
    )
    booked: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0] * len(days))
    rows = Occupancy.objects.filter(
        clinic=clinic,
        appointment__isnull=False,
        resource_kind__in=[ResourceKind.ROOM, ResourceKind.EQUIPMENT],
        starts_at__lt=bounds[-1],
        ends_at__gt=bounds[0],
    ).values_list("resource_kind", "resource_id", "starts_at", "ends_at")
    for kind, resource_id, start, end in rows:
        totals = booked[(kind, resource_id)]
        for index, minutes in enumerate(_minutes_by_day(start, end, bounds)):
            totals[index] += minutes
    closed: dict[tuple[str, int], list[bool]] = defaultdict(lambda: [False] * len(days))
    closures = ResourceClosure.objects.filter(
        clinic=clinic, lifted_at__isnull=True, starts_at__lt=bounds[-1], ends_at__gt=bounds[0]
    ).values_list("room_id", "equipment_id", "starts_at", "ends_at")
    for room_id, equipment_id, start, end in closures:
        key: tuple[str, int] = (
            (ResourceKind.ROOM, room_id) if room_id else (ResourceKind.EQUIPMENT, equipment_id)
        )
        flags = closed[key]
        for index, minutes in enumerate(_minutes_by_day(start, end, bounds)):
            flags[index] = flags[index] or minutes > 0
    week_open = sum(open_minutes)
    load_rows = []
    resources: list[tuple[str, Room | Equipment]] = [(ResourceKind.ROOM, r) for r in rooms]
    resources += [(ResourceKind.EQUIPMENT, e) for e in items]
    for kind, resource in resources:
        day_minutes = booked.get((kind, resource.pk), [0] * len(days))
        day_closed = closed.get((kind, resource.pk), [False] * len(days))
        cells = [
            LoadCell(booked_minutes=m, open_minutes=o, closed=c)
            for m, o, c in zip(day_minutes, open_minutes, day_closed, strict=True)
        ]
        week = LoadCell(
            booked_minutes=sum(day_minutes), open_minutes=week_open, closed=any(day_closed)
        )
        load_rows.append(LoadRow(kind=kind, resource=resource, cells=cells, week=week))
    return ResourceLoad(period=period, open_minutes=open_minutes, rows=load_rows)
