"""How fast the clinics answer the phone: the source telephony registers in
`portal.metrics` for the director dashboard (analytics may not import telephony)."""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from django.db.models import Q

from portal.metrics import CallAnswerFigures
from telephony.choices import CallDirection
from telephony.models import Call


def _local_days(zones: Mapping[int, ZoneInfo], first: datetime.date, last: datetime.date) -> Q:
    """Calls that started on the local days `first`..`last` of their line's clinic (one
    condition per time zone)."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for clinic_id, zone in sorted(zones.items()):
        by_zone[zone.key].append(clinic_id)
    condition = Q(pk__in=[])
    for key, clinic_ids in by_zone.items():
        zone = ZoneInfo(key)
        lo = datetime.datetime.combine(first, datetime.time.min, zone)
        hi = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min, zone)
        condition |= Q(line__clinic_id__in=clinic_ids, started_at__gte=lo, started_at__lt=hi)
    return condition


def call_answer_figures(
    *, zones: Mapping[int, ZoneInfo], first: datetime.date, last: datetime.date
) -> CallAnswerFigures:
    """Incoming calls started in the period: the median seconds to answer of the answered
    ones, how many were answered and how many missed (a call still ringing is neither).
    One query."""
    calls = Call.objects.filter(
        _local_days(zones, first, last),
        Q(answered_at__isnull=False) | Q(missed=True),
        direction=CallDirection.INBOUND,
    )
    waits: list[float] = []
    missed = 0
    for started, answered in calls.values_list("started_at", "answered_at"):
        if answered is not None:
            waits.append(max(0.0, (answered - started).total_seconds()))
        else:
            missed += 1
    return CallAnswerFigures(
        median_seconds=statistics.median(waits) if waits else None,
        answered=len(waits),
        missed=missed,
    )
