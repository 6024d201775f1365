"""The dashboard's cube (clinic × doctor × service × channel) summed the ways the page reads it.

The tiles and tables read the period's counters by clinic, by clinic × doctor, by service and
by channel, never by the full key. The rolled-up part of a period is kept in the cache in this
shape (a few hundred sums), and the live days' rows are summed into the same shape as they are
read, so a page adds two small values instead of regrouping every key of the period's cube.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from analytics.selectors.facts import Counts, CubeKey
from scheduling.choices import SELF_SERVICE_CHANNELS

K = TypeVar("K")
DoctorKey = tuple[int, int]


@dataclass
class CubeTotals:
    """Counters by clinic, clinic × doctor, service and channel and in all, with the bookings
    made online by clinic, by doctor and in all. Build it with `add` / `add_bookings`, then
    `finish()` (the clinics' sums and the total follow from the doctors')."""

    clinics: dict[int, Counts] = field(default_factory=dict)
    doctors: dict[DoctorKey, Counts] = field(default_factory=dict)
    services: dict[int, Counts] = field(default_factory=dict)
    channels: dict[str, Counts] = field(default_factory=dict)
    online_clinics: dict[int, int] = field(default_factory=dict)
    online_doctors: dict[DoctorKey, int] = field(default_factory=dict)
    total: Counts = field(default_factory=Counts)
    online: int = 0

    def add(self, key: CubeKey, counts: Counts | Mapping[str, Any]) -> None:
        clinic_id, doctor_id, service_id, channel = key
        _at(self.doctors, (clinic_id, doctor_id)).add(counts)
        _at(self.services, service_id).add(counts)
        _at(self.channels, channel).add(counts)
        if channel in SELF_SERVICE_CHANNELS:
            made = counts["bookings"] if isinstance(counts, Mapping) else counts.bookings
            doctor = (clinic_id, doctor_id)
            self.online_doctors[doctor] = self.online_doctors.get(doctor, 0) + made

    def add_bookings(self, key: CubeKey, made: int) -> None:
        """Only bookings made: the live days' first query, a row per key."""
        clinic_id, doctor_id, service_id, channel = key
        _at(self.doctors, (clinic_id, doctor_id)).bookings += made
        _at(self.services, service_id).bookings += made
        _at(self.channels, channel).bookings += made
        if channel in SELF_SERVICE_CHANNELS:
            doctor = (clinic_id, doctor_id)
            self.online_doctors[doctor] = self.online_doctors.get(doctor, 0) + made

    def finish(self) -> CubeTotals:
        """The clinics' sums, the total and the online bookings, from the doctors'."""
        self.clinics, self.online_clinics, self.total = {}, {}, Counts()
        for (clinic_id, doctor_id), counts in self.doctors.items():
            _at(self.clinics, clinic_id).add(counts)
            self.online_clinics[clinic_id] = self.online_clinics.get(
                clinic_id, 0
            ) + self.online_doctors.get((clinic_id, doctor_id), 0)
        for counts in self.clinics.values():
            self.total.add(counts)
        self.online = sum(self.online_doctors.values())
        return self

    def plus(self, other: CubeTotals) -> CubeTotals:
        """The sums of both, as a new value: neither operand changes (one may be cached)."""
        return CubeTotals(
            clinics=_summed(self.clinics, other.clinics),
            doctors=_summed(self.doctors, other.doctors),
            services=_summed(self.services, other.services),
            channels=_summed(self.channels, other.channels),
            online_clinics=_added(self.online_clinics, other.online_clinics),
            online_doctors=_added(self.online_doctors, other.online_doctors),
            total=sum_of(self.total, other.total),
            online=self.online + other.online,
        )


def _at(group: dict[K, Counts], part: K) -> Counts:
    summed = group.get(part)
    if summed is None:
        summed = group[part] = Counts()
    return summed


def sum_of(a: Counts, b: Counts) -> Counts:
    """A new `Counts` holding both."""
    both = Counts()
    both.add(a)
    both.add(b)
    return both


def _summed(base: Mapping[K, Counts], extra: Mapping[K, Counts]) -> dict[K, Counts]:
    summed = dict(base)
    for key, counts in extra.items():
        summed[key] = sum_of(summed[key], counts) if key in summed else counts
    return summed


def _added(base: Mapping[K, int], extra: Mapping[K, int]) -> dict[K, int]:
    added = dict(base)
    for key, n in extra.items():
        added[key] = added.get(key, 0) + n
    return added
