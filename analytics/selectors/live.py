"""The dashboard's live days, counted by the database.

The days the rollups may not have caught up with (`dashboard.live_days`) hold the densest part
of the history: today's visits and the bookings made for them. Reading them row by row cost
the page more with every visit of a busy network, so they are grouped and counted in SQL here,
with the same definitions `facts.compute_facts` applies when it rolls a day up (a test keeps
the two in agreement):

- a clinic's day is its local day: each clinic's window is bounded by its own midnights, and
  the series and heatmap convert instants in the clinic's zone (`TruncDate`/`ExtractHour`
  with `tzinfo`, one branch per time zone in use);
- bookings and rollbacks count by the day they were made, visits by the day they are due;
- a completed visit is a first visit when the patient has no earlier completed visit
  (`facts.earlier_completed`, as the rollups ask it).

Eight queries, whatever the number of visits: the clinics' zones (none when the caller has
them); the bookings, visits, first visits and rollbacks by clinic × doctor × service × channel
(the last two by day too); the series' visits and bookings by day (none when only one day is
live: the series' day is then the cube's sum); the heatmap.
"""

from __future__ import annotations

import datetime
import functools
import operator
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    DateField,
    DurationField,
    Exists,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.db.models.functions import ExtractHour, TruncDate

from analytics.selectors.cube import CubeTotals
from analytics.selectors.facts import (
    ATTENDED,
    BOOKED_TIME,
    COUNTERS,
    Counts,
    CubeKey,
    clinic_zones,
    earlier_completed,
)
from analytics.selectors.scope import Scope, in_scope
from scheduling.choices import SELF_SERVICE_CHANNELS
from scheduling.choices import AppointmentStatus as S
from scheduling.models import Appointment, RollbackRecord

# Time zones in use, each with the clinics that keep it.
ZoneGroups = list[tuple[ZoneInfo, list[int]]]


@dataclass
class LiveFigures:
    """The live days' share of the dashboard's figures."""

    sums: CubeTotals = field(default_factory=CubeTotals)
    series: dict[datetime.date, Counts] = field(default_factory=dict)
    series_online: dict[datetime.date, int] = field(default_factory=dict)
    # Visits per (local weekday, local hour).
    heat: dict[tuple[int, int], int] = field(default_factory=dict)


def live_figures(
    *,
    scope: Scope,
    days: Collection[datetime.date],
    zones: Mapping[int, ZoneInfo] | None = None,
) -> LiveFigures:
    """Counters of the local `days` (consecutive) of the clinics in `scope`; `zones`: their
    time zones, when the caller has read them."""
    if not days:
        return LiveFigures()
    if zones is None:
        zones = clinic_zones(scope.clinic_ids)
    groups = _zone_groups(zones)
    if not groups:
        return LiveFigures()
    first, last = min(days), max(days)
    made = _window("created_at", groups, first, last)
    due = _window("starts_at", groups, first, last) & ~Q(status=S.ROLLED_BACK)
    visits = in_scope(Appointment.objects.all(), scope)
    occurred = _window("occurred_at", groups, first, last)
    rollbacks = in_scope(RollbackRecord.objects.filter(occurred), scope, via="appointment__")

    live = LiveFigures()
    sums = live.sums
    series: dict[datetime.date, Counts] = defaultdict(Counts)
    online: dict[datetime.date, int] = defaultdict(int)
    keys = ("clinic_id", "doctor_id", "service_id", "channel")
    # Bookings, visits and first visits are counted apart: one query with conditional
    # counters over the union of the windows and a probe per row cost the planner's estimate
    # enough to have PostgreSQL compile it (JIT) on every request.
    made_rows = _grouped(visits.filter(made), keys, {"bookings": Count("pk")})
    for row in made_rows:
        sums.add_bookings(_cube_key(row), row["bookings"])
    due_rows = _grouped(visits.filter(due), keys, _visit_counters())
    for row in due_rows:
        sums.add(_cube_key(row), row)
    by_due = visits.filter(due).annotate(day=_local("starts_at", groups, TruncDate, DateField()))
    first_visits = by_due.filter(status=S.COMPLETED).exclude(Exists(earlier_completed()))
    for row in _grouped(first_visits, (*keys, "day"), {"new_patients": Count("pk")}):
        sums.add(_cube_key(row), row)
        series[row["day"]].new_patients += row["new_patients"]
    by_occurred = rollbacks.annotate(
        doctor_id=F("appointment__doctor_id"),
        service_id=F("appointment__service_id"),
        channel=F("appointment__channel"),
        day=_local("occurred_at", groups, TruncDate, DateField()),
    )
    for row in _grouped(by_occurred, (*keys, "day"), {"rollbacks": Count("pk")}):
        sums.add(_cube_key(row), row)
        series[row["day"]].rollbacks += row["rollbacks"]
    sums.finish()

    if len(days) == 1:
        # One live day (yesterday rolled up for good): every row above falls on it, so the
        # series' day is the cube's sum and the database need not group the rows again.
        (day,) = days
        for row in due_rows:
            series[day].add(row)
        for row in made_rows:
            series[day].bookings += row["bookings"]
            if row["channel"] in SELF_SERVICE_CHANNELS:
                online[day] += row["bookings"]
    else:
        for row in _grouped(by_due, ("day",), _visit_counters()):
            series[row["day"]].add(row)
        by_made = visits.filter(made).annotate(
            day=_local("created_at", groups, TruncDate, DateField())
        )
        for row in _grouped(by_made, ("day", "channel"), {"bookings": Count("pk")}):
            series[row["day"]].bookings += row["bookings"]
            if row["channel"] in SELF_SERVICE_CHANNELS:
                online[row["day"]] += row["bookings"]
    live.series, live.series_online = dict(series), dict(online)

    hours = by_due.annotate(hour=_local("starts_at", groups, ExtractHour, IntegerField()))
    for row in _grouped(hours, ("day", "hour"), {"visits": Count("pk")}):
        cell = (row["day"].weekday(), row["hour"])
        live.heat[cell] = live.heat.get(cell, 0) + row["visits"]
    return live


