"""KPIs from sources beside the appointment rollups: the assistant's conversations, the
refused overlapping bookings, and the call answer time that telephony supplies through the
kernel's registry (`portal.metrics`; analytics may not import telephony).

`source_kpis` gives them for the period shown (with its live `Figures`) and for a comparison
period (from the rollups alone); the dashboard lays them over the appointment KPIs.
`comparison_kpis` gives every KPI of a comparison period, kept in the cache like the rollups.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.utils import timezone

from analytics.models import DailyFact
from analytics.selectors.cached import RollupMarks, through_cache
from analytics.selectors.conversations import conversation_figures
from analytics.selectors.dashboard import (
    Figures,
    history_kpis,
    ratio,
    request_and_delivery_kpis,
    settled,
    waitlist_kpis,
)
from analytics.selectors.facts import CubeKey, clinic_zones
from analytics.selectors.scope import Scope, in_scope
from portal.metrics import CallAnswerFigures, call_answer_figures
from scheduling.models import RefusedOverlap


@dataclass
class SourceKpis:
    values: dict[str, Any]
    calls: CallAnswerFigures | None = None
    # Refused overlapping bookings per (clinic, doctor, service, channel), like the cube.
    refused: dict[CubeKey, int] = field(default_factory=dict)


def wrong_per_mille(rollbacks: int, refused: int, bookings: int) -> float | None:
    """(Rollbacks + refused overlaps) per 1,000 bookings; None without bookings."""
    return None if not bookings else (rollbacks + refused) * 1000 / bookings


def refused_overlaps(scope: Scope) -> dict[CubeKey, int]:
    """Refused overlapping bookings of the period's local days, per cube key (one query)."""
    qs = RefusedOverlap.objects.filter(date__gte=scope.first, date__lte=scope.last)
    qs = in_scope(qs, scope)
    refused: dict[CubeKey, int] = defaultdict(int)
    for row in qs.values("clinic_id", "doctor_id", "service_id", "channel").annotate(
        n=Sum("count")
    ):
        refused[(row["clinic_id"], row["doctor_id"], row["service_id"], row["channel"])] += row["n"]
    return dict(refused)


def _history_counts(scope: Scope) -> dict[str, int]:
    """Bookings and rollbacks of a past period, from the rollups."""
    qs = DailyFact.objects.filter(date__gte=scope.first, date__lte=scope.last)
    qs = in_scope(qs, scope)
    row = qs.aggregate(made=Sum("bookings"), undone=Sum("rollbacks"))
    return {"bookings": row["made"] or 0, "rollbacks": row["undone"] or 0}


def source_kpis(
    *, scope: Scope, fig: Figures | None = None, zones: Mapping[int, ZoneInfo] | None = None
) -> SourceKpis:
    """The KPIs of this module for `scope`: with `fig` (the period shown, live days included)
    its counters are used; without it (a comparison period) the rollups are read. `zones`:
    the scope's clinics and their time zones, when the caller has them (else read here).
    Five queries with `zones` (four with `fig`)."""
    if zones is None:
        zones = clinic_zones(scope.clinic_ids)
    refused = refused_overlaps(scope)
    if fig is not None:
        counts = {"bookings": fig.totals.bookings, "rollbacks": fig.totals.rollbacks}
    else:
        counts = _history_counts(scope)
    talks = conversation_figures(scope=scope, zones=zones)
    calls = call_answer_figures(zones=zones, first=scope.first, last=scope.last)
    values: dict[str, Any] = {
        "wrong_bookings": wrong_per_mille(
            counts["rollbacks"], sum(refused.values()), counts["bookings"]
        ),
        # No conversations: "no data yet"; conversations that booked nothing: a true zero.
        "assistant_bookings": talks.bookings if talks.conversations else None,
        "assistant_resolved": ratio(talks.resolved, talks.conversations),
        "assistant_handoff": ratio(talks.handed_over, talks.conversations),
        "assistant_time_to_booking": talks.minutes_to_booking,
        "call_answer": calls.median_seconds if calls is not None else None,
    }
    return SourceKpis(values=values, calls=calls, refused=refused)


def comparison_kpis(
    *,
    scope: Scope,
    zones: Mapping[int, ZoneInfo] | None = None,
    now: datetime.datetime | None = None,
    marks: RollupMarks | None = None,
) -> dict[str, Any]:
    """Every KPI of a comparison period (the previous period, the same dates last year): the
    rollups' with this module's laid over them. A period over before the live days is kept
    in the cache until the rollups next change, as the rolled-up history is: a late edit of
    its conversations, calls or refusals shows with the next refresh, like a late edit of a
    visit. A period that reaches the live days is read afresh. `marks`: where the rollups
    stand, when the caller has read it (`Figures.marks`)."""

    now = now or timezone.now()

    def compute() -> dict[str, Any]:
        return (
            history_kpis(scope=scope, marks=marks)
            | source_kpis(scope=scope, zones=zones).values
            | waitlist_kpis(scope=scope, now=now, zones=zones)
            | request_and_delivery_kpis(scope=scope, zones=zones)
        )

    if not settled(scope, now):
        return compute()
    return through_cache("comparison_kpis", scope.key(), compute, marks=marks)
