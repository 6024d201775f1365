"""Free slots of connector-mode clinics, read through their connector and cached briefly.

Peaks of patients looking at one doctor's week would otherwise each cost a call to the
external system: answers are kept `CONNECTOR_SLOTS_CACHE_SECONDS` in the Django cache (Redis
in production, shared by every worker). A booking bumps the connector's cache version, so the
slot just taken disappears at once for everybody. A slot is always verified live before it is
booked (`scheduling.services.connectors.connector_book`), so a stale cached slot costs a
clear message, never a double booking.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from portal.models import Clinic
from scheduling.choices import BookingMode, ConnectorOperation
from scheduling.connectors import runtime
from scheduling.connectors.base import ConnectorError, ExternalSlot, SlotQuery
from scheduling.models import Appointment, ClinicConnector, Doctor, ExternalBooking, Service


@dataclass(frozen=True)
class ConnectorSlots:
    """What a connector clinic offers; `unavailable` when its system could not be asked (the
    page then offers a booking request instead)."""

    slots: list[ExternalSlot]
    unavailable: bool = False


def connector_of(clinic: Clinic) -> ClinicConnector | None:
    """The enabled connector of a clinic in connector mode, or None."""
    return (
        ClinicConnector.objects.select_related("clinic")
        .filter(
            clinic=clinic,
            is_enabled=True,
            clinic__is_active=True,
            clinic__booking_policy__mode=BookingMode.CONNECTOR,
        )
        .first()
    )


def external_booking_of(appointment: Appointment) -> ExternalBooking | None:
    """The upstream visit a visit of ours mirrors (with its connector), or None."""
    return (
        ExternalBooking.objects.select_related("connector__clinic")
        .filter(appointment=appointment)
        .first()
    )


def _version_key(row: ClinicConnector) -> str:
    return f"connector-slots-version:{row.pk}"


def slots_changed(row: ClinicConnector) -> None:
    """Forget every cached answer of this connector (after a booking or a cancellation)."""
    cache.add(_version_key(row), 1, None)
    try:
        cache.incr(_version_key(row))
    except ValueError:
        cache.set(_version_key(row), 2, None)


def _cache_key(row: ClinicConnector, query: SlotQuery) -> str:
    version = cache.get(_version_key(row), 1)
    raw = "|".join(
        (
            query.service_code,
            str(query.doctor_public_id),
            query.start.isoformat(),
            query.end.isoformat(),
        )
    )
    return f"connector-slots:{row.pk}:{version}:{hashlib.sha256(raw.encode()).hexdigest()[:32]}"


def connector_free_slots(
    *,
    clinic: Clinic,
    service: Service,
    doctor: Doctor | None,
    start: datetime.datetime,
    end: datetime.datetime,
) -> ConnectorSlots:
    """Free slots of `service` (with `doctor` when given) in connector clinic `clinic` that
    start in [start, end). Never raises for the external system's failures."""
    row = connector_of(clinic)
    if row is None:
        return ConnectorSlots([], unavailable=True)
    query = SlotQuery(
        service_code=service.code,
        start=start.astimezone(datetime.UTC),
        end=end.astimezone(datetime.UTC),
        doctor_public_id=doctor.public_id if doctor is not None else None,
    )
    key = _cache_key(row, query)
    cached = cache.get(key)
    if cached is not None:
        return ConnectorSlots(cached)
    try:
        slots = runtime.run(row, ConnectorOperation.FREE_SLOTS, lambda c: c.free_slots(query))
    except ConnectorError:
        return ConnectorSlots([], unavailable=True)
    cache.set(key, slots, settings.CONNECTOR_SLOTS_CACHE_SECONDS)
    return ConnectorSlots(slots)


@dataclass(frozen=True)
class ConnectorDay:
    day: datetime.date
    slots: list[ExternalSlot]


@dataclass(frozen=True)
class ConnectorWeek:
    """A connector clinic's week of one doctor's free times, for the doctor's page."""

    clinic: Clinic
    days: list[ConnectorDay]
    unavailable: bool


def connector_clinic_ids() -> set[int]:
    return set(
        ClinicConnector.objects.filter(
            is_enabled=True,
            clinic__is_active=True,
            clinic__booking_policy__mode=BookingMode.CONNECTOR,
        ).values_list("clinic_id", flat=True)
    )


def connector_week(
    *, clinic: Clinic, service: Service, doctor: Doctor, first: datetime.date, days: int = 7
) -> ConnectorWeek:
    """Free times from `first` for `days` local days of the clinic, grouped by day."""
    tz = clinic.tz
    start = datetime.datetime.combine(first, datetime.time(0), tzinfo=tz)
    end = datetime.datetime.combine(
        first + datetime.timedelta(days=days), datetime.time(0), tzinfo=tz
    )
    found = connector_free_slots(
        clinic=clinic, service=service, doctor=doctor, start=start, end=end
    )
    by_day: dict[datetime.date, list[ExternalSlot]] = {}
    for slot in found.slots:
        by_day.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    return ConnectorWeek(
        clinic=clinic,
        days=[ConnectorDay(day, slots) for day, slots in sorted(by_day.items())],
        unavailable=found.unavailable,
    )
