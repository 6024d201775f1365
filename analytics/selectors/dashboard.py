"""The dashboard's figures: history from the rollups, the last days live from the sources.

Every function here runs a fixed number of queries whatever the length of the history: the
rollups are read grouped by a bounded set of keys (clinic × doctor × service × channel, the
period's days, weekday × hour) and kept in the cache until the rollups next change
(`selectors.cached`), summed the ways the page reads them (`selectors.cube`); the live days
(today, and yesterday until a refresh has rolled it up for good) are grouped and counted by
the database (`selectors.live`), so their cost follows the clinics' keys, not their visits.
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.db.models import Count, Model, Q, QuerySet, Sum
from django.utils import timezone

from analytics.models import DailyFact, DemandCell, DoctorDayCapacity, PatientCohort
from analytics.selectors.cached import RollupMarks, rollup_marks, through_cache
from analytics.selectors.cube import CubeTotals, sum_of
from analytics.selectors.facts import COUNTERS, Counts, clinic_zones
from analytics.selectors.live import live_figures
from analytics.selectors.localdays import local_period
from analytics.selectors.scope import Scope, in_scope
from notifications.choices import DeliveryStatus, LogState, MessageStatus
from notifications.models import MessageDailyCount, OutboxMessage
from scheduling.choices import SELF_SERVICE_CHANNELS, FreedSlotOrigin, FreedSlotStatus
from scheduling.models import BookingRequest, FreedSlot

M = TypeVar("M", bound=Model)
FINAL_DELIVERY = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.EXPIRED)
FINAL_LOG_STATES = (LogState.DELIVERED, LogState.FAILED, LogState.EXPIRED)
WAITLIST_WINDOW = datetime.timedelta(hours=2)
RETENTION_DAYS = 90
# A transaction may commit a little after a refresh began with changes stamped before it (the
# refresh re-reads as much, `services.rollups.OVERLAP`).
SETTLE_MARGIN = datetime.timedelta(minutes=5)


@dataclass
class Figures:
    """What the dashboard shows for one scope."""

    sums: CubeTotals
    capacity: dict[tuple[int, int], int]
    series: dict[datetime.date, Counts]
    # Bookings made online per day (the daily chart's darker part).
    series_online: dict[datetime.date, int]
    heatmap: list[list[int]]
    cohort_size: int
    cohort_returned: int
    request_minutes: float | None
    waitlist: tuple[int, int]
    delivery: tuple[int, int]
    # Of the slots freed in the period and filled: the median minutes to fill, and
    # (filled with staff's help, filled).
    waitlist_minutes: float | None = None
    waitlist_manual: tuple[int, int] = (0, 0)
    # Times schedule changes opened, apart from the cancellations: (filled within 2 hours,
    # settled).
    waitlist_opened: tuple[int, int] = (0, 0)
    # Where the rollups stood when these figures were read (the comparisons reuse it).
    marks: RollupMarks | None = None
    scheduled_minutes: int = 0

    def __post_init__(self) -> None:
        self.scheduled_minutes = sum(self.capacity.values())

    @property
    def totals(self) -> Counts:
        return self.sums.total


def live_days(
    scope: Scope,
    now: datetime.datetime,
    *,
    read_up_to: datetime.datetime | None = None,
    zones: Mapping[int, ZoneInfo] | None = None,
) -> set[datetime.date]:
    """The period's days read live: from yesterday to tomorrow in UTC, which covers "today"
    in every clinic's zone (the rollups of those days may lag by a refresh). Yesterday is
    left to the rollups once a refresh has read the sources (`read_up_to`, less a margin for
    transactions still committing) past its end in every clinic's zone (`zones`): that
    refresh rolled the whole day up afresh, so a late edit of it shows with the next refresh,
    as for every older day, and the page no longer counts its visits one by one."""
    today = now.astimezone(datetime.UTC).date()
    lo = max(scope.first, today - datetime.timedelta(days=1))
    hi = min(scope.last, today + datetime.timedelta(days=1))
    if read_up_to is not None and zones:
        yesterday_ends = max(
            datetime.datetime.combine(today, datetime.time.min, tzinfo=tz) for tz in zones.values()
        )
        if read_up_to - SETTLE_MARGIN >= yesterday_ends:
            lo = max(lo, today)
    return {lo + datetime.timedelta(days=n) for n in range((hi - lo).days + 1)}


def settled(scope: Scope, now: datetime.datetime) -> bool:
    """Whether the period ended before the days read live (`live_days`): its sources change
    only by late edits, which reach the page with the next refresh of the rollups."""
    return scope.last < now.astimezone(datetime.UTC).date() - datetime.timedelta(days=1)


def _history(qs: QuerySet[M], scope: Scope, live: set[datetime.date]) -> QuerySet[M]:
    qs = qs.filter(date__gte=scope.first, date__lte=scope.last)
    return qs.exclude(date__in=live) if live else qs


@dataclass
class RolledUp:
    """The figures the rollups give for a scope, its live days left out."""

    sums: CubeTotals
    capacity: dict[tuple[int, int], int]
    series: dict[datetime.date, Counts]
    series_online: dict[datetime.date, int]
    heatmap: list[list[int]]
    cohort_size: int
    cohort_returned: int


def figures(
    *,
    scope: Scope,
    now: datetime.datetime | None = None,
    zones: Mapping[int, ZoneInfo] | None = None,
) -> Figures:
    """Every figure of the dashboard for `scope`, in a fixed number of queries: the rolled-up
    part from the cache while the rollups stay as they are, the live days counted afresh.
    `zones`: the scope's clinics and their time zones, when the caller has read them (else one
    query)."""
    now = now or timezone.now()
    if zones is None:
        zones = clinic_zones(scope.clinic_ids)
    marks = rollup_marks()
    live = live_days(scope, now, read_up_to=marks.read_up_to, zones=zones)
    past = through_cache(
        "figures",
        (*scope.key(), tuple(sorted(live)), now.date()),
        lambda: _rolled_up(scope, live, now),
        marks=marks,
    )
    current = live_figures(scope=scope, days=live, zones=zones)
    series = dict(past.series)
    for day, counts in current.series.items():
        series[day] = sum_of(series[day], counts) if day in series else counts
    series_online = dict(past.series_online)
    for day, n in current.series_online.items():
        series_online[day] = series_online.get(day, 0) + n
    heatmap = [list(row) for row in past.heatmap]
    for (weekday, hour), visits in current.heat.items():
        heatmap[weekday][hour] += visits
    return Figures(
        sums=past.sums.plus(current.sums),
        marks=marks,
        capacity=past.capacity,
        series=series,
        series_online=series_online,
        heatmap=heatmap,
        cohort_size=past.cohort_size,
        cohort_returned=past.cohort_returned,
        request_minutes=_request_minutes(scope, zones),
        delivery=_delivery(scope, zones),
        **waitlist_figures(scope=scope, now=now, zones=zones),
    )


def _rolled_up(scope: Scope, live: set[datetime.date], now: datetime.datetime) -> RolledUp:
    """The rollups' figures of the period's days that are not live."""
    facts = _history(in_scope(DailyFact.objects.all(), scope), scope, live)
    # A row per cube key, summed straight into the shape the page reads.
    cube = CubeTotals()
    sums = {name: Sum(name) for name in COUNTERS}
    for row in facts.values("clinic_id", "doctor_id", "service_id", "channel").annotate(**sums):
        cube.add((row["clinic_id"], row["doctor_id"], row["service_id"], row["channel"]), row)
    series: dict[datetime.date, Counts] = defaultdict(Counts)
    series_online: dict[datetime.date, int] = defaultdict(int)
    for row in facts.values("date", "channel").annotate(**sums):
        series[row["date"]].add(row)
        if row["channel"] in SELF_SERVICE_CHANNELS:
            series_online[row["date"]] += row["bookings"]

    capacity_qs = in_scope(
        DoctorDayCapacity.objects.all(), scope, specialty_via="doctor__specialties"
    ).filter(date__gte=scope.first, date__lte=scope.last)
    capacity = {
        (row["clinic_id"], row["doctor_id"]): row["minutes"]
        for row in capacity_qs.values("clinic_id", "doctor_id").annotate(
            minutes=Sum("scheduled_minutes")
        )
    }

    heatmap = [[0] * 24 for _ in range(7)]
    demand_qs = _history(in_scope(DemandCell.objects.all(), scope), scope, live)
    for row in demand_qs.values("weekday", "hour").annotate(visits=Sum("visits")):
        heatmap[row["weekday"]][row["hour"]] += row["visits"]

    size, returned = _retention(scope, now)
    return RolledUp(
        sums=cube.finish(),
        capacity=capacity,
        series=dict(series),
        series_online=dict(series_online),
        heatmap=heatmap,
        cohort_size=size,
        cohort_returned=returned,
    )


def history_kpis(
    *, scope: Scope, marks: RollupMarks | None = None
) -> dict[str, float | Decimal | int | None]:
    """The fact-based KPIs of a past period, from the rollups alone (the comparisons), cached
    while the rollups stay as they are."""
    return through_cache("history_kpis", scope.key(), lambda: _history_kpis(scope), marks=marks)


def _history_kpis(scope: Scope) -> dict[str, float | Decimal | int | None]:
    totals = Counts()
    facts = in_scope(DailyFact.objects.all(), scope).filter(
        date__gte=scope.first, date__lte=scope.last
    )
    row = facts.aggregate(
        online=Sum("bookings", filter=Q(channel__in=SELF_SERVICE_CHANNELS)),
        **{name: Sum(name) for name in COUNTERS},
    )
    totals.add(row)
    minutes = (
        in_scope(DoctorDayCapacity.objects.all(), scope, specialty_via="doctor__specialties")
        .filter(date__gte=scope.first, date__lte=scope.last)
        .aggregate(minutes=Sum("scheduled_minutes"))["minutes"]
    )
    values = kpis_of(totals, minutes or 0)
    values["online_share"] = ratio(row["online"] or 0, totals.bookings)
    return values


def _retention(scope: Scope, now: datetime.datetime) -> tuple[int, int]:
    """Patients whose first completed visit fell in the period at least 90 days ago, and how
    many of them came back within 90 days."""
    last = min(scope.last, now.date() - datetime.timedelta(days=RETENTION_DAYS))
    if last < scope.first:
        return 0, 0
    qs = PatientCohort.objects.filter(first_visit_date__gte=scope.first, first_visit_date__lte=last)
    if scope.clinic_ids is not None:
        qs = qs.filter(clinic_id__in=scope.clinic_ids)
    row = qs.aggregate(size=Count("pk"), returned=Count("pk", filter=Q(returned_within_90=True)))
    return row["size"], row["returned"]


# Requests, freed slots and messages keep only a UTC instant: `local_period` cuts them at
# each clinic's own midnights, like the rollups' local days.


def _request_minutes(scope: Scope, zones: Mapping[int, ZoneInfo] | None) -> float | None:
    qs = BookingRequest.objects.filter(
        local_period(scope, "created_at", zones=zones), confirmed_at__isnull=False
    )
    qs = in_scope(qs, scope, specialty_via=None)
    if scope.specialty_id is not None:
        qs = qs.filter(specialty_id=scope.specialty_id)
    waits = [
        (confirmed - created).total_seconds() / 60
        for created, confirmed in qs.values_list("created_at", "confirmed_at")
        if confirmed is not None
    ]
    return statistics.median(waits) if waits else None


def waitlist_figures(
    *, scope: Scope, now: datetime.datetime, zones: Mapping[int, ZoneInfo] | None = None
) -> dict[str, Any]:
    """The waiting list's figures of the slots freed in the period, in one query, as
    `Figures` fields. Slots freed by a cancellation make the KPIs: (filled within 2 hours,
    settled), the median minutes to fill, (filled with staff's help, filled) — assigned by
    hand, or won by a patient whose rank a staff boost had raised when it was filled. Times a
    schedule change opened are no cancellations: reported apart, (filled within 2 hours,
    settled). A slot still being offered is settled once its 2 hours have passed."""
    qs = in_scope(FreedSlot.objects.filter(local_period(scope, "freed_at", zones=zones)), scope)
    fill: dict[str, list[int]] = {
        FreedSlotOrigin.CANCELLATION: [0, 0],
        FreedSlotOrigin.SCHEDULE: [0, 0],
    }
    minutes: list[float] = []
    helped = 0
    rows = qs.values_list("origin", "status", "freed_at", "closed_at", "manual", "won_with_boost")
    for origin, status, freed, closed, manual, boosted in rows:
        if status == FreedSlotStatus.OFFERING and freed > now - WAITLIST_WINDOW:
            continue
        fill[origin][1] += 1
        if status != FreedSlotStatus.FILLED or closed is None:
            continue
        fill[origin][0] += closed <= freed + WAITLIST_WINDOW
        if origin == FreedSlotOrigin.CANCELLATION:
            minutes.append((closed - freed).total_seconds() / 60)
            helped += manual or boosted
    return {
        "waitlist": tuple(fill[FreedSlotOrigin.CANCELLATION]),
        "waitlist_minutes": statistics.median(minutes) if minutes else None,
        "waitlist_manual": (helped, len(minutes)),
        "waitlist_opened": tuple(fill[FreedSlotOrigin.SCHEDULE]),
    }


def waitlist_kpis(
    *, scope: Scope, now: datetime.datetime, zones: Mapping[int, ZoneInfo] | None = None
) -> dict[str, float | None]:
    """The waiting list's KPIs of a period (also for the comparisons)."""
    fig = waitlist_figures(scope=scope, now=now, zones=zones)
    return {
        "waitlist_fill": ratio(*fig["waitlist"]),
        "waitlist_time_to_fill": fig["waitlist_minutes"],
        "waitlist_manual": ratio(*fig["waitlist_manual"]),
        "waitlist_opened_fill": ratio(*fig["waitlist_opened"]),
    }


def request_and_delivery_kpis(
    *, scope: Scope, zones: Mapping[int, ZoneInfo] | None = None
) -> dict[str, float | None]:
    """The request → confirmation wait and the delivery rate of a period (for the comparisons;
    the page's own period reads them into `Figures`)."""
    return {
        "request_confirmation": _request_minutes(scope, zones),
        "delivery_rate": ratio(*_delivery(scope, zones)),
    }


def _delivery(scope: Scope, zones: Mapping[int, ZoneInfo] | None) -> tuple[int, int]:
    """(delivered, with a final delivery report) of the messages recorded in the period: by
    the clinic's local day (messages without a clinic: the network's, by the display zone's
    day); the daily counts kept after the purge know only the UTC day."""
    live = OutboxMessage.objects.filter(
        local_period(scope, "created_at", with_network=True, zones=zones),
        status=MessageStatus.SENT,
        delivery_status__in=FINAL_DELIVERY,
    )
    counted = MessageDailyCount.objects.filter(
        date__gte=scope.first, date__lte=scope.last, status__in=FINAL_LOG_STATES
    )
    if scope.clinic_ids is not None:
        counted = counted.filter(clinic_id__in=scope.clinic_ids)
    delivered = final = 0
    for status, n in (
        live.values("delivery_status").annotate(n=Count("id")).values_list("delivery_status", "n")
    ):
        final += n
        delivered += n if status == DeliveryStatus.DELIVERED else 0
    for status, n in counted.values("status").annotate(n=Sum("count")).values_list("status", "n"):
        final += n
        delivered += n if status == LogState.DELIVERED else 0
    return delivered, final


# --- KPI values from the figures -------------------------------------------------------------


def ratio(numerator: float | Decimal, denominator: float | Decimal | None) -> float | None:
    """A share, or None ("no data yet") when there is nothing to divide by."""
    return None if not denominator else float(numerator) / float(denominator)


def kpis_of(counts: Counts, scheduled_minutes: int) -> dict[str, Any]:
    """The KPIs that follow from fact counters alone (also for a comparison period)."""
    return {
        "bookings": counts.bookings,
        "no_show_rate": ratio(counts.no_shows, counts.attended + counts.no_shows),
        "cancellation_rate": ratio(counts.cancelled, counts.visits),
        "late_cancellation_rate": ratio(counts.late_cancelled, counts.visits),
        "wrong_bookings": (
            None if not counts.bookings else counts.rollbacks * 1000 / counts.bookings
        ),
        "utilisation": ratio(counts.booked_minutes, scheduled_minutes),
        "new_patients": counts.new_patients,
        "revenue": counts.revenue if counts.visits or counts.bookings else None,
    }


def kpi_values(fig: Figures) -> dict[str, float | Decimal | int | None]:
    """Every KPI of the registry for the figures of one scope; None: no data yet."""
    values = kpis_of(fig.totals, fig.scheduled_minutes)
    values["online_share"] = ratio(fig.sums.online, fig.totals.bookings)
    values["retention_90"] = ratio(fig.cohort_returned, fig.cohort_size)
    values["request_confirmation"] = fig.request_minutes
    # Telephony is wired in by the root URLs only; no app may read it (import contracts).
    values["call_answer"] = None
    values["waitlist_fill"] = ratio(*fig.waitlist)
    values["waitlist_time_to_fill"] = fig.waitlist_minutes
    values["waitlist_manual"] = ratio(*fig.waitlist_manual)
    values["waitlist_opened_fill"] = ratio(*fig.waitlist_opened)
    values["delivery_rate"] = ratio(*fig.delivery)
    return values
