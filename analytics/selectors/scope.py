"""Who may see which clinics' figures, and the filters of one dashboard view."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet

from portal import permissions
from portal.types import RequestUser


@dataclass(frozen=True)
class Scope:
    """One view of the figures: the clinics (None: the whole network), the optional specialty
    and doctor, and the period's first and last local dates (inclusive)."""

    clinic_ids: frozenset[int] | None
    first: datetime.date
    last: datetime.date
    specialty_id: int | None = None
    doctor_id: int | None = None

    def key(self) -> tuple[object, ...]:
        """The scope as a part of a cache key (the clinics in a stable order)."""
        clinics = None if self.clinic_ids is None else tuple(sorted(self.clinic_ids))
        return (clinics, self.first, self.last, self.specialty_id, self.doctor_id)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Scope:
        """The same number of days just before."""
        shift = datetime.timedelta(days=self.days)
        return replace(self, first=self.first - shift, last=self.last - shift)

    def last_year(self) -> Scope:
        """The same dates a year earlier (29 February becomes the 28th)."""
        return replace(self, first=_year_back(self.first), last=_year_back(self.last))


def _year_back(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def visible_clinic_ids(user: RequestUser) -> frozenset[int] | None:
    """Clinics whose figures `user` may see (None: all); refuses anyone without the right."""
    if not permissions.has_capability(user, "analytics.view"):
        raise PermissionDenied
    ids = permissions.clinic_ids_with(user, "analytics.view")
    return None if ids is None else frozenset(ids)


def narrowed(visible: frozenset[int] | None, clinic_id: int | None) -> frozenset[int] | None:
    """The clinics to show: the chosen one (which must be visible), else all visible."""
    if clinic_id is None:
        return visible
    if visible is not None and clinic_id not in visible:
        raise PermissionDenied
    return frozenset({clinic_id})


M = TypeVar("M", bound=Model)


def in_scope(
    qs: QuerySet[M],
    scope: Scope,
    *,
    via: str = "",
    specialty_via: str | None = "service__specialty",
) -> QuerySet[M]:
    """`qs` narrowed to the scope's clinics, doctor and specialty; `via` prefixes the doctor's
    and the service's lookups (rows reached through another model), `specialty_via` is the lookup
    of the row's specialty (a doctor's: through their specialties; None: rows with none)."""
    if scope.clinic_ids is not None:
        qs = qs.filter(clinic_id__in=scope.clinic_ids)
    if scope.doctor_id is not None:
        qs = qs.filter(**{f"{via}doctor_id": scope.doctor_id})
    if scope.specialty_id is not None and specialty_via:
        qs = qs.filter(**{f"{via}{specialty_via}": scope.specialty_id})
    return qs