def _cube_key(row: Mapping[str, Any]) -> CubeKey:
    return (row["clinic_id"], row["doctor_id"], row["service_id"], row["channel"])


def _zone_groups(zones: Mapping[int, ZoneInfo]) -> ZoneGroups:
    by_zone: dict[str, list[int]] = defaultdict(list)
    for clinic_id, tz in zones.items():
        by_zone[tz.key].append(clinic_id)
    return [(ZoneInfo(key), sorted(ids)) for key, ids in sorted(by_zone.items())]


def _window(name: str, groups: ZoneGroups, first: datetime.date, last: datetime.date) -> Q:
    """`name` falls on one of the local days `first`..`last` of its row's clinic."""
    after = last + datetime.timedelta(days=1)
    windows = []
    for tz, ids in groups:
        lo = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
        hi = datetime.datetime.combine(after, datetime.time.min, tzinfo=tz)
        windows.append(Q(clinic_id__in=ids, **{f"{name}__gte": lo, f"{name}__lt": hi}))
    return functools.reduce(operator.or_, windows)


def _local(name: str, groups: ZoneGroups, part: Any, output: Any) -> Any:
    """`part` (`TruncDate`, `ExtractHour`) of `name` in its row's clinic's time zone."""
    if len(groups) == 1:
        return part(name, tzinfo=groups[0][0])
    return Case(
        *(When(clinic_id__in=ids, then=part(name, tzinfo=tz)) for tz, ids in groups),
        output_field=output,
    )


def _visit_counters() -> dict[str, Any]:
    """`Counts`' visit counters (first visits aside) of appointments due on the live days."""
    completed = Q(status=S.COMPLETED)
    return {
        "visits": Count("pk"),
        "attended": Count("pk", filter=Q(status__in=ATTENDED)),
        "completed": Count("pk", filter=completed),
        "no_shows": Count("pk", filter=Q(status=S.NO_SHOW)),
        "cancelled": Count("pk", filter=Q(status=S.CANCELLED)),
        "late_cancelled": Count("pk", filter=Q(status=S.CANCELLED, late_cancel=True)),
        "booked_time": Sum(
            F("ends_at") - F("starts_at"),
            filter=Q(status__in=BOOKED_TIME),
            output_field=DurationField(),
        ),
        "revenue": Sum("price", filter=completed),
    }


def _grouped(
    qs: QuerySet[Any], keys: tuple[str, ...], aggregates: dict[str, Any]
) -> list[dict[str, Any]]:
    """Rows of `qs` grouped by `keys` (no model ordering joins the GROUP BY), with
    every counter of `Counts` (0 where not counted; `booked_time` as whole minutes)."""
    rows = []
    for row in qs.order_by().values(*keys).annotate(**aggregates):
        booked = row.pop("booked_time", None) or datetime.timedelta(0)
        row["booked_minutes"] = int(booked.total_seconds() // 60)
        rows.append(row | {name: row.get(name) or 0 for name in COUNTERS})
    return rows
