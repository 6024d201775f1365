"""Quota counters: taken and given back inside the booking transaction, rows locked."""

from __future__ import annotations

import datetime

from django.db.models import F, Q, QuerySet

from portal.models import Clinic
from scheduling.errors import QuotaExceeded
from scheduling.models import Quota, QuotaCounter


def _applicable(
    *, clinic: Clinic | int, doctor_id: int, service_id: int, channel: str
) -> QuerySet[Quota]:
    return Quota.objects.filter(clinic=clinic, channel=channel).filter(
        Q(doctor__isnull=True) | Q(doctor_id=doctor_id),
        Q(service__isnull=True) | Q(service_id=service_id),
    )


def quota_take(
    *,
    clinic: Clinic,
    doctor_id: int,
    service_id: int,
    channel: str | None,
    day: datetime.date,
    start: datetime.datetime,
    now: datetime.datetime,
    enforce: bool = True,
    quotas: list[Quota] | None = None,
) -> None:
    """Count one booking against every quota that applies; refuse when one is used up (its
    day's own limit when the head nurse set one, else the quota's).

    Counter rows are created if missing and locked FOR UPDATE in id order (no deadlocks
    between bookings of the same day). A released quota still counts but no longer limits.
    `enforce=False` restores a count without checking (rollback of a move). `quotas`: the
    applicable quotas when the caller has just loaded them (the booking's `resolve_slot`).
    """
    if not channel:
        return
    if quotas is None:
        quotas = list(
            _applicable(clinic=clinic, doctor_id=doctor_id, service_id=service_id, channel=channel)
        )
    if not quotas:
        return
    QuotaCounter.objects.bulk_create(
        [QuotaCounter(quota=q, date=day, used=0) for q in quotas], ignore_conflicts=True
    )
    counters = list(
        QuotaCounter.objects.select_for_update()
        .filter(quota__in=quotas, date=day)
        .select_related("quota")
        .order_by("id")
    )
    if enforce:
        for counter in counters:
            quota = counter.quota
            limit = counter.limit_of(quota)
            if counter.used >= limit and not quota.is_released(start=start, now=now):
                raise QuotaExceeded()
    QuotaCounter.objects.filter(pk__in=[c.pk for c in counters]).update(used=F("used") + 1)


def quota_release(
    *, clinic: Clinic | int, doctor_id: int, service_id: int, channel: str, day: datetime.date
) -> None:
    """Give back one booking on every applicable quota (cancel, rollback, move away)."""
    if not channel:
        return
    quotas = _applicable(clinic=clinic, doctor_id=doctor_id, service_id=service_id, channel=channel)
    QuotaCounter.objects.filter(quota__in=quotas, date=day, used__gt=0).update(used=F("used") - 1)
