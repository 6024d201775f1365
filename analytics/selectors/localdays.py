"""Cutting a period at each clinic's own local midnights, for sources that keep only a UTC
instant (conversations, booking requests, freed slots, messages).

A period's first and last dates mean the clinic's local days, as the rollups do: a clinic in
Vladivostok starts its day ten hours before one in Berlin. Rows without a clinic belong to the
network and are cut at the display zone's midnights (`DISPLAY_TIME_ZONE`).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from analytics.selectors.facts import clinic_zones
from analytics.selectors.scope import Scope


def local_span(
    first: datetime.date, last: datetime.date, tz: ZoneInfo
) -> tuple[datetime.datetime, datetime.datetime]:
    """The UTC instants of local midnight starting `first` and ending `last` in `tz` (a
    DST day is 23 or 25 hours long)."""
    lo = datetime.datetime.combine(first, datetime.time.min, tz)
    hi = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min, tz)
    return lo.astimezone(datetime.UTC), hi.astimezone(datetime.UTC)


def local_period(
    scope: Scope,
    field: str,
    *,
    clinic_field: str = "clinic_id",
    with_network: bool = False,
    zones: Mapping[int, ZoneInfo] | None = None,
) -> Q:
    """A filter keeping the rows whose `field` instant falls on the period's local days of
    their clinic, among the scope's clinics (one condition per time zone, not per clinic).

    `with_network`: also keep rows without a clinic, by the display zone's days, when the
    scope is the whole network (a clinic's view never shows them). `zones`: the scope's
    clinics and their zones when the caller has read them already (else one query).
    """
    if zones is None:
        zones = clinic_zones(scope.clinic_ids)
    by_zone: dict[str, list[int]] = defaultdict(list)
    for clinic_id, tz in sorted(zones.items()):
        by_zone[tz.key].append(clinic_id)
    condition = Q(pk__in=[])
    for key, clinic_ids in by_zone.items():
        lo, hi = local_span(scope.first, scope.last, ZoneInfo(key))
        condition |= Q(
            **{f"{clinic_field}__in": clinic_ids, f"{field}__gte": lo, f"{field}__lt": hi}
        )
    if with_network and scope.clinic_ids is None:
        lo, hi = local_span(scope.first, scope.last, ZoneInfo(settings.DISPLAY_TIME_ZONE))
        condition |= Q(**{f"{clinic_field}__isnull": True, f"{field}__gte": lo, f"{field}__lt": hi})
    return condition
