"""Keeping the rollups in step with their sources.

`rollups_refresh` is incremental: it reads what changed since its watermark (appointments by
`updated_at`, moves, rollbacks, schedule rules, exceptions and substitutions), turns the
changes into the (clinic, local date) pairs they touch, and rebuilds only those pairs.
`rollups_rebuild` rebuilds every pair from a date on (or everything). Both are idempotent:
a pair is deleted and rewritten in one transaction, so running twice changes nothing.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from analytics.models import DailyFact, DemandCell, DoctorDayCapacity, PatientCohort, RollupState
from analytics.selectors.facts import clinic_zones, compute_capacity, compute_facts
from scheduling.choices import AppointmentStatus
from scheduling.models import (
    Appointment,
    AppointmentMove,
    RollbackRecord,
    ScheduleException,
    ScheduleRule,
    Substitution,
)

logger = logging.getLogger(__name__)

STATE = "facts"
# Changes committed a little after the watermark was taken may carry an earlier `updated_at`
# (their transaction began before it): re-read this much; rebuilding a pair twice is harmless.
OVERLAP = datetime.timedelta(minutes=5)
# One pass reads at most this many consecutive days of a clinic.
CHUNK_DAYS = 31
# A schedule change reaches back and forward at most this far (older days keep their figures
# until a rebuild).
SCHEDULE_REACH = datetime.timedelta(days=400)
RETENTION_DAYS = 90
PATIENT_BATCH = 1000

Dirty = dict[int, set[datetime.date]]


@dataclass(frozen=True)
class RefreshResult:
    pairs: int
    patients: int


def rollups_refresh(*, now: datetime.datetime | None = None) -> RefreshResult:
    """Roll up what changed since the last run; the first run rebuilds everything."""
    now = now or timezone.now()
    state = RollupState.objects.filter(name=STATE).first()
    if state is None:
        return rollups_rebuild(now=now)
    since = state.watermark - OVERLAP
    zones = clinic_zones()
    dirty: Dirty = defaultdict(set)
    patients: set[int] = set()

    def local(clinic_id: int, moment: datetime.datetime) -> datetime.date:
        return moment.astimezone(zones[clinic_id]).date()

    changed = Appointment.objects.filter(updated_at__gt=since).values_list(
        "clinic_id", "patient_id", "created_at", "starts_at"
    )
    for clinic_id, patient_id, created, starts in changed:
        dirty[clinic_id].update((local(clinic_id, created), local(clinic_id, starts)))
        patients.add(patient_id)
    moves = AppointmentMove.objects.filter(moved_at__gt=since).values_list(
        "appointment__clinic_id", "from_starts_at"
    )
    for clinic_id, starts in moves:
        dirty[clinic_id].add(local(clinic_id, starts))
    for clinic_id, occurred in RollbackRecord.objects.filter(occurred_at__gt=since).values_list(
        "clinic_id", "occurred_at"
    ):
        dirty[clinic_id].add(local(clinic_id, occurred))
    _schedule_changes(dirty, since=since, now=now, zones=zones)
    # Today and yesterday always: their capacity exists even before anyone books.
    for clinic_id, tz in zones.items():
        today = now.astimezone(tz).date()
        dirty[clinic_id].update((today, today - datetime.timedelta(days=1)))
    pairs = _recompute(dirty, zones)
    _refresh_cohorts(patients, zones)
    RollupState.objects.filter(pk=state.pk).update(watermark=now, refreshed_at=timezone.now())
    logger.info("analytics rollups refreshed: %d days, %d patients", pairs, len(patients))
    return RefreshResult(pairs=pairs, patients=len(patients))


def rollups_rebuild(
    *, since: datetime.date | None = None, now: datetime.datetime | None = None
) -> RefreshResult:
    """Rebuild every (clinic, local date) pair from `since` on (every pair when None), and the
    patient cohorts; then move the watermark to `now`."""
    now = now or timezone.now()
    zones = clinic_zones()
    span = Appointment.objects.aggregate(
        first=Min("created_at"), last=Max("starts_at"), first_visit=Min("starts_at")
    )
    dirty: Dirty = {}
    for clinic_id, tz in zones.items():
        today = now.astimezone(tz).date()
        first = today - datetime.timedelta(days=1)
        if span["first"] is not None:
            first = min(first, span["first"].astimezone(tz).date())
            first = min(first, span["first_visit"].astimezone(tz).date())
        last = today
        if span["last"] is not None:
            last = max(last, span["last"].astimezone(tz).date())
        if since is not None:
            first = max(first, since)
        dirty[clinic_id] = set(_days(first, last))
    if since is None:
        with transaction.atomic():
            for model in (DailyFact, DemandCell, DoctorDayCapacity, PatientCohort):
                model.objects.all().delete()
    pairs = _recompute(dirty, zones)
    patients = Appointment.objects.filter(status=AppointmentStatus.COMPLETED)
    if since is not None:
        start = datetime.datetime.combine(since, datetime.time.min, datetime.UTC)
        patients = patients.filter(starts_at__gte=start - datetime.timedelta(days=1))
    patient_ids = set(patients.values_list("patient_id", flat=True).distinct())
    _refresh_cohorts(patient_ids, zones)
    RollupState.objects.update_or_create(
        name=STATE, defaults={"watermark": now, "refreshed_at": timezone.now()}
    )
    logger.info("analytics rollups rebuilt: %d days, %d patients", pairs, len(patient_ids))
    return RefreshResult(pairs=pairs, patients=len(patient_ids))


def _schedule_changes(
    dirty: Dirty,
    *,
    since: datetime.datetime,
    now: datetime.datetime,
    zones: Mapping[int, ZoneInfo],
) -> None:
    """Days whose scheduled minutes a changed rule, exception or substitution may alter."""
    floor = (now - SCHEDULE_REACH).date()
    ceiling = (now + datetime.timedelta(days=1)).date()
    for clinic_id, valid_from, valid_until in ScheduleRule.objects.filter(
        updated_at__gt=since
    ).values_list("clinic_id", "valid_from", "valid_until"):
        dirty[clinic_id].update(_days(max(valid_from, floor), min(valid_until or ceiling, ceiling)))
    for clinic_id, date_from, date_to in ScheduleException.objects.filter(
        updated_at__gt=since
    ).values_list("clinic_id", "date_from", "date_to"):
        dirty[clinic_id].update(_days(max(date_from, floor), min(date_to, ceiling)))
    for clinic_id, day in Substitution.objects.filter(updated_at__gt=since).values_list(
        "clinic_id", "date"
    ):
        dirty[clinic_id].add(day)
    for clinic_id in [c for c in dirty if c not in zones]:
        del dirty[clinic_id]


def _recompute(dirty: Mapping[int, set[datetime.date]], zones: Mapping[int, ZoneInfo]) -> int:
    pairs = 0
    for clinic_id, days in dirty.items():
        # Schedules are read once per clinic (three queries per doctor, whatever the span).
        capacity = compute_capacity(clinic_id=clinic_id, days=days)
        for chunk in _chunks(sorted(days)):
            wanted = set(chunk)
            _recompute_chunk(
                clinic_id,
                chunk,
                zones,
                {key: m for key, m in capacity.items() if key[1] in wanted},
            )
            pairs += len(chunk)
    return pairs


def _recompute_chunk(
    clinic_id: int,
    days: list[datetime.date],
    zones: Mapping[int, ZoneInfo],
    capacity: Mapping[tuple[int, datetime.date], int],
) -> None:
    wanted = set(days)
    facts, demand = compute_facts(zones=zones, wanted={clinic_id: wanted})
    with transaction.atomic():
        for model in (DailyFact, DemandCell, DoctorDayCapacity):
            model.objects.filter(clinic_id=clinic_id, date__in=days).delete()
        DailyFact.objects.bulk_create(
            DailyFact(
                clinic_id=c, date=d, doctor_id=doc, service_id=svc, channel=ch, **counts.as_dict()
            )
            for (c, d, doc, svc, ch), counts in facts.items()
        )
        DemandCell.objects.bulk_create(
            DemandCell(
                clinic_id=c,
                date=d,
                weekday=d.weekday(),
                hour=h,
                doctor_id=doc,
                service_id=svc,
                visits=n,
            )
            for (c, d, h, doc, svc), n in demand.items()
        )
        DoctorDayCapacity.objects.bulk_create(
            DoctorDayCapacity(clinic_id=clinic_id, date=d, doctor_id=doc, scheduled_minutes=m)
            for (doc, d), m in capacity.items()
        )


def _refresh_cohorts(patient_ids: Iterable[int], zones: Mapping[int, ZoneInfo]) -> None:
    """Rewrite the cohort rows of these patients from their completed visits."""
    ids = sorted(patient_ids)
    window = datetime.timedelta(days=RETENTION_DAYS)
    for start in range(0, len(ids), PATIENT_BATCH):
        batch = ids[start : start + PATIENT_BATCH]
        visits: dict[int, list[tuple[datetime.datetime, int]]] = defaultdict(list)
        for patient_id, starts, clinic_id in (
            Appointment.objects.filter(patient_id__in=batch, status=AppointmentStatus.COMPLETED)
            .order_by("patient_id", "starts_at")
            .values_list("patient_id", "starts_at", "clinic_id")
        ):
            visits[patient_id].append((starts, clinic_id))
        rows = []
        for patient_id, seen in visits.items():
            first, clinic_id = seen[0]
            returned = any(first < later <= first + window for later, _ in seen[1:])
            rows.append(
                PatientCohort(
                    patient_id=patient_id,
                    clinic_id=clinic_id,
                    first_visit_date=first.astimezone(zones[clinic_id]).date(),
                    returned_within_90=returned,
                )
            )
        with transaction.atomic():
            PatientCohort.objects.filter(patient_id__in=batch).delete()
            PatientCohort.objects.bulk_create(rows)


def _days(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


def _chunks(days: list[datetime.date]) -> Iterable[list[datetime.date]]:
    """Sorted days cut into runs spanning at most `CHUNK_DAYS`, so one pass reads a bounded
    window of appointments."""
    chunk: list[datetime.date] = []
    for day in days:
        if chunk and (day - chunk[0]).days >= CHUNK_DAYS:
            yield chunk
            chunk = []
        chunk.append(day)
    if chunk:
        yield chunk
